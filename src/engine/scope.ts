// Reviews hitless must let through untouched, whatever the rules say. Each one guards against a
// webhook causing the outage it exists to prevent.
import { controllerReferences, trustedCreator, type TrustedController } from './controllers.ts'
import { NAMESPACE_GATE_SUBRESOURCES } from '../model/namespace-gate.ts'
import type { ReviewInput } from '../model/types.ts'

/** An UPDATE of a Namespace through namespaces/status or namespaces/finalize: judged like an UPDATE of the Namespace. */
export const isNamespaceGateSubresource = (review: Pick<ReviewInput, 'kind' | 'group' | 'operation' | 'subResource'>): boolean =>
  review.kind === 'Namespace' && review.group === '' && review.operation === 'UPDATE' && NAMESPACE_GATE_SUBRESOURCES.includes(review.subResource ?? '')

/** Why a review is out of scope, or undefined when the rules should judge it. */
export function skipReason(review: ReviewInput, trusted: readonly TrustedController[] = []): string | undefined {
  // scale and status writes come from kubectl scale, HPAs and controllers: never in the way. A Namespace's
  // status and finalize writes are the exception: the API server keeps the labels and annotations they
  // carry, so the gate judges them as UPDATEs (decision 0042; being deleted, they pass below).
  if (review.subResource && !isNamespaceGateSubresource(review)) return `subresource ${review.subResource}`
  // Blocking a DELETE strands objects; CONNECT (exec, port-forward) has no object to judge.
  if (review.operation === 'DELETE' || review.operation === 'CONNECT') return `operation ${review.operation}`
  if (!review.object) return 'no object'
  // Updates of an object being deleted remove finalizers; denying them leaves it stuck.
  if (review.object.metadata?.deletionTimestamp) return 'object is being deleted'
  // Its controller was judged already; denying (or patching the template of) what it creates only
  // stalls it, and a patched ReplicaSet template no longer matches its Deployment's hash. Trusted only
  // when the controller that creates such objects sends it (controllers.ts): anyone can write an
  // ownerReference. Outside admission (audits: no requester) the owner is what is judged.
  const owners = controllerReferences(review.object)
  const owner = review.userInfo ? owners.find((ref) => trustedCreator(ref, review.userInfo!, trusted)) : owners[0]
  if (owner) return `controlled by ${owner.kind ?? '?'}/${owner.name ?? '?'}`
  return undefined
}
