// Decides whether an exemption counts. One that does not is never silent: its verdict says why
// (no reason, expired, too long, not an approver, rule not exemptible), and unknown rule ids become
// notices shown with the answer.
import {
  readExemptionAnnotations,
  REASON_ANNOTATION,
  UNTIL_ANNOTATION,
  type ExemptionAnnotations,
  type ExemptionSource,
} from './annotations.ts'
import type { ExemptionVerdict, UserInfo } from '../model/types.ts'
import { isApprover } from './approval.ts'
import { expiryInstant } from './expiry.ts'

export interface ExemptionPolicy {
  requireReason: boolean
  /** Longest allowed exemption; 0 means no limit (and no expiry required). */
  maxDays: number
  approvers: { users: string[]; groups: string[] }
  forbiddenRules: string[]
}

export type { ExemptionVerdict, UserInfo }

export interface ExemptionContext {
  now: Date
  policy: ExemptionPolicy
  knownRules: ReadonlySet<string>
  /** Who sent the request; absent outside admission (CLI audits), where approvals do not apply. */
  user?: UserInfo
  /** Whether this request adds or changes the object's own exemption annotations. */
  changedByRequest: boolean
}

export interface Exemptions {
  verdictFor(rule: string, container: string | undefined): ExemptionVerdict | undefined
  notices: string[]
}

const DAY_MS = 24 * 60 * 60 * 1000

/** What keeps a whole annotation set from counting, whichever rule it names. */
function setProblem(set: ExemptionAnnotations, context: ExemptionContext): string | undefined {
  const { policy, now } = context
  if (policy.requireReason && !set.reason) return `no ${REASON_ANNOTATION}`
  if (set.until !== undefined) {
    const expiry = expiryInstant(set.until)
    if (!expiry) return `${UNTIL_ANNOTATION} "${set.until}" is not an RFC 3339 date or date-time`
    if (expiry.getTime() <= now.getTime()) return `expired on ${set.until}`
    if (policy.maxDays > 0 && expiry.getTime() - now.getTime() > policy.maxDays * DAY_MS) {
      return `expires ${set.until}, more than ${policy.maxDays} days out (exemptions.maxDays)`
    }
  } else if (policy.maxDays > 0) {
    return `no ${UNTIL_ANNOTATION}: exemptions must expire within ${policy.maxDays} days`
  }
  const approvers = policy.approvers
  const gated = approvers.users.length > 0 || approvers.groups.length > 0
  if (gated && set.source === 'object' && context.changedByRequest && context.user && !isApprover(context.user, approvers)) {
    return `${context.user.username ?? 'this user'} is not an exemption approver`
  }
  return undefined
}

function verdictIn(set: ExemptionAnnotations, rule: string, container: string | undefined, context: ExemptionContext): ExemptionVerdict | undefined {
  const covers = set.entries.some(
    (entry) => (entry.rule === rule || entry.rule === '*') && (entry.container === undefined || entry.container === container),
  )
  if (!covers) return undefined
  const problem = setProblem(set, context)
  if (problem) return { honoured: false, source: set.source, why: problem }
  if (context.policy.forbiddenRules.includes(rule)) {
    return { honoured: false, source: set.source, why: `${rule} cannot be exempted (exemptions.forbiddenRules)` }
  }
  return { honoured: true, source: set.source, ...(set.reason ? { reason: set.reason } : {}), ...(set.until ? { until: set.until } : {}) }
}

export function resolveExemptions(
  objectAnnotations: Record<string, string> | undefined,
  namespaceAnnotations: Record<string, string> | undefined,
  context: ExemptionContext,
): Exemptions {
  const sets = [readExemptionAnnotations(objectAnnotations, 'object'), readExemptionAnnotations(namespaceAnnotations, 'namespace')].filter(
    (set): set is ExemptionAnnotations => set !== undefined,
  )
  const notices = sets.flatMap((set) =>
    set.entries
      .filter((entry) => entry.rule !== '*' && !context.knownRules.has(entry.rule))
      .map((entry) => `hitless.dev/exempt on the ${set.source} names unknown rule "${entry.rule}"`),
  )
  return {
    notices,
    verdictFor(rule, container) {
      const verdicts = sets.map((set) => verdictIn(set, rule, container, context)).filter((v) => v !== undefined)
      return verdicts.find((v) => v.honoured) ?? verdicts[0]
    },
  }
}
