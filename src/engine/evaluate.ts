// Runs the active rules over one object. Rules with the mutate action have their patches applied to a
// working copy as they go, so later rules judge the object as it will be stored, and the collected
// patch is one coherent JSON Patch against the original.
import fastJsonPatch from 'fast-json-patch'
import type { Policy } from './policy.ts'
import { skipReason } from './scope.ts'
import type { Finding, KubeObject, ObjectRef, PatchOperation, ReviewInput } from './types.ts'

export interface Evaluation {
  findings: Finding[]
  /** Patches of mutate findings, in order, against review.object. */
  patch: PatchOperation[]
  /** Why the review was not judged at all, when it was not. */
  skipped?: string
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

export function evaluate(review: ReviewInput, policy: Policy): Evaluation {
  const skipped = skipReason(review)
  if (skipped !== undefined || !review.object) return { findings: [], patch: [], skipped: skipped ?? 'no object' }
  const object = objectRef(review)
  const findings: Finding[] = []
  const patch: PatchOperation[] = []
  let working: KubeObject = review.object
  let copied = false
  for (const { rule, action, options } of policy.rules) {
    const found = rule.check({ review: { ...review, object: working }, options, settings: policy.settings })
    for (const finding of found) findings.push({ ...finding, rule: rule.id, action, object })
    if (action !== 'mutate') continue
    const ops = found.flatMap((finding) => finding.patch ?? [])
    if (ops.length === 0) continue
    if (!copied) [working, copied] = [structuredClone(working), true]
    fastJsonPatch.applyPatch(working, ops, false, true)
    patch.push(...ops)
  }
  return { findings, patch }
}
