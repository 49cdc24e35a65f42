// What lb-readiness-gate and lb-deregistration share: which pods an AWS load balancer targets by IP
// (through an NLB Service, an ALB Ingress or a TargetGroupBinding), each target group's deregistration
// delay, and the state of one namespace as it is and as a review would leave it, so both rules judge a
// change from every side (the workload, the Service, the Ingress, the TargetGroupBinding, the
// Namespace) and tell what the change breaks from what was already so.
import type { WorkloadRecord } from '../cluster/records.ts'
import { selects } from '../cluster/label-selectors.ts'
import { serviceRecord, type ServiceRecord } from '../cluster/service-records.ts'
import { ingressRecord, type IngressRecord } from '../cluster/routes.ts'
import { ALB_TARGET_GROUP_ATTRIBUTES, DEFAULT_DEREGISTRATION_SECONDS, GATE_INJECT_LABEL, NLB_TARGET_GROUP_ATTRIBUTES, targetGroupBindingRecord, type TargetGroupBindingRecord } from '../cluster/load-balancers.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { KubeObject, ReviewInput, RuleFinding } from '../model/types.ts'
import { isGuardedWorkload } from '../workloads/pod-template.ts'
import { inNamespace } from './disruption.ts'
import { namespaceOf, reviewedWorkload } from './referential.ts'
import { once, type ReviewMemo } from './review-memo.ts'
import { jsonEqual } from '../model/json-equal.ts'

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

/** The namespace's objects that decide targets: live (from the view), or as a review leaves them. */
export interface LbState {
  namespace: string
  /** The Namespace's labels; undefined when unknown (an audit whose files hold no such Namespace). */
  labels: Readonly<Record<string, string>> | undefined
  /** The workload under review, in place of its cached record. */
  workload?: WorkloadRecord
  /** The Service, Ingress or TargetGroupBinding under review as this side leaves it (no record: none), in place of the cached one. */
  reviewed?: ReviewedObject
}

export type ReviewedObject =
  | { kind: 'Service'; name: string; record: ServiceRecord | undefined }
  | { kind: 'Ingress'; name: string; record: IngressRecord | undefined }
  | { kind: 'TargetGroupBinding'; name: string; record: TargetGroupBindingRecord | undefined }

function delayOf(seconds: number | undefined, annotation: string, on: string): NonNullable<IpTarget['delay']> {
  return seconds === undefined ? { seconds: DEFAULT_DEREGISTRATION_SECONDS, defaulted: true, annotation, on } : { seconds, defaulted: false, annotation, on }
}

const byName = <T extends { name: string }>(list: T[]): T[] => list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/** `live` (in name order) with the reviewed object named `name` in place of its cached one, if `record` belongs. */
function withReviewed<T extends { name: string }>(live: readonly T[], name: string, record: T | undefined): readonly T[] {
  const rest = live.filter((item) => item.name !== name)
  return record ? byName([...rest, record]) : rest.length === live.length ? live : rest
}

/** The alb Ingresses of `state` that send traffic to `service` (the view's index, and the reviewed Ingress). */
function albIngressesTo(view: ClusterView, state: LbState, service: string): readonly IngressRecord[] {
  const live = view.albIngressesTo(state.namespace, service)
  const reviewed = state.reviewed
  if (reviewed?.kind !== 'Ingress') return live
  const record = reviewed.record?.alb && reviewed.record.backends.some((b) => b.service === service) ? reviewed.record : undefined
  return withReviewed(live, reviewed.name, record)
}

/** The TargetGroupBindings of `state` whose serviceRef names `service`. */
function bindingsTo(view: ClusterView, state: LbState, service: string): readonly TargetGroupBindingRecord[] {
  const live = view.targetGroupBindingsTo(state.namespace, service)
  const reviewed = state.reviewed
  if (reviewed?.kind !== 'TargetGroupBinding') return live
  return withReviewed(live, reviewed.name, reviewed.record?.service === service ? reviewed.record : undefined)
}

