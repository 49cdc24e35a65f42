// RFC 6901 pointers. Keys such as annotation names contain '/' and '~'; they must be escaped
// or a patch silently writes to the wrong place.
export type PathToken = string | number

export function escapeToken(token: PathToken): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1')
}

export function pointer(tokens: readonly PathToken[]): string {
  return tokens.map((t) => '/' + escapeToken(t)).join('')
}
