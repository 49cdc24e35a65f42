// Where the pod template lives in each workload kind hitless guards, and whether an object is
// in scope at all. Rules ask here instead of knowing kinds themselves.
import type { KubeObject, ReviewInput } from '../model/types.ts'
import type { PathToken } from '../model/json-pointer.ts'
import { cond } from '../model/cel.ts'
import { KINDS, POD_TEMPLATE_KINDS } from '../model/kinds.ts'

export interface Handler {
  exec?: { command?: string[] }
  sleep?: { seconds?: number }
  httpGet?: Record<string, unknown>
  tcpSocket?: Record<string, unknown>
}

export interface ContainerPort {
  containerPort?: number
  name?: string
  protocol?: string
}

export interface Container {
  name: string
  ports?: ContainerPort[]
  readinessProbe?: Record<string, unknown>
  livenessProbe?: Record<string, unknown>
  startupProbe?: Record<string, unknown>
  lifecycle?: { preStop?: Handler; postStart?: Handler }
  restartPolicy?: string
}

export interface PodSpec {
  containers?: Container[]
  initContainers?: Container[]
  terminationGracePeriodSeconds?: number | null
}

export interface PodTemplate {
  spec: PodSpec
  /** Path tokens from the object root to the pod spec. */
  specPath: PathToken[]
  labels: Record<string, string>
}

// By API group, then kind. Looked up several times per review, so no key strings are built.
// extensions/v1beta1 (removed in 1.16) still appears in old manifests: judged like apps/v1, and audits
// say the version is gone. Argo Rollouts carry a pod template like a Deployment's.
const TEMPLATED_KINDS = new Map<string, Set<string>>([
  ['extensions', new Set(['Deployment', 'DaemonSet', 'ReplicaSet'])],
  ['argoproj.io', new Set(['Rollout'])],
])
// The registry's templated kinds (all but the bare Pod, handled below).
for (const kind of POD_TEMPLATE_KINDS.filter((k) => k !== 'Pod')) {
  const group = KINDS[kind].group
  TEMPLATED_KINDS.set(group, new Set([...(TEMPLATED_KINDS.get(group) ?? []), kind]))
}

/** Long-running workloads whose pod template the pod-spec rules judge. Jobs and CronJobs are batch. */
export function isGuardedWorkload(group: string, kind: string): boolean {
  return TEMPLATED_KINDS.get(group)?.has(kind) === true || (group === '' && kind === 'Pod')
}

/**
 * The pod template a review should judge, or undefined when the pod-spec rules do not apply:
 * not a guarded kind, or a Pod UPDATE (pod specs are immutable, a fix could never be applied).
 */
export function podTemplateOf(review: ReviewInput): PodTemplate | undefined {
  const object = review.object
  if (!object || !isGuardedWorkload(review.group, review.kind)) return undefined
  if (review.kind === 'Pod') {
    if (review.operation !== 'CREATE') return undefined
    return { spec: (object.spec ?? {}) as PodSpec, specPath: ['spec'], labels: object.metadata?.labels ?? {} }
  }
  const template = object.spec?.['template'] as { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } | undefined
  if (!template?.spec) return undefined
  return { spec: template.spec, specPath: ['spec', 'template', 'spec'], labels: template.metadata?.labels ?? {} }
}

/** CEL bool: the request is about a Pod (its kind as the request names it, like ReviewInput.kind). */
export const POD_REQUEST_CEL = "request.kind.kind == 'Pod'"

/**
 * The CEL twin of podTemplateOf's spec, for `root` (`object` or `oldObject` of an admission policy):
 * the pod spec of a Pod or of a workload's template, {} when there is none (a null oldObject on CREATE, a
 * ReplicationController without a template). Pod UPDATEs are left out by the policies' matchConditions.
 */
export function podSpecCel(root: string): string {
  const ofPod = cond(`has(${root}.spec)`, `${root}.spec`, '{}')
  const ofTemplate = cond(`has(${root}.spec) && has(${root}.spec.template) && has(${root}.spec.template.spec)`, `${root}.spec.template.spec`, '{}')
  return cond(`${root} == null`, '{}', cond(POD_REQUEST_CEL, ofPod, ofTemplate))
}

/** CEL strings: the pod spec's JSON pointer and its path as fixes name it (PodTemplate.specPath). */
export function podSpecPathCel(): { pointer: string; field: string } {
  return { pointer: cond(POD_REQUEST_CEL, "'/spec'", "'/spec/template/spec'"), field: cond(POD_REQUEST_CEL, "'spec'", "'spec.template.spec'") }
}
