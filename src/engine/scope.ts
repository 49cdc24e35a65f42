// Reviews hitless must let through untouched, whatever the rules say. Each one guards against a
// webhook causing the outage it exists to prevent.
import { controllerOwner } from '../workloads/pod-template.ts'
import type { UserInfo } from '../exemptions/resolve.ts'
import type { ReviewInput } from '../model/types.ts'

/** Why a review is out of scope, or undefined when the rules should judge it. */
export function skipReason(review: ReviewInput): string | undefined {
  // scale and status writes come from kubectl scale, HPAs and controllers: never in the way.
  if (review.subResource) return `subresource ${review.subResource}`
  // Blocking a DELETE strands objects; CONNECT (exec, port-forward) has no object to judge.
  if (review.operation === 'DELETE' || review.operation === 'CONNECT') return `operation ${review.operation}`
  if (!review.object) return 'no object'
  // Updates of an object being deleted remove finalizers; denying them leaves it stuck.
  if (review.object.metadata?.deletionTimestamp) return 'object is being deleted'
  // Its controller was judged already; denying (or patching the template of) what it creates only
  // stalls it, and a patched ReplicaSet template no longer matches its Deployment's hash. Trusted only
  // when a controller sends it: anyone can write an ownerReference, so a person's request is judged.
  const owner = controllerOwner(review.object)
  if (owner && (!review.userInfo || isControllerIdentity(review.userInfo))) return `controlled by ${owner}`
  return undefined
}

/**
 * Whether the request comes from something that creates objects for a controller: a service account
 * (kube-controller-manager's controllers, operators, Argo Rollouts), kube-controller-manager itself, or
 * a kubelet (mirror pods). People and their groups are not.
 */
export function isControllerIdentity(user: UserInfo): boolean {
  const name = user.username ?? ''
  return CONTROLLER_USERS.includes(name) || CONTROLLER_USER_PREFIXES.some((prefix) => name.startsWith(prefix))
}

/** Who creates objects for controllers (also in the k8s-1.30 component's matchConditions; a test keeps them equal). */
export const CONTROLLER_USER_PREFIXES = ['system:serviceaccount:', 'system:node:']
export const CONTROLLER_USERS = ['system:kube-controller-manager']
