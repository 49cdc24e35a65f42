// Reads manifests for audits: files and directories (recursive *.yaml, *.yml, *.json), or stdin;
// multi-document YAML, `kind: List`, Helm `template` output (its `# Source:` comments name the chart
// file), kustomize build output. A document that does not parse is an error with file and line; the
// other documents are still read.
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import jsYaml, { CORE_SCHEMA, load, type Type } from 'js-yaml'
import { LineCounter, parseDocument } from 'yaml'
import type { KubeObject } from '../model/types.ts'

export interface Manifest {
  object: KubeObject
  /** Where it was read: a path, or `-` for stdin. */
  file: string
  /** 1-based line of the object in that input. */
  line: number
  /** The chart template it came from, from Helm's `# Source:` comment. */
  source?: string
  /** For a document holding several objects (kind: List): path tokens to this one. */
  pathInDocument: (string | number)[]
  /** The index of its YAML document in the file. */
  documentIndex: number
}

// YAML 1.2 scalars as the API server reads them, plus merge keys (`<<: *defaults`), which kubectl and
// Helm resolve too.
const SCHEMA = CORE_SCHEMA.extend({ implicit: [(jsYaml as unknown as { types: { merge: Type } }).types.merge] })

export interface InputError {
  file: string
  line?: number
  message: string
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
/** Go template actions left in a file: a chart's templates/ read directly instead of `helm template`. */
const UNRENDERED = /\{\{-?\s*[.$a-zA-Z(/]/
const SKIPPED_DIRS = new Set(['.git', 'node_modules'])

async function expand(path: string, into: string[], errors: InputError[]): Promise<void> {
  if (path === '-') return void into.push('-')
  let info
  try {
    info = await stat(path)
  } catch (error) {
    return void errors.push({ file: path, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` })
  }
  if (!info.isDirectory()) return void into.push(path)
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  for (const entry of entries) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await expand(child, into, errors)
    } else if (EXTENSIONS.has(extname(entry.name))) into.push(child)
  }
}

async function readText(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Whether a mapping was used as a key somewhere (js-yaml turns it into the key "[object Object]"). */
function hasMappingKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasMappingKey)
  if (typeof value !== 'object' || value === null) return false
  return Object.entries(value).some(([key, child]) => key === '[object Object]' || hasMappingKey(child))
}

function isObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export interface DocumentRegion {
  /** Character offsets into the input: the regions of a file tile it exactly, markers and comments included. */
  start: number
  end: number
  text: string
  /** 1-based line where the region starts. */
  startLine: number
}

/**
 * Splits a stream into one region per YAML document, at `---` lines (comment lines right before a
 * marker, where Helm puts `# Source:`, go with the document after it) and after `...` lines. Audits
 * and `fix` both address documents by their index in this list.
 */
export function documentRegions(text: string): DocumentRegion[] {
  const lines = text.split('\n')
  const lineStarts: number[] = []
  let offset = 0
  for (const line of lines) {
    lineStarts.push(offset)
    offset += line.length + 1
  }
  const boundaries = [0]
  lines.forEach((line, i) => {
    if (i > 0 && /^---(\s|$)/.test(line)) {
      let first = i
      while (first - 1 >= boundaries.at(-1)! && /^\s*#/.test(lines[first - 1]!)) first--
      if (first > boundaries.at(-1)!) boundaries.push(first)
    } else if (/^\.\.\.(\s|$)/.test(line) && i + 1 < lines.length) boundaries.push(i + 1)
  })
  return boundaries.map((line, i) => {
    const start = lineStarts[line]!
    const end = i + 1 < boundaries.length ? lineStarts[boundaries[i + 1]!]! : text.length
    return { start, end, text: text.slice(start, end), startLine: line + 1 }
  })
}

/** The first line that holds content (not blank, a comment or a bare marker), and Helm's `# Source:`. */
function firstContent(document: DocumentRegion): { line: number; source?: string } {
  const lines = document.text.split('\n')
  let source: string | undefined
  for (const [i, line] of lines.entries()) {
    const helm = /^\s*#\s*Source: (\S+)/.exec(line)
    if (helm) source = helm[1]
    const content = line.replace(/^(---|\.\.\.)(\s|$)/, '').trim()
    if (content !== '' && !content.startsWith('#')) return { line: document.startLine + i, ...(source ? { source } : {}) }
  }
  return { line: document.startLine, ...(source ? { source } : {}) }
}

/** Lines of the items of a `kind: List` document: positions need the full YAML AST, rarely used. */
function itemLines(document: DocumentRegion): number[] {
  const lines = new LineCounter()
  const parsed = parseDocument(document.text, { lineCounter: lines })
  const items = (parsed.getIn(['items'], true) as { items?: { range?: [number, number, number] }[] } | undefined)?.items ?? []
  return items.map((item) => (item.range ? document.startLine + lines.linePos(item.range[0]).line - 1 : document.startLine))
}

/**
 * Parses one input's text into manifests and errors. Values come from js-yaml (CORE schema: YAML 1.2
 * scalars, no timestamps, as the API server reads them), several times faster than a full AST.
 */
export function parseManifests(text: string, file: string): { manifests: Manifest[]; errors: InputError[] } {
  const manifests: Manifest[] = []
  const errors: InputError[] = []
  let lastSource: string | undefined
  for (const [documentIndex, document] of documentRegions(text).entries()) {
    let value: unknown
    try {
      value = load(document.text, { schema: SCHEMA, filename: file })
    } catch (error) {
      const mark = (error as { mark?: { line: number } }).mark
      const reason = (error as { reason?: string }).reason ?? (error as Error).message
      const hint = UNRENDERED.test(document.text) ? ' (it holds {{ … }} template placeholders: audit the rendered output, e.g. `helm template`)' : ''
      errors.push({ file, ...(mark ? { line: document.startLine + mark.line } : {}), message: `invalid YAML: ${reason}${hint}` })
      continue
    }
    if (value === null || value === undefined) continue
    const { line, source: own } = firstContent(document)
    // Helm writes `# Source:` once per template: the other documents of that template carry none.
    const source = own ?? lastSource
    if (own) lastSource = own
    const base = { file, documentIndex, ...(source ? { source } : {}) }
    // An unquoted `{{ x }}` is a mapping; as a key it has no JSON form (the API server cannot read the
    // document), and `name: {{ .Release.Name }}` is no name: a chart's templates read directly.
    // Placeholders inside strings (Argo's "{{args.x}}") are valid values and stay.
    if (isObject(value) && isObject(value.metadata) && typeof value.metadata.name === 'object' && UNRENDERED.test(document.text)) {
      errors.push({ file, line, message: 'looks like an unrendered Helm template ({{ … }}): audit the output of `helm template` instead' })
      continue
    }
    if (UNRENDERED.test(document.text) && hasMappingKey(value)) {
      errors.push({ file, line, message: 'invalid: a {{ … }} placeholder used as a mapping key; quote it, or audit the rendered output' })
      continue
    }
    if (!isObject(value) || typeof value.kind !== 'string') {
      errors.push({ file, line, message: 'not a Kubernetes object (no kind)' })
      continue
    }
    if (value.kind === 'List' || (value.kind.endsWith('List') && Array.isArray(value['items']))) {
      const lines = itemLines(document)
      ;(value['items'] as unknown[]).forEach((item, i) => {
        if (isObject(item) && typeof item.kind === 'string') manifests.push({ ...base, object: item, line: lines[i] ?? line, pathInDocument: ['items', i] })
      })
      continue
    }
    manifests.push({ ...base, object: value, line, pathInDocument: [] })
  }
  return { manifests, errors }
}

/** Files a directory holds beside manifests: a chart's metadata and values, CI and tool configs. */
function notManifests(text: string): boolean {
  return !/^kind:\s*\S/m.test(text) && !/"kind"\s*:/.test(text)
}

export async function loadManifests(paths: string[]): Promise<{ manifests: Manifest[]; errors: InputError[]; files: number; skipped: string[] }> {
  const files: string[] = []
  const errors: InputError[] = []
  const skipped: string[] = []
  const named = new Set(paths)
  for (const path of paths.length > 0 ? paths : ['-']) await expand(path, files, errors)
  const manifests: Manifest[] = []
  for (const file of files) {
    let text: string
    try {
      text = await readText(file)
    } catch (error) {
      errors.push({ file, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` })
      continue
    }
    // Found in a directory and holding no `kind:` at all (Chart.yaml, values.yaml, .gitlab-ci.yml):
    // not an input error, only skipped.
    if (!named.has(file) && file !== '-' && notManifests(text)) {
      skipped.push(file)
      continue
    }
    const parsed = parseManifests(text, file)
    manifests.push(...parsed.manifests)
    errors.push(...parsed.errors)
  }
  return { manifests, errors, files: files.length - skipped.length, skipped }
}
