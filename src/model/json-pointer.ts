// RFC 6901 pointers. Keys such as annotation names contain '/' and '~'; they must be escaped
// or a patch silently writes to the wrong place.
export type PathToken = string | number

export function escapeToken(token: PathToken): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1')
}

export function pointer(tokens: readonly PathToken[]): string {
  return tokens.map((t) => '/' + escapeToken(t)).join('')
}

/** The tokens of a pointer, unescaped (~1 before ~0, as RFC 6901 says): '/a~1b/0' → ['a/b', '0']. */
export function parsePointer(path: string): string[] {
  return path.split('/').slice(1).map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'))
}
