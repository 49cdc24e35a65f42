// Proof of approval (decision 0024). With exemptions.approvers set, an object's exemption counts only
// with a record hitless's mutating webhook wrote when an approver added or changed it: the annotation
// hitless.dev/exempt-approval, `by <approver>; hmac-sha256:<hex>`, an HMAC under a key only hitless
// holds (--approval-key) over the approver, the object (namespace, group, kind, name) and exactly
// what was approved (rules and containers, reason, expiry). Whatever path an exemption took (written
// while hitless was down or not asked, in an off or audit namespace, before approvers were set), no
// one but hitless can write a record that matches it: a plain digest anyone could compute.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ReviewInput } from '../model/types.ts'
import { APPROVAL_ANNOTATION, EXEMPT_ANNOTATION, exemptionChanged, parseExemptList, REASON_ANNOTATION, UNTIL_ANNOTATION } from './annotations.ts'
import { approvalsOn, isApprover } from './approval.ts'
import type { ExemptionPolicy } from './resolve.ts'

/** Which object an approval is for (a record copied to another object does not match there). */
export interface ApprovalSubject {
  namespace: string
  group: string
  kind: string
  /** metadata.name, or for objects named by the API server, `generateName:` and the prefix (the mutating webhook sees no name yet). */
  name: string
}

export const APPROVE_REQUEST = 'approve'
const RECORD = /^by (.+); hmac-sha256:([0-9a-f]{64})$/

export function subjectOf(review: { namespace?: string; group: string; kind: string; object: { metadata?: { name?: string; generateName?: string; namespace?: string } } | null }): ApprovalSubject {
  const meta = review.object?.metadata
  return {
    namespace: review.namespace ?? meta?.namespace ?? '',
    group: review.group,
    kind: review.kind,
    name: meta?.generateName ? `generateName:${meta.generateName}` : (meta?.name ?? ''),
  }
}

/** What an approval covers, canonically: the entries sorted (order and spacing do not change what is exempt), reason and expiry trimmed. */
function approvedText(annotations: Record<string, string>, subject: ApprovalSubject, approver: string): string {
  const entries = parseExemptList(annotations[EXEMPT_ANNOTATION] ?? '').map((e) => (e.container === undefined ? e.rule : `${e.rule}:${e.container}`))
  const reason = annotations[REASON_ANNOTATION]?.trim() ?? ''
  const until = annotations[UNTIL_ANNOTATION]?.trim() ?? ''
  return JSON.stringify(['hitless-approval-v1', approver, subject.namespace, subject.group, subject.kind, subject.name, [...new Set(entries)].sort(), reason, until])
}

const mac = (key: Uint8Array, text: string) => createHmac('sha256', key).update(text).digest('hex')

/** The record an approver's request writes. */
export function approvalRecord(key: Uint8Array, approver: string, annotations: Record<string, string>, subject: ApprovalSubject): string {
  return `by ${approver}; hmac-sha256:${mac(key, approvedText(annotations, subject, approver))}`
}

/** The approver named by a well-formed record. */
export function recordApprover(value: string | undefined): string | undefined {
  return value === undefined ? undefined : RECORD.exec(value)?.[1]
}

/** Why the object's record does not prove that an approver approved exactly this exemption, or undefined when it does. */
export function recordProblem(key: Uint8Array, annotations: Record<string, string>, subject: ApprovalSubject): string | undefined {
  const value = annotations[APPROVAL_ANNOTATION]
  if (value === undefined) return `no approval record (${APPROVAL_ANNOTATION})`
  const parsed = RECORD.exec(value)
  if (!parsed) return `${APPROVAL_ANNOTATION} is not a record hitless wrote`
  const expected = Buffer.from(mac(key, approvedText(annotations, subject, parsed[1]!)), 'hex')
  if (!timingSafeEqual(expected, Buffer.from(parsed[2]!, 'hex'))) return `${APPROVAL_ANNOTATION} does not match this exemption (it was approved for something else, or not by hitless)`
  return undefined
}

/**
 * For audits (which have no key): an object's exemption without a record, with approvers set. The
 * webhook does not honour it (after exemptions.honourUnrecordedUntil); whether a record matches only
 * the webhook can tell.
 */
export function unrecordedExemptionNotice(annotations: Record<string, string> | undefined, policy: ExemptionPolicy): string | undefined {
  if (!approvalsOn(policy)) return undefined
  if (annotations?.[EXEMPT_ANNOTATION] === undefined || annotations[APPROVAL_ANNOTATION] !== undefined) return undefined
  const until = policy.honourUnrecordedUntil ? ` after ${policy.honourUnrecordedUntil} (exemptions.honourUnrecordedUntil)` : ''
  return `${EXEMPT_ANNOTATION}: "${annotations[EXEMPT_ANNOTATION]}" has no approval record (${APPROVAL_ANNOTATION}): the webhook does not honour it${until}; ${howToApprove(policy.approvers)}`
}

/** How to get an exemption approved, for deny messages. */
export function howToApprove(approvers: { users: string[]; groups: string[] }): string {
  const who = [...approvers.users.map((u) => `user ${u}`), ...approvers.groups.map((g) => `group ${g}`)].join(', ')
  return `an exemption approver (${who}) approves it by applying it, or with kubectl annotate <kind>/<name> ${APPROVAL_ANNOTATION}=${APPROVE_REQUEST} --overwrite`
}

export interface RequestApproval {
  /** For ExemptionContext.approval (admission only: absent without a requester). */
  context?: { key: Uint8Array; subject: ApprovalSubject; annotations: Record<string, string>; approvedByRequest: boolean }
  /** The annotation /mutate writes: the record of an approval this request makes. */
  record?: string
}

/**
 * The approval a request carries. An approver's request that adds or changes the exemption, or that
 * sets the record annotation (to `approve`, say), approves exactly what the object's exemption now says.
 */
export function requestApproval(review: ReviewInput, policy: ExemptionPolicy, key: Uint8Array): RequestApproval {
  const user = review.userInfo
  const object = review.object
  if (!user || !object) return {}
  const annotations = object.metadata?.annotations ?? {}
  const subject = subjectOf(review)
  const asked = annotations[APPROVAL_ANNOTATION] !== review.oldObject?.metadata?.annotations?.[APPROVAL_ANNOTATION]
  const approvedByRequest = approvalsOn(policy) && annotations[EXEMPT_ANNOTATION] !== undefined && isApprover(user, policy.approvers) && (exemptionChanged(object, review.oldObject) || asked)
  const context = { key, subject, annotations, approvedByRequest }
  if (!approvedByRequest) return { context }
  const record = approvalRecord(key, user.username ?? 'unknown', annotations, subject)
  return record === annotations[APPROVAL_ANNOTATION] ? { context } : { context, record }
}
