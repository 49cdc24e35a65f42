// Who may change what hitless honours. With exemptions.approvers set, a request that adds or changes
// the exemption annotations or the approval record (on any object, or on a Namespace), or the Namespace labels that turn
// hitless down (hitless.dev/mode other than enforce, hitless.dev/ignore), must come from an approver:
// otherwise it is refused, whatever the rules find (audit mode: a warning). So every exemption that is
// stored was approved, and nothing a non-approver writes today can exempt tomorrow's change.
// Removing them (which makes hitless stricter) is anyone's right.
import { APPROVAL_ANNOTATION, EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from './annotations.ts'
import type { ExemptionPolicy, UserInfo } from './resolve.ts'

export const IGNORE_LABEL = 'hitless.dev/ignore'
export const MODE_LABEL = 'hitless.dev/mode'
const ANNOTATIONS = [EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION, APPROVAL_ANNOTATION]

interface Meta {
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** Whether exemptions.approvers names anyone (else anyone may add an exemption, and no record is needed). */
export const approvalsOn = (policy: Pick<ExemptionPolicy, 'approvers'>) => policy.approvers.users.length + policy.approvers.groups.length > 0

export function isApprover(user: UserInfo, approvers: ExemptionPolicy['approvers']): boolean {
  return (
    (user.username !== undefined && approvers.users.includes(user.username)) ||
    (user.groups ?? []).some((group) => approvers.groups.includes(group))
  )
}

/** The gated keys this change adds or changes (not the ones it removes). */
export function grantsChanged(kind: string, meta: Meta | undefined, old: Meta | undefined): string[] {
  const changed = (now: Record<string, string> | undefined, before: Record<string, string> | undefined, key: string) =>
    now?.[key] !== undefined && now[key] !== before?.[key]
  const keys = ANNOTATIONS.filter((key) => changed(meta?.annotations, old?.annotations, key))
  if (kind === 'Namespace') {
    if (changed(meta?.labels, old?.labels, IGNORE_LABEL)) keys.push(IGNORE_LABEL)
    if (changed(meta?.labels, old?.labels, MODE_LABEL) && meta?.labels?.[MODE_LABEL] !== 'enforce') keys.push(MODE_LABEL)
  }
  return keys
}

export interface ApprovalRefusal {
  message: string
  fix: string
}

/**
 * Why this request may not make its change, or undefined when it may (or approvals are off). `through`:
 * the resource/subresource the write came through when it is not the object itself (`namespaces/status`).
 */
export function approvalRefusal(kind: string, meta: Meta | undefined, old: Meta | undefined, user: UserInfo | undefined, policy: ExemptionPolicy, through?: string): ApprovalRefusal | undefined {
  const { approvers } = policy
  if (!user || (approvers.users.length === 0 && approvers.groups.length === 0)) return undefined
  const keys = grantsChanged(kind, meta, old)
  if (keys.length === 0 || isApprover(user, approvers)) return undefined
  const who = [...approvers.users.map((u) => `user ${u}`), ...approvers.groups.map((g) => `group ${g}`)].join(', ')
  return {
    message: `${user.username ?? 'this user'} is not an exemption approver and may not add or change ${keys.join(', ')}${through ? ` (written through ${through})` : ''}`,
    fix: `# leave ${keys.join(', ')} as they are (removing them is always allowed), or ask an approver (${who}) to apply the change`,
  }
}
