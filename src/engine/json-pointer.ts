// RFC 6901 pointers. Keys such as annotation names contain '/' and '~'; they must be escaped
// or a patch silently writes to the wrong place.
export type PathToken = string | number

export function escapeToken(token: PathToken): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1')
}

export function pointer(tokens: readonly PathToken[]): string {
  return tokens.map((t) => '/' + escapeToken(t)).join('')
}

/** A dotted, human form for messages: spec.template.spec.containers[0].lifecycle */
export function fieldPath(tokens: readonly PathToken[]): string {
  return tokens
    .map((t, i) => (typeof t === 'number' ? `[${t}]` : i === 0 ? t : `.${t}`))
    .join('')
}
