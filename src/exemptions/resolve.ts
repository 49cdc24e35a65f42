// Decides whether an exemption counts. One that does not is never silent: its verdict says why
// (no reason, expired, too long, not an approver, rule not exemptible), and unknown rule ids become
// notices shown with the answer.
import {
  EXEMPT_ANNOTATION,
  readExemptionAnnotations,
  REASON_ANNOTATION,
  UNTIL_ANNOTATION,
  type ExemptionAnnotations,
  type ExemptionSource,
} from './annotations.ts'
import type { ExemptionVerdict, UserInfo } from '../model/types.ts'
import { approvalsOn, isApprover } from './approval.ts'
import { expiryInstant } from './expiry.ts'
import { howToApprove, recordProblem, type ApprovalSubject } from './record.ts'

export interface ExemptionPolicy {
  requireReason: boolean
  /** Longest allowed exemption; 0 means no limit (and no expiry required). */
  maxDays: number
  approvers: { users: string[]; groups: string[] }
  forbiddenRules: string[]
  /** Upgrades: object exemptions without a valid approval record still count through this date (UTC). */
  honourUnrecordedUntil?: string
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
  /**
   * Admission only: what the object's approval record must match (record.ts). approvedByRequest: an
   * approver's request adds or changes the exemption (or asks for the record), and /mutate records it now.
   */
  approval?: { key: Uint8Array; subject: ApprovalSubject; annotations: Record<string, string>; approvedByRequest: boolean }
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
  const gated = approvalsOn(policy)
  if (gated && set.source === 'object' && context.changedByRequest && context.user && !isApprover(context.user, approvers)) {
    return `${context.user.username ?? 'this user'} is not an exemption approver`
  }
  const unrecorded = set.source === 'object' ? unrecordedProblem(context) : undefined
  if (unrecorded && !legacyHonoured(policy, now)) return `${unrecorded}: ${howToApprove(approvers)}`
  return undefined
}

/** Why the object's approval record does not count (approvals on, in admission), or undefined. */
function unrecordedProblem(context: ExemptionContext): string | undefined {
  const { approval } = context
  if (!approvalsOn(context.policy) || !approval || approval.approvedByRequest) return undefined
  return recordProblem(approval.key, approval.annotations, approval.subject)
}

/** Whether exemptions.honourUnrecordedUntil still covers exemptions without a record. */
function legacyHonoured(policy: ExemptionPolicy, now: Date): boolean {
  const end = policy.honourUnrecordedUntil ? expiryInstant(policy.honourUnrecordedUntil) : undefined
  return end !== undefined && now.getTime() < end.getTime()
}

/** A notice while exemptions.honourUnrecordedUntil is all that keeps the object's exemption counting. */
function recordNotices(objectAnnotations: Record<string, string> | undefined, context: ExemptionContext): string[] {
  if (!approvalsOn(context.policy) || objectAnnotations?.[EXEMPT_ANNOTATION] === undefined) return []
  const problem = unrecordedProblem(context)
  if (!problem || !legacyHonoured(context.policy, context.now)) return []
  return [`${EXEMPT_ANNOTATION} on the object: ${problem}; honoured through ${context.policy.honourUnrecordedUntil} only (exemptions.honourUnrecordedUntil): ${howToApprove(context.policy.approvers)}`]
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
  notices.push(...recordNotices(objectAnnotations, context))
  return {
    notices,
    verdictFor(rule, container) {
      const verdicts = sets.map((set) => verdictIn(set, rule, container, context)).filter((v) => v !== undefined)
      return verdicts.find((v) => v.honoured) ?? verdicts[0]
    },
  }
}