/** The Services of `state`'s namespace (the reviewed one last, in place of its cached record). */
function servicesIn(view: ClusterView, state: LbState): ServiceRecord[] {
  const live = [...view.services(state.namespace)]
  const reviewed = state.reviewed
  if (reviewed?.kind !== 'Service') return live
  const list = live.filter((service) => service.name !== reviewed.name)
  return reviewed.record ? [...list, reviewed.record] : list
}

/** Every way `service`'s pods are IP targets in `state`: the Service itself, alb Ingresses, TargetGroupBindings (each in name order). */
export function ipTargets(view: ClusterView, state: LbState, service: ServiceRecord): IpTarget[] {
  const ns = state.namespace
  const found: IpTarget[] = []
  if (service.aws?.nlbIp) {
    found.push({ by: { kind: 'Service', name: service.name }, service: service.name, via: `Service ${ns}/${service.name} (NLB, target-type ip)`, delay: delayOf(service.aws.nlbDelay, NLB_TARGET_GROUP_ATTRIBUTES, `Service ${service.name}`) })
  }
  for (const ingress of albIngressesTo(view, state, service.name)) {
    // A Service's own alb.ingress.kubernetes.io annotations override the Ingress's for its target group.
    if ((service.aws?.albTargetType ?? ingress.alb!.targetType) !== 'ip') continue
    const delay = service.aws?.albDelay !== undefined ? delayOf(service.aws.albDelay, ALB_TARGET_GROUP_ATTRIBUTES, `Service ${service.name}`) : delayOf(ingress.alb!.delay, ALB_TARGET_GROUP_ATTRIBUTES, `Ingress ${ingress.name}`)
    found.push({ by: { kind: 'Ingress', name: ingress.name }, service: service.name, via: `Ingress ${ns}/${ingress.name} (alb, target-type ip) → Service ${service.name}`, delay })
  }
  for (const binding of bindingsTo(view, state, service.name)) {
    if (binding.targetType !== 'ip') continue
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

/** The workloads of the namespace that are IP targets in `state`, by `Kind/name`: every Service's targets, then the workloads it selects. */
export function targetedWorkloads(view: ClusterView, state: LbState): Map<string, Targeted> {
  const result = new Map<string, Targeted>()
  for (const service of servicesIn(view, state)) {
    const targets = ipTargets(view, state, service)
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

/**
 * The workload under review (state.workload) and every way its pods are IP targets in `state`, or
 * undefined when they are none: what targetedWorkloads says of it, from the Services that select it
 * alone (a workload's review looks at no other workload).
 */
export function targetedReviewed(view: ClusterView, state: LbState & { workload: WorkloadRecord }): Targeted | undefined {
  let targets: IpTarget[] | undefined
  for (const service of view.services(state.namespace)) {
    if (!selects(service.selector, state.workload.labels)) continue
    const found = ipTargets(view, state, service)
    if (found.length > 0) targets = targets ? [...targets, ...found] : found
  }
  return targets ? { record: state.workload, targets } : undefined
}

/**
 * The namespace as the review's object (`object`) or its old object (`oldObject`) leaves it: the reviewed
 * Service, Ingress, TargetGroupBinding, Namespace or workload in place of the cached one (absent when that
 * side has no object: the state before a CREATE). Labels of a Namespace the view lacks read as none.
 */
export function stateWith(view: ClusterView, review: ReviewInput, side: 'object' | 'oldObject', memo?: ReviewMemo): LbState | undefined {
  const subject = review.object ?? review.oldObject
  if (!subject) return undefined
  if (review.kind === 'Namespace' && review.group === '') return { namespace: subject.metadata?.name ?? '', labels: review[side]?.metadata?.labels ?? {} }
  const namespace = namespaceOf(review, subject)
  const state: LbState = { namespace, labels: view.namespace(namespace)?.labels ?? {} }
  const object = review[side] ? inNamespace(review[side]!, namespace) : undefined
  const name = subject.metadata?.name ?? ''
  if (review.group === '' && review.kind === 'Service') return { ...state, reviewed: { kind: 'Service', name, record: object ? serviceRecord(object) : undefined } }
  if (review.group === 'networking.k8s.io' && review.kind === 'Ingress') return { ...state, reviewed: { kind: 'Ingress', name, record: object ? ingressRecord(object) : undefined } }
  if (review.group === 'elbv2.k8s.aws' && review.kind === 'TargetGroupBinding') return { ...state, reviewed: { kind: 'TargetGroupBinding', name, record: object ? targetGroupBindingRecord(object) : undefined } }
  if (isGuardedWorkload(review.group, review.kind)) {
    const record = reviewedWorkload(review, side, memo)
    return record ? { ...state, workload: record } : undefined
  }
  return undefined
}

/** A side of the review: its state and the workloads that are IP targets in it (for a workload's review, only that workload). */
interface Side {
  state: LbState
  targeted: Targeted[]
  /**
   * The old side of a workload's UPDATE that leaves everything these rules read as it was (a restart,
   * an image bump): the same targets and the same judgement as the new side, so nothing is worked out twice.
   */
  sameAsObject?: true
}

/** The `side` of the review, worked out once per review (lb-readiness-gate, lb-deregistration and pre-stop share it). */
function sideOf(view: ClusterView, review: ReviewInput, side: 'object' | 'oldObject', memo: ReviewMemo | undefined): Side | undefined {
  return once(memo, side === 'object' ? 'lb.object' : 'lb.oldObject', review, () => {
    const state = stateWith(view, review, side, memo)
    if (!state) return undefined
    if (state.workload) {
      if (side === 'oldObject') {
        const after = sideOf(view, review, 'object', memo)
        if (after?.state.workload && jsonEqual(after.state.workload, state.workload)) return { ...after, sameAsObject: true as const }
      }
      const targeted = targetedReviewed(view, { ...state, workload: state.workload })
      return { state, targeted: targeted ? [targeted] : [] }
    }
    // A Namespace's label decides no target: both sides have the same ones.
    const other = side === 'oldObject' && review.kind === 'Namespace' ? sideOf(view, review, 'object', memo) : undefined
    return { state, targeted: other ? other.targeted : [...targetedWorkloads(view, state).values()] }
  })
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
  memo?: ReviewMemo,
): RuleFinding[] {
  const audit = review.audit === true
  // An audit judges the files as one state: each problem once, on the workload (not again on every
  // Service, Ingress and Namespace that leads to it); and not at all in a Namespace the files lack.
  if (audit && (!isGuardedWorkload(review.group, review.kind) || !view.namespace(namespaceOf(review, review.object)))) return []
  const after = sideOf(view, review, 'object', memo)
  if (!after) return []
  const found = after.targeted.flatMap((t) => {
    if (!concernsReview(review, t)) return []
    const finding = judge(t, after.state)
    return finding ? [{ key: key(t.record), finding }] : []
  })
  if (found.length === 0) return []
  if (audit) return found.map((f) => f.finding)
  if (review.operation !== 'UPDATE' || !review.oldObject) return found.map((f) => ({ ...f.finding, atMostWarn: true }))
  const before = sideOf(view, review, 'oldObject', memo)
  const had = new Set<string>()
  if (before?.sameAsObject) for (const f of found) had.add(f.key)
  else for (const t of before?.targeted ?? []) if (judge(t, before!.state)) had.add(key(t.record))
  return found.map((f) => (had.has(f.key) ? { ...f.finding, message: `${f.finding.message} (already so before this change)`, atMostWarn: true } : f.finding))
}

/** The longest deregistration delay among `targets` (those whose delay can be known), or undefined. */
export function longestDelay(targets: readonly IpTarget[]): (IpTarget & { delay: NonNullable<IpTarget['delay']> }) | undefined {
  let longest: (IpTarget & { delay: NonNullable<IpTarget['delay']> }) | undefined
  for (const target of targets) if (target.delay && (!longest || target.delay.seconds > longest.delay.seconds)) longest = target as typeof longest
  return longest
}

/** The longest deregistration delay of the target groups the reviewed workload's pods are IP targets of. */
export function workloadDeregistrationDelay(view: ClusterView, review: ReviewInput, memo?: ReviewMemo): number | undefined {
  const side = sideOf(view, review, 'object', memo)
  if (!side?.state.workload) return undefined
  return longestDelay(side.targeted[0]?.targets ?? [])?.delay.seconds
}
