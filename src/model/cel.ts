// Writing CEL text (the admission policies of `hitless export-policies`): literals that mean the same to
// Kubernetes' CEL (cel-go) and to the JavaScript CEL the tests evaluate them with.

/** A CEL string literal for `text`. */
export function q(text: string): string {
  const escapes: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\f': '\\f', '\v': '\\v' }
  return `'${text.replace(/[\\'\n\r\t\f\v]/g, (c) => escapes[c]!)}'`
}

/** A CEL list of string literals. */
export const qList = (items: Iterable<string>) => `[${[...items].map(q).join(', ')}]`

/** `text` as a regular expression that matches it literally (the same in RE2 and JavaScript). */
export const regexLiteral = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A CEL literal for a JSON value (strings, whole numbers, booleans, null, lists, maps with string keys). */
export function celValue(value: unknown): string {
  if (typeof value === 'string') return q(value)
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'boolean' || value === null) return String(value)
  if (Array.isArray(value)) return `[${value.map(celValue).join(', ')}]`
  if (typeof value === 'object') return `{${Object.entries(value).map(([key, item]) => `${q(key)}: ${celValue(item)}`).join(', ')}}`
  throw new Error(`no CEL literal for ${String(value)}`)
}

/**
 * The CEL conditional `test ? then : otherwise`, always in parentheses. cel-go (the API server's CEL)
 * takes no unparenthesised conditional in a conditional's then-branch (`a ? b ? c : d : e` is a syntax
 * error there, though other CEL parsers accept it), and precedence never has to be thought about where
 * a conditional is spliced into a larger expression. Every conditional hitless writes goes through it.
 */
export const cond = (test: string, then: string, otherwise: string) => `(${test} ? ${then} : ${otherwise})`
