// Applies hitless's JSON Patch operations to YAML text by splicing at the exact node positions, so
// comments, key order, quoting and every untouched line stay as they were. The result is re-parsed and
// compared with the JSON-patched object; if they differ, the document is rewritten through yaml's
// Document API instead (correct, but may reformat).
import { isDeepStrictEqual } from 'node:util'
import fastJsonPatch from 'fast-json-patch'
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type YAMLMap } from 'yaml'
import { quoteAmbiguous, toYaml } from '../model/yaml-write.ts'
import { parsePointer } from '../model/json-pointer.ts'
import type { PatchOperation } from '../model/types.ts'

export interface DocumentEdit {
  documentIndex: number
  /** Path to the object inside its document (kind: List items). */
  pathInDocument: (string | number)[]
  ops: PatchOperation[]
}

interface Splice {
  at: number
  remove: number
  insert: string
}

/** Pointer tokens with array indices as numbers, as yaml's getIn wants them. */
function tokens(pointer: string): (string | number)[] {
  return parsePointer(pointer).map((t) => (/^\d+$/.test(t) ? Number(t) : t))
}

/** The offset just past the line holding the last non-blank character before `end`. */
function endOfContentLine(text: string, end: number): number {
  while (end > 0 && /\s/.test(text[end - 1]!)) end--
  const lineEnd = text.indexOf('\n', end)
  return lineEnd === -1 ? text.length : lineEnd + 1
}

/** Removes a key of a block map: its lines, from the key's line to the end of its value's last line. */
function removalFor(text: string, doc: Document, path: (string | number)[]): Splice | undefined {
  const parent = doc.getIn(path.slice(0, -1), true)
  if (!isMap(parent) || parent.flow || parent.items.length < 2) return undefined
  const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(path.at(-1)))
  const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range
  const valueRange = (pair?.value as { range?: [number, number, number] } | undefined)?.range
  if (!keyRange || !valueRange) return undefined
  const lineStart = text.lastIndexOf('\n', keyRange[0] - 1) + 1
  if (text.slice(lineStart, keyRange[0]).trim() !== '') return undefined // not alone on its line (`- key:`)
  const end = endOfContentLine(text, valueRange[1])
  return { at: lineStart, remove: end - lineStart, insert: '' }
}

function spliceFor(text: string, doc: Document, lines: LineCounter, op: PatchOperation, base: (string | number)[]): Splice | undefined {
  if (op.op === 'remove') return removalFor(text, doc, [...base, ...tokens(op.path)])
  if (op.op !== 'add' && op.op !== 'replace') return undefined
  const path = [...base, ...tokens(op.path)]
  const existing = doc.getIn(path, true)
  if (isScalar(existing) && existing.range && (typeof op.value !== 'object' || op.value === null)) {
    const [start, end] = existing.range
    return { at: start, remove: end - start, insert: toYaml(op.value).trimEnd() }
  }
  if (existing !== undefined) return undefined
  const parent = doc.getIn(path.slice(0, -1), true)
  const key = String(path.at(-1))
  if (!isMap(parent) || !parent.range) return undefined
  const map = parent as YAMLMap
  if (map.flow) {
    const close = map.range![1] - 1
    if (text[close] !== '}') return undefined
    const value = toYaml(op.value, { collectionStyle: 'flow', lineWidth: 0 }).trim()
    return { at: close, remove: 0, insert: `${map.items.length > 0 ? ', ' : ''}${key}: ${value}` }
  }
  const firstKey = map.items[0]?.key as { range?: [number, number, number] } | undefined
  const last = map.items.at(-1)?.value as { range?: [number, number, number] } | undefined
  if (!firstKey?.range || !last?.range) return undefined
  const indent = ' '.repeat(lines.linePos(firstKey.range[0]).col - 1)
  // After the line that holds the map's last content: a node's range can run on over the blank lines
  // and the newline that end its document, and inserting there would glue the new lines to the next
  // `---` (or leave a blank line and drop the file's final newline).
  let end = last.range[1]
  while (end > 0 && /\s/.test(text[end - 1]!)) end--
  const lineEnd = text.indexOf('\n', end)
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const at = lineEnd === -1 ? text.length : text[lineEnd - 1] === '\r' ? lineEnd - 1 : lineEnd
  const body = toYaml({ [key]: op.value }, { indent: 2 }).trimEnd().split('\n').map((line) => indent + line).join(eol)
  return { at, remove: 0, insert: `${eol}${body}` }
}

/** The file's text with the edits applied; `formatted` says the fallback rewrite was needed. */
export function applyEditsToYaml(text: string, edits: DocumentEdit[]): { text: string; formatted: boolean } {
  const lines = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lines }) as Document[]
  const splices: Splice[] = []
  let spliceable = true
  for (const edit of edits) {
    for (const op of edit.ops) {
      const splice = spliceFor(text, docs[edit.documentIndex]!, lines, op, edit.pathInDocument)
      if (splice) splices.push(splice)
      else spliceable = false
    }
  }
  const expected = docs.map((doc) => doc.toJS())
  for (const edit of edits) {
    const target = edit.pathInDocument.reduce<any>((node, token) => node[token], expected[edit.documentIndex])
    fastJsonPatch.applyPatch(target, structuredClone(edit.ops), false, true)
  }
  if (spliceable) {
    let result = text
    for (const splice of splices.sort((a, b) => b.at - a.at)) {
      result = result.slice(0, splice.at) + splice.insert + result.slice(splice.at + splice.remove)
    }
    const reparsed = parseAllDocuments(result) as Document[]
    if (reparsed.every((doc) => doc.errors.length === 0) && isDeepStrictEqual(reparsed.map((doc) => doc.toJS()), expected)) {
      return { text: result, formatted: false }
    }
  }
  for (const edit of edits) {
    const doc = docs[edit.documentIndex]!
    doc.contents = doc.createNode(expected[edit.documentIndex]) as Document['contents']
    // Rebuilt from values, its scalars have lost their quotes: written so YAML 1.1 reads what we read.
    quoteAmbiguous(doc)
  }
  // Rewritten, but with the file's own byte order mark, line endings and final newline.
  let rewritten = docs.map((doc) => doc.toString()).join('')
  if (text.includes('\r\n')) rewritten = rewritten.replace(/\r?\n/g, '\r\n')
  if (!/\n$/.test(text)) rewritten = rewritten.replace(/\r?\n$/, '')
  if (text.startsWith('\uFEFF') && !rewritten.startsWith('\uFEFF')) rewritten = `\uFEFF${rewritten}`
  return { text: rewritten, formatted: true }
}
