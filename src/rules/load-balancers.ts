// What lb-readiness-gate and lb-deregistration share: which pods an AWS load balancer targets by IP
// (through an NLB Service, an ALB Ingress or a TargetGroupBinding), each target group's deregistration
// delay, and the state of one namespace as it is and as a review would leave it, so both rules judge a
// change from every side (the workload, the Service, the Ingress, the TargetGroupBinding, the
// Namespace) and tell what the change breaks from what was already so.
import { workloadRecord, type WorkloadRecord } from '../cluster/records.ts'
import { selects } from '../cluster/label-selectors.ts'
import { serviceRecord, type ServiceRecord } from '../cluster/service-records.ts'
import { ingressRecord, type IngressRecord } from '../cluster/routes.ts'
import { ALB_TARGET_GROUP_ATTRIBUTES, DEFAULT_DEREGISTRATION_SECONDS, GATE_INJECT_LABEL, NLB_TARGET_GROUP_ATTRIBUTES, targetGroupBindingRecord, type TargetGroupBindingRecord } from '../cluster/load-balancers.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { KubeObject, ReviewInput, RuleFinding } from '../model/types.ts'
import { isGuardedWorkload } from '../workloads/pod-template.ts'
import { inNamespace } from './disruption.ts'
import { namespaceOf } from './referential.ts'

/** One way a Service's pods are IP targets of an AWS load balancer. */
export interface IpTarget {
  /** The object that makes them targets: the Service itself, an Ingress or a TargetGroupBinding. */
  by: { kind: 'Service' | 'Ingress' | 'TargetGroupBinding'; name: string }
  service: string
  /** For messages: `Ingress shop/web (alb, target-type ip) → Service web`. */
  via: string
  /**
   * The target group's deregistration delay and the annotation that sets it (on `on`); undefined for a
   * TargetGroupBinding, whose target group is made outside Kubernetes.
   */
  delay?: { seconds: number; defaulted: boolean; annotation: string; on: string }
}

/** The namespace's objects that decide targets: live, or as a review leaves them. */
export interface LbState {
  namespace: string
  services: readonly ServiceRecord[]
  ingresses: readonly IngressRecord[]
  bindings: readonly TargetGroupBindingRecord[]
  /** The Namespace's labels; undefined when unknown (an audit whose files hold no such Namespace). */
  labels: Readonly<Record<string, string>> | undefined
  /** The workload under review, in place of its cached record. */
  workload?: WorkloadRecord
}

function delayOf(seconds: number | undefined, annotation: string, on: string): NonNullable<IpTarget['delay']> {
  return seconds === undefined ? { seconds: DEFAULT_DEREGISTRATION_SECONDS, defaulted: true, annotation, on } : { seconds, defaulted: false, annotation, on }
}

/** Every way `service`'s pods are IP targets in `state`. */
export function ipTargets(state: LbState, service: ServiceRecord): IpTarget[] {
  const ns = state.namespace
  const found: IpTarget[] = []
  if (service.aws?.nlbIp) {
    found.push({ by: { kind: 'Service', name: service.name }, service: service.name, via: `Service ${ns}/${service.name} (NLB, target-type ip)`, delay: delayOf(service.aws.nlbDelay, NLB_TARGET_GROUP_ATTRIBUTES, `Service ${service.name}`) })
  }
  for (const ingress of state.ingresses) {
    if (!ingress.alb || !ingress.backends.some((b) => b.service === service.name)) continue
    // A Service's own alb.ingress.kubernetes.io annotations override the Ingress's for its target group.
    if ((service.aws?.albTargetType ?? ingress.alb.targetType) !== 'ip') continue
    const delay = service.aws?.albDelay !== undefined ? delayOf(service.aws.albDelay, ALB_TARGET_GROUP_ATTRIBUTES, `Service ${service.name}`) : delayOf(ingress.alb.delay, ALB_TARGET_GROUP_ATTRIBUTES, `Ingress ${ingress.name}`)
    found.push({ by: { kind: 'Ingress', name: ingress.name }, service: service.name, via: `Ingress ${ns}/${ingress.name} (alb, target-type ip) → Service ${service.name}`, delay })
  }
  for (const binding of state.bindings) {
    if (binding.service !== service.name || binding.targetType !== 'ip') continue
    found.push({ by: { kind: 'TargetGroupBinding', name: binding.name }, service: service.name, via: `TargetGroupBinding ${ns}/${binding.name} (targetType ip) → Service ${service.name}` })
  }
  return found
}

/** A workload (or unowned Pod) and every way its pods are IP targets. */
export interface Targeted {
  record: WorkloadRecord
  targets: IpTarget[]
}

const key = (record: Pick<WorkloadRecord, 'kind' | 'name'>) => `${record.kind}/${record.name}`

/** The workloads of the namespace that are IP targets in `state`, by `Kind/name`. */
export function targetedWorkloads(view: ClusterView, state: LbState): Map<string, Targeted> {
  const result = new Map<string, Targeted>()
  for (const service of state.services) {
    const targets = ipTargets(state, service)
    if (targets.length === 0) continue
    const selected = view.workloadsMatching(state.namespace, service.selector).filter((r) => !state.workload || key(r) !== key(state.workload))
    if (state.workload && selects(service.selector, state.workload.labels)) selected.push(state.workload)
    for (const record of selected) {
      const entry = result.get(key(record)) ?? { record, targets: [] }
      entry.targets.push(...targets)
      result.set(key(record), entry)
    }
  }
  return result
}

function replaced<T extends { name: string }>(live: Iterable<T>, name: string, record: T | undefined): T[] {
  const list = [...live].filter((item) => item.name !== name)
  return record ? [...list, record] : list
}

