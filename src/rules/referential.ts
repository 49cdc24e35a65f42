// Shared by the rules that judge an object against the rest of the cluster (service-selector,
// service-target-port): what is under review, and the answer while cluster state is unusable.
import { serviceRecord, type ServiceRecord } from '../cluster/service-records.ts'
import { workloadRecord, type WorkloadRecord } from '../cluster/records.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { KubeObject, ReviewInput, RuleFinding } from '../model/types.ts'
import { isGuardedWorkload } from '../workloads/pod-template.ts'
import type { Rule, RuleSettings } from './rule.ts'
import { once, type ReviewMemo } from './review-memo.ts'

export type Subject =
  | { type: 'service'; service: ServiceRecord; old?: ServiceRecord; namespace: string }
  | { type: 'workload'; current: WorkloadRecord; old: WorkloadRecord; namespace: string }

/** The namespace a review's object lives in ('default' when neither the request nor the object says). */
export function namespaceOf(review: ReviewInput, object: KubeObject): string {
  return review.namespace || object.metadata?.namespace || 'default'
}

/**
 * The lean record of the reviewed workload (or Pod) as the review's `side` leaves it, in the review's
 * namespace; undefined when that side has no object or its owner stands for it. Worked out once per
 * review (several rules compare the two sides).
 */
export function reviewedWorkload(review: ReviewInput, side: 'object' | 'oldObject', memo?: ReviewMemo): WorkloadRecord | undefined {
  return once(memo, side === 'object' ? 'workload.object' : 'workload.oldObject', review, () => {
    const object = review[side]
    const record = object ? workloadRecord(review.kind, object) : undefined
    return record ? { ...record, namespace: namespaceOf(review, (review.object ?? review.oldObject)!) } : undefined
  })
}

/** A Service (CREATE/UPDATE) or a workload UPDATE, or undefined when neither rule has anything to judge. */
export function subjectOf(review: ReviewInput & { object: KubeObject }, memo?: ReviewMemo): Subject | undefined {
  const namespace = namespaceOf(review, review.object)
  if (review.group === '' && review.kind === 'Service') {
    const service = serviceRecord({ ...review.object, metadata: { ...review.object.metadata, namespace } })
    if (!service) return undefined
    const old = review.oldObject ? serviceRecord({ ...review.oldObject, metadata: { ...review.oldObject.metadata, namespace } }) : undefined
    return { type: 'service', service, namespace, ...(old ? { old } : {}) }
  }
  if (review.operation !== 'UPDATE' || !review.oldObject || !isGuardedWorkload(review.group, review.kind)) return undefined
  const current = reviewedWorkload(review, 'object', memo)
  const old = reviewedWorkload(review, 'oldObject', memo)
  return current && old ? { type: 'workload', current, old, namespace } : undefined
}

/** The cluster view, or the finding that stands in for the check while it is unusable. */
export function usableCluster(settings: RuleSettings, ruleId: string): { view: ClusterView } | { finding: RuleFinding } | undefined {
  const view = settings.cluster
  if (!view) return undefined
  const why = view.unavailable()
  if (!why) return { view }
  return {
    finding: {
      message: `cannot check ${ruleId}: cluster state unavailable (${why})`,
      fix: '# hitless will check again once its cluster cache has synced; see /readyz',
      atMostWarn: settings.onClusterUnavailable === 'warn',
      indeterminate: true,
    },
  }
}

export function othersMatching(view: ClusterView, subject: { namespace: string; current: WorkloadRecord }, selector: Readonly<Record<string, string>>): WorkloadRecord[] {
  return view
    .workloadsMatching(subject.namespace, selector)
    .filter((record) => !(record.kind === subject.current.kind && record.name === subject.current.name))
}

export const describeWorkloads = (records: WorkloadRecord[]) =>
  records.slice(0, 3).map((r) => `${r.kind} ${r.name}`).join(', ') + (records.length > 3 ? ` and ${records.length - 3} more` : '')

export interface ReferentialJudges {
  service(view: ClusterView, subject: Extract<Subject, { type: 'service' }>, review: ReviewInput): RuleFinding[]
  workload(view: ClusterView, subject: Extract<Subject, { type: 'workload' }>): RuleFinding[]
}

/** The check() of a referential rule: find the subject, make sure the cluster view is usable, judge. */
export function referentialCheck(ruleId: string, judges: ReferentialJudges): Rule['check'] {
  return ({ review, settings, memo }) => {
    // Nothing to judge against without a cluster: build no records (a review with --cluster off).
    if (!settings.cluster) return []
    const subject = subjectOf(review, memo)
    if (!subject) return []
    const cluster = usableCluster(settings, ruleId)
    if (!cluster) return []
    if ('finding' in cluster) return [cluster.finding]
    return subject.type === 'service' ? judges.service(cluster.view, subject, review) : judges.workload(cluster.view, subject)
  }
}
