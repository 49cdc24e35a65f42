// The one way hitless writes YAML (decision 0020): what it writes must mean the same to a YAML 1.1
// reader (kubectl, Helm, every Go program reading YAML with sigs.k8s.io/yaml or gopkg.in/yaml.v2) as to
// a YAML 1.2 one. A string that YAML 1.1 (or 1.2) would read as a boolean, number, null or timestamp —
// off, on, yes, no, y, n in any case, ~, null, 0755, 1_000, 0x1f, 12:30, .inf, .nan, 2026-07-01 — is
// written quoted. Used by export-policies, `fix --write`, policy reports, one-line fixes and fix snippets.
import { dump } from 'js-yaml'
import { Document, parse, Scalar, visit, type CreateNodeOptions, type DocumentOptions, type SchemaOptions, type ToStringOptions } from 'yaml'
import { BoundedMemo } from './bounded-memo.ts'

const MAX_AMBIGUOUS_LENGTH = 64
// YAML 1.1's timestamp (yaml.org/type/timestamp), which the `yaml` library's 1.1 schema reads as a string.
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/
const seen = new BoundedMemo<boolean>(10_000)

/** Whether `text`, written as a plain scalar, is read as anything but this string by YAML 1.1 or 1.2. */
export function ambiguousPlain(text: string): boolean {
  if (text.length === 0 || text.length > MAX_AMBIGUOUS_LENGTH || text.includes('\n')) return false
  return seen.get(text, () => TIMESTAMP.test(text) || [parseAs(text, '1.1'), parseAs(text, '1.2')].some((value) => value !== text))
}

function parseAs(text: string, version: '1.1' | '1.2'): unknown {
  try {
    return parse(text, { version, logLevel: 'silent' })
  } catch {
    return undefined
  }
}

/** Quotes, in `document`, every plain string scalar (key or value) that a YAML 1.1 reader would read otherwise. */
export function quoteAmbiguous(document: Document.Parsed | Document): void {
  visit(document, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && (node.type === undefined || node.type === Scalar.PLAIN) && ambiguousPlain(node.value)) node.type = Scalar.QUOTE_DOUBLE
    },
  })
}

/** A Document of `value` whose strings read the same in YAML 1.1 and 1.2. */
export function yamlDocument(value: unknown, options: DocumentOptions & SchemaOptions & CreateNodeOptions = {}): Document {
  const document = new Document(value, options)
  quoteAmbiguous(document)
  return document
}

/** `value` as YAML that reads the same in YAML 1.1 and 1.2 (the `yaml` library's stringify options). */
export function toYaml(value: unknown, options: DocumentOptions & SchemaOptions & CreateNodeOptions & ToStringOptions = {}): string {
  return yamlDocument(value, options).toString(options)
}

function hasAmbiguousString(node: unknown): boolean {
  if (typeof node === 'string') return ambiguousPlain(node)
  if (Array.isArray(node)) return node.some(hasAmbiguousString)
  if (typeof node === 'object' && node !== null) return Object.entries(node).some(([key, item]) => ambiguousPlain(key) || hasAmbiguousString(item))
  return false
}

/**
 * Block YAML for small snippets (fix snippets, one per finding): js-yaml's dump, several times faster
 * than the `yaml` library (decision 0007), which already quotes YAML 1.1's booleans, octals and
 * timestamps; where a string is still ambiguous (1_000), the `yaml` library's writer above.
 */
export function snippetYaml(node: unknown): string {
  // Every review of the same workload asks for the same snippets, and writing one costs more than all
  // the rules' checks of a review together (BENCHMARKS.md, CPU per review): they are kept by their
  // JSON, which names the value exactly (snippets are built from JSON values: the review's and literals).
  return snippets.get(JSON.stringify(node), () =>
    hasAmbiguousString(node)
      ? toYaml(node, { indent: 2, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false }).trimEnd()
      : dump(node, { indent: 2, noArrayIndent: true, noRefs: true, lineWidth: -1 }).trimEnd(),
  )
}
/** Bounded: a hostile stream of distinct workloads costs a clear now and then, never memory. */
const snippets = new BoundedMemo<string>(2_000)

