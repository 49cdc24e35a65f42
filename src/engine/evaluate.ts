// Runs the active rules over one object. Rules with the mutate action have their patches applied to a
// working copy as they go, so later rules judge the object as it will be stored, and the collected
// patch is one coherent JSON Patch against the original. A finding covered by an honoured exemption
// stays in the list (reports show it) but its patch is not applied.
import fastJsonPatch from 'fast-json-patch'
import { exemptionChanged } from '../exemptions/annotations.ts'
import { approvalRefusal } from '../exemptions/approval.ts'
import { resolveExemptions } from '../exemptions/resolve.ts'
import { requestApproval, subjectOf } from '../exemptions/record.ts'
import { APPROVAL_ANNOTATION } from '../exemptions/annotations.ts'
import { parsePointer } from '../model/json-pointer.ts'
import type { NamespaceInfo } from '../model/namespaces.ts'
import type { Policy } from './policy.ts'
import { skipReason } from './scope.ts'
import type { Finding, KubeObject, ObjectRef, PatchOperation, ReviewInput } from '../model/types.ts'
import { groupOfKind, KINDS, type KindName } from '../model/kinds.ts'
import { ReviewMemo } from '../rules/review-memo.ts'

/** The id findings about exemption approvals carry (not a rule: it cannot be turned off or exempted). */
export const APPROVAL_RULE = 'exemption-approval'

export interface Evaluation {
  findings: Finding[]
  /** Patches of mutate findings not exempted, in order, against review.object. */
  patch: PatchOperation[]
  /** Problems with exemption annotations, shown whether or not a rule fired. */
  notices: string[]
  /** Why the review was not judged at all, when it was not. */
  skipped?: string
}

export interface EvaluationContext {
  now: Date
  namespace?: NamespaceInfo
}

export function objectRef(review: ReviewInput): ObjectRef {
  const meta = (review.object ?? review.oldObject)?.metadata
  const namespace = review.namespace || meta?.namespace
  return {
    kind: review.kind,
    ...(namespace ? { namespace } : {}),
    name: review.name || meta?.name || meta?.generateName || '(unnamed)',
  }
}

/**
 * A copy of `root` in which every object or array on the way to each operation's target is fresh and
 * everything else is shared, so a patch can be applied in place without touching the original (and
 * without cloning a whole object with its managedFields for one added field). Rules never mutate
 * what they are given, so sharing the untouched parts is safe.
 */
function copyAlongPaths(root: KubeObject, ops: PatchOperation[]): KubeObject {
  const copy: Record<string, unknown> = { ...root }
  for (const op of ops) {
    let node: Record<string, unknown> = copy
    for (const key of parsePointer(op.path).slice(0, -1)) {
      const child = node[key]
      if (typeof child !== 'object' || child === null) break
      node[key] = Array.isArray(child) ? [...child] : { ...child }
      node = node[key] as Record<string, unknown>
    }
  }
  return copy as KubeObject
}

/** The largest number hitless writes into an object: Kubernetes' int32 fields' limit. */
const MAX_WRITTEN_NUMBER = 2 ** 31 - 1

/** Every number in `value` is a whole number from 0 to MAX_WRITTEN_NUMBER. */
function numbersSafe(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_WRITTEN_NUMBER
  if (Array.isArray(value)) return value.every(numbersSafe)
  if (typeof value === 'object' && value !== null) return Object.values(value).every(numbersSafe)
  return true
}

export function isExempted(finding: Finding): boolean {
  return finding.exemption?.honoured === true
}

/** `rule/container` of every deny finding the old object of an UPDATE already had. */
function existingDenials(review: ReviewInput, policy: Policy, memo: ReviewMemo): Set<string> {
  const before = new Set<string>()
  if (!review.oldObject) return before
  const old = { ...review, operation: 'CREATE' as const, object: review.oldObject, oldObject: null }
  for (const { rule, action, options } of policy.rules) {
    if (action !== 'deny') continue
    for (const finding of rule.check({ review: old, options, settings: policy.settings, memo })) {
      // "Cannot check" says nothing about the old object: with onClusterUnavailable deny, an UPDATE
      // is refused like a CREATE.
      if (!finding.atMostWarn && !finding.indeterminate) before.add(`${rule.id}/${finding.container ?? ''}`)
    }
  }
  return before
}

/**
 * allowExistingViolations: on UPDATE, a deny finding the old object already had becomes a warning that
 * says so, so an object that predates a rule can still be changed (a rollout restart during an
 * incident) until someone fixes it. New violations are denied as always; fixes are still applied.
 */
function downgradeExisting(findings: Finding[], review: ReviewInput, policy: Policy, memo: ReviewMemo): Finding[] {
  if (!policy.allowExistingViolations || review.operation !== 'UPDATE' || !findings.some((f) => f.action === 'deny')) return findings
  const before = existingDenials(review, policy, memo)
  return findings.map((f) =>
    f.action === 'deny' && before.has(`${f.rule}/${f.container ?? ''}`)
      ? { ...f, action: 'warn' as const, message: `${f.message} (already so before this change; allowExistingViolations)` }
      : f,
  )
}

/**
 * A DELETE, judged only by the rules that declare DELETE for its kind (a Service whose deletion orphans
 * an Ingress or route), on the object being deleted. Never more than a warning: blocking a DELETE
 * strands objects (namespace deletion, Helm uninstall), and nothing is patched.
 */
