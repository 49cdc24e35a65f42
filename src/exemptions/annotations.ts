// The exemption annotations (contract keys) as written on an object or a Namespace, parsed but not
// yet judged.
import type { ExemptionSource, KubeObject } from '../model/types.ts'

export const EXEMPT_ANNOTATION = 'hitless.dev/exempt'
export const REASON_ANNOTATION = 'hitless.dev/exempt-reason'
export const UNTIL_ANNOTATION = 'hitless.dev/exempt-until'
/** The proof that an approver approved the object's exemption (record.ts), written by the mutating webhook. */
export const APPROVAL_ANNOTATION = 'hitless.dev/exempt-approval'
const KEYS = [EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION] as const

export type { ExemptionSource }

export interface ExemptionEntry {
  /** A rule id, or '*' for every rule. */
  rule: string
  /** Only this container, when given as `rule:container`. */
  container?: string
}

export interface ExemptionAnnotations {
  source: ExemptionSource
  entries: ExemptionEntry[]
  reason?: string
  /** The exempt-until text as written. */
  until?: string
}

/** `pre-stop, readiness-probe:metrics` → entries; blanks are ignored. */
export function parseExemptList(text: string): ExemptionEntry[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map((item) => {
      const colon = item.indexOf(':')
      if (colon < 0) return { rule: item }
      const container = item.slice(colon + 1).trim()
      return { rule: item.slice(0, colon).trim(), ...(container ? { container } : {}) }
    })
}

export function readExemptionAnnotations(
  annotations: Record<string, string> | undefined,
  source: ExemptionSource,
): ExemptionAnnotations | undefined {
  const list = annotations?.[EXEMPT_ANNOTATION]
  if (list === undefined) return undefined
  const reason = annotations?.[REASON_ANNOTATION]?.trim()
  const until = annotations?.[UNTIL_ANNOTATION]?.trim()
  return { source, entries: parseExemptList(list), ...(reason ? { reason } : {}), ...(until ? { until } : {}) }
}

/** Whether a request adds or changes any of the three annotations (so approvers must agree). */
export function exemptionChanged(object: KubeObject | null, oldObject: KubeObject | null): boolean {
  if (!oldObject) return KEYS.some((key) => object?.metadata?.annotations?.[key] !== undefined)
  return KEYS.some((key) => object?.metadata?.annotations?.[key] !== oldObject.metadata?.annotations?.[key])
}
