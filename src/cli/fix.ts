// `hitless fix`: applies the findings whose action is mutate (and that no exemption covers) to the
// YAML files, as the webhook would patch them. Prints a unified diff; --write changes the files.
// Untouched lines keep their formatting and comments; running it twice changes nothing.
import { readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, relative } from 'node:path'
import { createTwoFilesPatch } from 'diff'
import { documentRegions, loadManifests } from '../audit/manifests.ts'
import { auditManifests, type AuditFinding } from '../audit/run.ts'
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts'
import { applyEditsToYaml, type DocumentEdit } from '../fix/yaml-splice.ts'
import { setting, UsageError } from './options.ts'

function editsByFile(findings: AuditFinding[]): Map<string, DocumentEdit[]> {
  const byFile = new Map<string, Map<string, DocumentEdit>>()
  for (const finding of findings) {
    if (finding.action !== 'mutate' || finding.exemption?.honoured || !finding.patch?.length) continue
    const { file, documentIndex, pathInDocument } = finding.manifest
    const edits = byFile.get(file) ?? new Map<string, DocumentEdit>()
    byFile.set(file, edits)
    const key = `${documentIndex}:${pathInDocument.join('.')}`
    const edit = edits.get(key) ?? { documentIndex, pathInDocument, ops: [] }
    edit.ops.push(...finding.patch)
    edits.set(key, edit)
  }
  return new Map([...byFile].map(([file, edits]) => [file, [...edits.values()]]))
}

/** git-style a/ b/ paths: relative to the working directory when the file is under it. */
function diffPath(file: string): string {
  const inside = relative(process.cwd(), file)
  return inside.startsWith('..') || isAbsolute(inside) ? file.replace(/^\/+/, '') : inside
}

export interface FixOptions {
  write?: boolean
  config?: string
  namespace?: string
}

export async function fix(positionals: string[], values: FixOptions): Promise<number> {
  if (positionals.length === 0 || positionals.includes('-')) throw new UsageError('fix works on files: give paths (stdin cannot be written back)')
  const config = await loadConfig(setting(values.config, 'HITLESS_CONFIG', DEFAULT_CONFIG_PATH))
  const { manifests, errors } = await loadManifests(positionals)
  const result = auditManifests(manifests, config, { defaultNamespace: values.namespace ?? 'default' })
  for (const error of [...errors, ...result.errors]) process.stderr.write(`hitless fix: ${error.file}${error.line ? `:${error.line}` : ''}: ${error.message}\n`)
  let changed = 0
  for (const [file, edits] of editsByFile(result.findings)) {
    const before = await readFile(file, 'utf8')
    const regions = documentRegions(before)
    let formatted = false
    const after = regions
      .map((region, index) => {
        const own = edits.filter((edit) => edit.documentIndex === index).map((edit) => ({ ...edit, documentIndex: 0 }))
        if (own.length === 0) return region.text
        const edited = applyEditsToYaml(region.text, own)
        formatted ||= edited.formatted
        return edited.text
      })
      .join('')
    if (after === before) continue
    changed++
    if (formatted) process.stderr.write(`hitless fix: ${file}: could not keep the original formatting; the document was rewritten\n`)
    if (values.write) await writeFile(file, after)
    else process.stdout.write(createTwoFilesPatch(`a/${diffPath(file)}`, `b/${diffPath(file)}`, before, after, '', '', { context: 3 }))
  }
  process.stderr.write(`hitless fix: ${changed} file${changed === 1 ? '' : 's'} ${values.write ? 'changed' : 'would change'}\n`)
  return errors.length + result.errors.length > 0 ? 2 : 0
}
