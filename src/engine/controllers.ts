// Who may create what a controller owns. Anyone can write an `ownerReferences` entry, so the owner's
// kind decides which identity is believed: a built-in owner kind only from the kube-controller-manager
// controller that really creates its dependents; a custom resource's owner (Argo Rollouts, operators)
// only from the controllers the config trusts (controllers.trusted); a Node (mirror pods) only from
// that node's kubelet. Everything else is judged. The CEL twin below is the k8s-1.30 component's and the
// exported policies' matchCondition (decision 0023).
import { q, qList } from '../model/cel.ts'
import type { KubeObject, TrustedController, UserInfo } from '../model/types.ts'

export type { TrustedController }

export interface OwnerReference {
  apiVersion?: string
  kind?: string
  name?: string
  controller?: boolean
}

export const CONTROLLER_MANAGER = 'system:kube-controller-manager'

/**
 * Built-in owner kinds and the kube-controller-manager controllers that create their dependents (their
 * service accounts in kube-system when it runs with --use-service-account-credentials; the names of
 * Kubernetes' bootstrap controller roles). Also in the older groups audits still meet.
 */
export const BUILT_IN_OWNERS: readonly { kind: string; groups: readonly string[]; controller: string }[] = [
  { kind: 'ReplicaSet', groups: ['apps', 'extensions'], controller: 'replicaset-controller' },
  { kind: 'Deployment', groups: ['apps', 'extensions'], controller: 'deployment-controller' },
  { kind: 'StatefulSet', groups: ['apps'], controller: 'statefulset-controller' },
  { kind: 'DaemonSet', groups: ['apps', 'extensions'], controller: 'daemon-set-controller' },
  { kind: 'Job', groups: ['batch'], controller: 'job-controller' },
  { kind: 'CronJob', groups: ['batch'], controller: 'cronjob-controller' },
  { kind: 'ReplicationController', groups: [''], controller: 'replication-controller' },
]

/** The users a built-in owner's dependents may come from. */
export const creatorsOf = (controller: string) => [CONTROLLER_MANAGER, `system:serviceaccount:kube-system:${controller}`]

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '')

/** A custom resource's group: one with a dot that is not Kubernetes' own (`*.k8s.io`). */
const isCustomGroup = (group: string) => group.includes('.') && !group.endsWith('.k8s.io')

/** The object's controller owner references (the API server's validation allows one; a mutating webhook may see more). */
export function controllerReferences(object: KubeObject): OwnerReference[] {
  const refs = object.metadata?.ownerReferences as unknown
  return Array.isArray(refs) ? refs.filter((ref): ref is OwnerReference => typeof ref === 'object' && ref !== null && ref.controller === true) : []
}

const serviceAccountUser = (trusted: TrustedController) => `system:serviceaccount:${trusted.namespace}:${trusted.serviceAccount ?? ''}`

/** Whether `user` is one that creates objects owned by `owner`. */
export function trustedCreator(owner: OwnerReference, user: UserInfo, trusted: readonly TrustedController[]): boolean {
  const name = user.username
  if (name === undefined || typeof owner.kind !== 'string' || typeof owner.apiVersion !== 'string') return false
  const group = groupOf(owner.apiVersion)
  const builtIn = BUILT_IN_OWNERS.find((entry) => entry.kind === owner.kind && entry.groups.includes(group))
  if (builtIn) return creatorsOf(builtIn.controller).includes(name)
  if (owner.kind === 'Node' && owner.apiVersion === 'v1') return name === `system:node:${owner.name ?? ''}`
  if (!isCustomGroup(group)) return false
  return trusted.some((entry) => (entry.serviceAccount === undefined ? name.startsWith(serviceAccountUser(entry)) : name === serviceAccountUser(entry)))
}

/**
 * CEL bool over `object` and `request` (a webhook's or a policy's matchCondition): the object has a
 * controller owner reference and the request comes from a creator trustedCreator accepts. Plain,
 * parenthesised CEL (no optionals, no extension functions but `matches` and `startsWith`). False when
 * there is no `object` (a DELETE: the webhook judges the object being deleted whoever deletes it); without
 * that guard the API server's CEL errs (`no such key: metadata`) and the webhook's failurePolicy decides:
 * every judged DELETE refused under Fail, skipped under Ignore (the Go checker, decision 0035).
 */
export function trustedCreatorCel(trusted: readonly TrustedController[]): string {
  const user = 'request.userInfo.username'
  const groupIs = (group: string) => (group === '' ? `r.apiVersion == 'v1'` : `r.apiVersion.startsWith(${q(`${group}/`)})`)
  const builtIn = BUILT_IN_OWNERS.map(
    (entry) => `(r.kind == ${q(entry.kind)} && (${entry.groups.map(groupIs).join(' || ')}) && ${user} in ${qList(creatorsOf(entry.controller))})`,
  )
  const node = `(r.kind == 'Node' && r.apiVersion == 'v1' && has(r.name) && ${user} == 'system:node:' + r.name)`
  const clauses = [...builtIn, node]
  if (trusted.length > 0) {
    const custom = `r.apiVersion.matches('^[^/]*[.][^/]*/') && !r.apiVersion.matches('^[^/]*[.]k8s[.]io/')`
    const who = trusted.map((entry) => (entry.serviceAccount === undefined ? `${user}.startsWith(${q(serviceAccountUser(entry))})` : `${user} == ${q(serviceAccountUser(entry))}`))
    clauses.push(`(${custom} && (${who.join(' || ')}))`)
  }
  return `(object != null && has(object.metadata.ownerReferences) && has(${user}) && object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller && has(r.kind) && has(r.apiVersion) && (${clauses.join(' || ')})))`
}
