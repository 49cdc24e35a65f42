// Audits the shared corpora as a user would: each upstream directory's files together (they belong
// together: a workload in one file, its Service in the next), objects without a namespace in `default`.
// ../shared/corpus and ../shared/corpus-next are judged apart (expectations.json, expectations-next.json),
// keyed by paths relative to their folder.
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { parseConfig } from '../../src/config/load.ts'

export const CORPUS = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url))
export const CORPUS_NEXT = fileURLToPath(new URL('../../../shared/corpus-next/', import.meta.url))

export interface CorpusFinding {
  /** `file|Kind/name|rule|container|level`: what the expectations are keyed by. */
  key: string
  message: string
  because?: string
}

function directories(root: string): string[] {
  const found = new Set<string>()
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (/\.(ya?ml|json)$/.test(name)) found.add(dirname(path))
    }
  }
  walk(root)
  return [...found].sort()
}

/** `root`: ../shared/corpus, or another tree laid out the same way (../shared/corpus-next). */
export async function auditCorpus(root: string = CORPUS): Promise<{ findings: CorpusFinding[]; errors: string[] }> {
  const config = parseConfig('', 'default')
  const findings: CorpusFinding[] = []
  const errors: string[] = []
  for (const dir of directories(root)) {
    const files = readdirSync(dir).filter((name) => /\.(ya?ml|json)$/.test(name)).map((name) => join(dir, name))
    const loaded = await loadManifests(files)
    const result = auditManifests(loaded.manifests, config, { defaultNamespace: 'default' })
    for (const error of [...loaded.errors, ...result.errors]) errors.push(`${relative(root, error.file)}:${error.line ?? ''} ${error.message}`)
    for (const f of result.findings) {
      const key = [relative(root, f.manifest.file), `${f.object.kind}/${f.object.name}`, f.rule, f.container ?? '-', f.level].join('|')
      // A rule may find several things in one object that are not about a container (two backends of
      // one route): the second and later get #2, #3… in their order.
      const seen = findings.filter((other) => other.key === key || other.key.startsWith(`${key}#`)).length
      findings.push({ key: seen === 0 ? key : `${key}#${seen + 1}`, message: f.message, ...(f.because ? { because: f.because } : {}) })
    }
  }
  return { findings, errors }
}