/** The namespace as it is in the view. */
export function liveState(view: ClusterView, namespace: string): LbState {
  return {
    namespace,
    services: [...view.services(namespace)],
    ingresses: [...view.ingresses(namespace)],
    bindings: [...view.targetGroupBindings(namespace)],
    labels: view.namespace(namespace)?.labels,
  }
}

/**
 * The namespace as the review's object (`object`) or its old object (`oldObject`) leaves it: the reviewed
 * Service, Ingress, TargetGroupBinding, Namespace or workload in place of the cached one (absent when that
 * side has no object: the state before a CREATE).
 */
export function stateWith(view: ClusterView, review: ReviewInput, side: 'object' | 'oldObject', audit: boolean): LbState | undefined {
  const subject = review.object ?? review.oldObject
  if (!subject) return undefined
  if (review.kind === 'Namespace' && review.group === '') {
    const name = subject.metadata?.name ?? ''
    const labels = review[side]?.metadata?.labels ?? {}
    return { ...liveState(view, name), labels }
  }
  const namespace = namespaceOf(review, subject)
  const live = liveState(view, namespace)
  const state: LbState = audit && !view.namespace(namespace) ? { ...live, labels: undefined } : { ...live, labels: live.labels ?? {} }
  const object = review[side] ? inNamespace(review[side]!, namespace) : undefined
  const name = subject.metadata?.name ?? ''
  if (review.group === '' && review.kind === 'Service') return { ...state, services: replaced(state.services, name, object ? serviceRecord(object) : undefined) }
  if (review.group === 'networking.k8s.io' && review.kind === 'Ingress') return { ...state, ingresses: replaced(state.ingresses, name, object ? ingressRecord(object) : undefined) }
  if (review.group === 'elbv2.k8s.aws' && review.kind === 'TargetGroupBinding') return { ...state, bindings: replaced(state.bindings, name, object ? targetGroupBindingRecord(object) : undefined) }
  if (isGuardedWorkload(review.group, review.kind)) {
    const record = object ? workloadRecord(review.kind, object) : undefined
    return record ? { ...state, workload: record } : undefined
  }
  return undefined
}

/** Whether the review's own object is one of the ways `targeted` is a target (or is the workload itself). */
export function concernsReview(review: ReviewInput, targeted: Targeted): boolean {
  const name = (review.object ?? review.oldObject)?.metadata?.name ?? ''
  if (review.kind === 'Namespace' && review.group === '') return true
  if (isGuardedWorkload(review.group, review.kind)) return targeted.record.kind === review.kind && targeted.record.name === name
  return targeted.targets.some((t) => (t.by.kind === review.kind && t.by.name === name) || (review.kind === 'Service' && t.service === name))
}

export const GATE_LABEL_TEXT = `${GATE_INJECT_LABEL}: enabled`

export const describeTargets = (targets: readonly IpTarget[]) => {
  const unique = [...new Set(targets.map((t) => t.via))]
  return unique.slice(0, 2).join('; ') + (unique.length > 2 ? ` and ${unique.length - 2} more` : '')
}

/**
 * The findings for one review: `judge` says what is wrong with a targeted workload in a state (or
 * nothing). A CREATE only warns (GitOps tools apply in any order); on an UPDATE, what the old state
 * already had is a warning that says so, and what the change breaks keeps the rule's action.
 */
export function transitionFindings(
  view: ClusterView,
  review: ReviewInput & { object: KubeObject },
  judge: (targeted: Targeted, state: LbState) => Omit<RuleFinding, 'atMostWarn'> | undefined,
): RuleFinding[] {
  const audit = review.audit === true
  // An audit judges the files as one state: each problem once, on the workload (not again on every
  // Service, Ingress and Namespace that leads to it).
  if (audit && !isGuardedWorkload(review.group, review.kind)) return []
  const after = stateWith(view, review, 'object', audit)
  if (!after || after.labels === undefined) return []
  const now = [...targetedWorkloads(view, after).values()].filter((t) => concernsReview(review, t))
  const found = now.flatMap((t) => {
    const finding = judge(t, after)
    return finding ? [{ key: key(t.record), finding }] : []
  })
  if (found.length === 0) return []
  if (audit) return found.map((f) => f.finding)
  if (review.operation !== 'UPDATE' || !review.oldObject) return found.map((f) => ({ ...f.finding, atMostWarn: true }))
  const before = stateWith(view, review, 'oldObject', false)
  const had = new Set<string>()
  if (before) {
    for (const t of targetedWorkloads(view, before).values()) {
      const finding = judge(t, before)
      if (finding) had.add(key(t.record))
    }
  }
  return found.map((f) => (had.has(f.key) ? { ...f.finding, message: `${f.finding.message} (already so before this change)`, atMostWarn: true } : f.finding))
}

/** The longest deregistration delay among `targets` (those whose delay can be known), or undefined. */
export function longestDelay(targets: readonly IpTarget[]): (IpTarget & { delay: NonNullable<IpTarget['delay']> }) | undefined {
  let longest: (IpTarget & { delay: NonNullable<IpTarget['delay']> }) | undefined
  for (const target of targets) if (target.delay && (!longest || target.delay.seconds > longest.delay.seconds)) longest = target as typeof longest
  return longest
}

/** The longest deregistration delay of the target groups the reviewed workload's pods are IP targets of. */
export function workloadDeregistrationDelay(view: ClusterView, review: ReviewInput): number | undefined {
  const state = stateWith(view, review, 'object', false)
  if (!state?.workload) return undefined
  return longestDelay(targetedWorkloads(view, state).get(key(state.workload))?.targets ?? [])?.delay.seconds
}
