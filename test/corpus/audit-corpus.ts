// Audits ../shared/corpus as a user would: each upstream directory's files together (they belong
// together: a workload in one file, its Service in the next), objects without a namespace in `default`.
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { parseConfig } from '../../src/config/load.ts'

export const CORPUS = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url))

export interface CorpusFinding {
  /** `file|Kind/name|rule|container|level`: what the expectations are keyed by. */
  key: string
  message: string
}

function directories(): string[] {
  const found = new Set<string>()
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (/\.(ya?ml|json)$/.test(name)) found.add(dirname(path))
    }
  }
  walk(CORPUS)
  return [...found].sort()
}

export async function auditCorpus(): Promise<{ findings: CorpusFinding[]; errors: string[] }> {
  const config = parseConfig('', 'default')
  const findings: CorpusFinding[] = []
  const errors: string[] = []
  for (const dir of directories()) {
    const files = readdirSync(dir).filter((name) => /\.(ya?ml|json)$/.test(name)).map((name) => join(dir, name))
    const loaded = await loadManifests(files)
    const result = auditManifests(loaded.manifests, config, { defaultNamespace: 'default' })
    for (const error of [...loaded.errors, ...result.errors]) errors.push(`${relative(CORPUS, error.file)}:${error.line ?? ''} ${error.message}`)
    for (const f of result.findings) {
      findings.push({ key: [relative(CORPUS, f.manifest.file), `${f.object.kind}/${f.object.name}`, f.rule, f.container ?? '-', f.level].join('|'), message: f.message })
    }
  }
  return { findings, errors }
}
