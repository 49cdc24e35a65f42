// pdb-missing: a serving Deployment, StatefulSet or Argo Rollout that runs two or more replicas (or
// that an HPA may scale to two or more) with no PodDisruptionBudget selecting its pods. A node drain
// or the cluster autoscaler may then evict all of them at once, and the Service has no endpoints
// until they come back (seed 004: 503s during node maintenance). StatefulSets count, HPA-managed
// workloads whose replicas are unset count, and a PDB counts only if its whole selector (matchLabels
// AND matchExpressions) selects the pods. A single replica is left alone: a PDB cannot keep it up
// through a drain without blocking the drain (pdb-blocks-drain). A warning: the fix is a new object.
import { dump } from 'js-yaml'
import type { ClusterView } from '../cluster/view.ts'
import { selectorOf } from '../cluster/disruption-records.ts'
import { selectorSelects } from '../cluster/label-selectors.ts'
import type { WorkloadRecord } from '../cluster/records.ts'
import type { KubeObject, ReviewInput, RuleFinding } from '../model/types.ts'
import { podTemplateOf } from '../workloads/pod-template.ts'
import { groupOf, selectorText } from './disruption.ts'
import { namespaceOf, reviewedWorkload, usableCluster } from './referential.ts'
import { defineRule } from './rule.ts'
import { servingSlots } from './serving.ts'

const JUDGED: Record<string, string> = { Deployment: 'apps', StatefulSet: 'apps', Rollout: 'argoproj.io' }

/** A PDB for the workload, selecting its pods as the workload's own selector does. */
function pdbFor(object: KubeObject, record: WorkloadRecord, namespace: string): string {
  const selector = (object.spec?.['selector'] as object | undefined) ?? { matchLabels: record.labels }
  const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: record.name, namespace }, spec: { maxUnavailable: 1, selector } }
  return dump(pdb, { indent: 2, noArrayIndent: true, lineWidth: -1 }).trimEnd()
}

function judge(view: ClusterView, review: ReviewInput & { object: KubeObject }, record: WorkloadRecord, namespace: string, because: string): RuleFinding[] {
  const hpa = view.autoscalerFor(namespace, { group: groupOf(record.kind), kind: record.kind, name: record.name })
  const most = hpa ? Math.max(hpa.maxReplicas, record.replicas ?? 0) : (record.replicas ?? 0)
  if (most < 2) return []
  let nearMiss: string | undefined
  for (const pdb of view.disruptionBudgets(namespace)) {
    const selector = selectorOf(pdb)
    if (!selector) continue
    if (selectorSelects(selector, record)) return []
    // Its matchLabels hold but an expression leaves the pods out: say so (the terms are ANDed).
    if (!nearMiss && selector.matchLabels && selector.matchExpressions?.length && selectorSelects({ matchLabels: selector.matchLabels }, record)) {
      nearMiss = `; PodDisruptionBudget ${pdb.name} matches their labels but its matchExpressions (${selectorText({ matchExpressions: selector.matchExpressions })}) leave them out`
    }
  }
  const runs = hpa ? `may run ${hpa.maxReplicas} replicas (HorizontalPodAutoscaler ${hpa.name})` : `runs ${record.replicas} replicas`
  return [
    {
      message: `${review.kind} ${namespace}/${record.name} ${runs} and no PodDisruptionBudget selects its pods: a node drain or the cluster autoscaler may evict them all at once${nearMiss ?? ''}`,
      fix: pdbFor(review.object, record, namespace),
      because,
    },
  ]
}

export const pdbMissing = defineRule({
  id: 'pdb-missing',
  summary: 'A serving workload with two or more replicas has a PodDisruptionBudget.',
  why: 'without a PodDisruptionBudget a node drain may evict every replica at once, and the Service answers 503 until they are back',
  fixable: false,
  remedy: 'a PodDisruptionBudget with maxUnavailable: 1',
  defaultAction: 'warn',
  judges: [{ kinds: ['Deployment', 'StatefulSet', 'Rollout'], operations: ['CREATE', 'UPDATE'] }],
  reads: ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Service'],
  check({ review, settings, memo }) {
    if (JUDGED[review.kind] !== review.group) return []
    const template = podTemplateOf(review)
    if (!template) return []
    const cluster = usableCluster(settings, 'pdb-missing')
    if (!cluster || 'finding' in cluster) return [] // a warning at most: not worth a "cannot check"
    const namespace = namespaceOf(review, review.object)
    const record = reviewedWorkload(review, 'object', memo)
    if (!record) return []
    const serving = servingSlots(review, template, settings, memo)
    if (serving.length === 0) return []
    return judge(cluster.view, review, record, namespace, `serving: ${serving[0]!.why}`)
  },
})
