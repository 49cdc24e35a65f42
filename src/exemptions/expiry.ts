import { EXEMPT_ANNOTATION, UNTIL_ANNOTATION } from './annotations.ts'

// exempt-until: an RFC 3339 date (valid through the end of that day, UTC) or date-time.
const DATE = /^\d{4}-\d{2}-\d{2}$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const DAY_MS = 24 * 60 * 60 * 1000

/** The instant the exemption stops counting, or undefined when the text is not RFC 3339. */
export function expiryInstant(text: string): Date | undefined {
  if (DATE.test(text)) {
    const start = Date.parse(`${text}T00:00:00Z`)
    return Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== text ? undefined : new Date(start + DAY_MS)
  }
  if (!DATE_TIME.test(text)) return undefined
  const instant = Date.parse(text.replace(' ', 'T'))
  return Number.isNaN(instant) ? undefined : new Date(instant)
}

/**
 * Why an audit should point out the exemption in `annotations`: its exempt-until has passed. The webhook
 * stopped honouring it then; admission policies from `hitless export-policies` cannot tell (CEL has no
 * clock) and still do, so it has to go, or be renewed, by hand.
 */
export function expiredExemptionNotice(annotations: Record<string, string> | undefined, now: Date): string | undefined {
  const list = annotations?.[EXEMPT_ANNOTATION]
  const until = annotations?.[UNTIL_ANNOTATION]?.trim()
  if (list === undefined || !until) return undefined
  const expiry = expiryInstant(until)
  if (!expiry || expiry.getTime() > now.getTime()) return undefined
  return `${EXEMPT_ANNOTATION}: "${list}" expired on ${until}: the webhook no longer honours it, admission policies (hitless export-policies, which have no clock) still do; remove it or renew it`
}