function evaluateDelete(review: ReviewInput, policy: Policy, context: EvaluationContext): Evaluation {
  const old = review.oldObject
  if (review.subResource || !old) return { findings: [], patch: [], notices: [], skipped: review.subResource ? `subresource ${review.subResource}` : 'operation DELETE' }
  const judging = policy.rules.filter(({ rule }) => rule.judges.some((target) => target.operations.includes('DELETE') && target.kinds.some((kind) => kind === review.kind && groupOfKind(kind) === review.group)))
  if (judging.length === 0) return { findings: [], patch: [], notices: [], skipped: 'operation DELETE' }
  const exemptions = resolveExemptions(old.metadata?.annotations, context.namespace?.annotations, {
    now: context.now,
    policy: policy.exemptions,
    knownRules: policy.knownRules,
    ...(review.userInfo ? { user: review.userInfo } : {}),
    changedByRequest: false,
    ...(review.userInfo ? { approval: { key: policy.approvalKey, subject: subjectOf({ ...review, object: old }), annotations: old.metadata?.annotations ?? {}, approvedByRequest: false } } : {}),
  })
  const object = objectRef(review)
  const findings: Finding[] = []
  const memo = new ReviewMemo()
  for (const { rule, action, options } of judging) {
    for (const finding of rule.check({ review: { ...review, object: old }, original: old, options, settings: policy.settings, memo })) {
      const { patch: _never, patchSummary: _none, ...rest } = finding
      const exemption = exemptions.verdictFor(rule.id, finding.container)
      findings.push({ ...rest, rule: rule.id, action: action === 'deny' || action === 'mutate' ? 'warn' : action, object, ...(exemption ? { exemption } : {}) })
    }
  }
  return { findings, patch: [], notices: exemptions.notices }
}

export function evaluate(review: ReviewInput, policy: Policy, context: EvaluationContext = { now: new Date() }): Evaluation {
  if (review.operation === 'DELETE') return evaluateDelete(review, policy, context)
  const skipped = skipReason(review, policy.controllers.trusted)
  if (skipped !== undefined || !review.object) return { findings: [], patch: [], notices: [], skipped: skipped ?? 'no object' }
  const approval = requestApproval(review, policy.exemptions, policy.approvalKey)
  const exemptions = resolveExemptions(review.object.metadata?.annotations, context.namespace?.annotations, {
    now: context.now,
    policy: policy.exemptions,
    knownRules: policy.knownRules,
    ...(review.userInfo ? { user: review.userInfo } : {}),
    changedByRequest: exemptionChanged(review.object, review.oldObject),
    ...(approval.context ? { approval: approval.context } : {}),
  })
  const object = objectRef(review)
  const findings: Finding[] = []
  const through = review.subResource ? `${KINDS[review.kind as KindName]?.resource ?? review.kind}/${review.subResource}` : undefined
  const refusal = approvalRefusal(review.kind, review.object.metadata, review.oldObject?.metadata, review.userInfo, policy.exemptions, through)
  if (refusal) findings.push({ rule: APPROVAL_RULE, action: 'deny', object, ...refusal })
  const patch: PatchOperation[] = []
  let working: KubeObject = review.object
  // The review as the next rule sees it: a new one only after a mutate rule changed the object.
  let judged: ReviewInput & { object: KubeObject } = { ...review, object: working }
  const memo = new ReviewMemo()
  for (const { rule, action, options } of policy.rules) {
    const raw = rule.check({ review: judged, original: review.object, options, settings: policy.settings, memo })
    // Most rules find nothing in most reviews: nothing more is built for them.
    if (raw.length === 0) continue
    const found: Finding[] = []
    for (const finding of raw) {
      const exemption = exemptions.verdictFor(rule.id, finding.container)
      const capped = finding.atMostWarn && action === 'deny' ? 'warn' : action
      const judgedFinding: Finding = { ...finding, rule: rule.id, action: capped, object, ...(exemption ? { exemption } : {}) }
      // A patch is only written when every number in it is one the API server takes: defence in depth
      // against a rule computing from hostile input (a finding that cannot be fixed safely stays, unfixed).
      if (judgedFinding.patch && !judgedFinding.patch.every((op) => numbersSafe('value' in op ? op.value : undefined))) {
        const { patch: _unsafe, patchSummary: _summary, ...rest } = judgedFinding
        found.push(rest)
      } else found.push(judgedFinding)
    }
    findings.push(...found)
    if (action !== 'mutate') continue
    const ops = found.filter((finding) => !isExempted(finding)).flatMap((finding) => finding.patch ?? [])
    if (ops.length === 0) continue
    working = copyAlongPaths(working, ops)
    fastJsonPatch.applyPatch(working, ops, false, true)
    judged = { ...review, object: working }
    patch.push(...ops)
  }
  // The approval this request makes, recorded on the object (record.ts); rules never touch annotations.
  if (approval.record) patch.push({ op: 'add', path: `/metadata/annotations/${APPROVAL_ANNOTATION.replace('/', '~1')}`, value: approval.record })
  return { findings: downgradeExisting(findings, review, policy, memo), patch, notices: exemptions.notices }
}
