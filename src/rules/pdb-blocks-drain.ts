// pdb-blocks-drain: a PodDisruptionBudget that allows no voluntary disruption even when every pod it
// covers is healthy. `kubectl drain`, node upgrades and the cluster autoscaler wait on it forever,
// and whoever runs the upgrade ends up deleting it or the pods by hand, all replicas at once.
// The disruption controller's own arithmetic (src/rules/disruption.ts): maxUnavailable 0 or 0%;
// minAvailable ≥ the expected pods, a percentage rounded up over the workloads' replicas, or the
// HPA's minReplicas when an HPA scales one (the fewest pods it may run). A PDB's own CREATE/UPDATE is
// denied; a workload or HPA change that makes an existing PDB block is warned about (the fix is in
// another object).
import type { ClusterView } from '../cluster/view.ts'
import { hpaRecord, pdbRecord, selectorOf, type HpaRecord } from '../cluster/disruption-records.ts'
import { selectorSelects } from '../cluster/label-selectors.ts'
import type { WorkloadRecord } from '../cluster/records.ts'
import type { ReviewInput, RuleFinding } from '../model/types.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { isGuardedWorkload } from '../workloads/pod-template.ts'
import { blockage, coveredBy, drainFix, groupOf, inNamespace, isHpaReview, isPdbReview } from './disruption.ts'
import { namespaceOf, reviewedWorkload, usableCluster } from './referential.ts'
import type { ReviewMemo } from './review-memo.ts'
import { defineRule } from './rule.ts'

const WHY = 'node drains, upgrades and the cluster autoscaler wait on it forever'

function judgePdb(view: ClusterView, review: ReviewInput, namespace: string): RuleFinding[] {
  const pdb = pdbRecord(inNamespace(review.object!, namespace))
  const found = blockage(pdb, coveredBy(view, pdb))
  if (!found) return []
  return [{ message: `PodDisruptionBudget ${namespace}/${pdb.name} never allows a disruption: ${found.arithmetic}; ${WHY}`, fix: drainFix(found) }]
}

/** A workload or HPA change: the PDBs that allowed a disruption before it and allow none after. */
function judgeChange(view: ClusterView, namespace: string, before: { record: WorkloadRecord; hpa?: HpaRecord | null } | undefined, after: { record: WorkloadRecord; hpa?: HpaRecord | null }, what: string): RuleFinding[] {
  const findings: RuleFinding[] = []
  for (const pdb of view.disruptionBudgets(namespace)) {
    const selector = selectorOf(pdb)
    if (!selector || !selectorSelects(selector, after.record)) continue
    const now = blockage(pdb, coveredBy(view, pdb, after))
    if (!now) continue
    // Blocking already without this change (or without this new workload): not this change's doing.
    const previously = before ? coveredBy(view, pdb, before) : coveredBy(view, pdb).filter((c) => c.record.kind !== after.record.kind || c.record.name !== after.record.name)
    if (blockage(pdb, previously)) continue
    findings.push({
      message: `${what} makes PodDisruptionBudget ${namespace}/${pdb.name} never allow a disruption: ${now.arithmetic}; ${WHY}`,
      fix: `# in PodDisruptionBudget ${pdb.name}:\n${drainFix(now)}`,
      atMostWarn: true,
    })
  }
  return findings
}

function judgeWorkload(view: ClusterView, review: ReviewInput, namespace: string, memo: ReviewMemo | undefined): RuleFinding[] {
  const after = reviewedWorkload(review, 'object', memo)
  if (!after || after.replicas === undefined) return []
  const before = reviewedWorkload(review, 'oldObject', memo)
  return judgeChange(view, namespace, before ? { record: before } : undefined, { record: after }, `this ${review.kind} (replicas ${after.replicas})`)
}

function judgeHpa(view: ClusterView, review: ReviewInput, namespace: string): RuleFinding[] {
  const hpa = hpaRecord(inNamespace(review.object!, namespace))
  if (!hpa) return []
  const target = view.workload(namespace, hpa.targetKind, hpa.targetName)
  if (!target || groupOf(target.kind) !== hpa.targetGroup) return []
  const old = review.oldObject ? hpaRecord(inNamespace(review.oldObject, namespace)) : undefined
  // Before: the old HPA if it scaled the same workload, else whatever scaled it (or its replicas).
  const sameTarget = old && old.targetKind === hpa.targetKind && old.targetName === hpa.targetName && old.targetGroup === hpa.targetGroup
  const before = { record: target, ...(sameTarget ? { hpa: old } : review.operation === 'CREATE' ? { hpa: null } : {}) }
  return judgeChange(view, namespace, before, { record: target, hpa }, `this HorizontalPodAutoscaler (minReplicas ${hpa.minReplicas} for ${target.kind} ${target.name})`)
}

export const pdbBlocksDrain = defineRule({
  id: 'pdb-blocks-drain',
  summary: 'A PodDisruptionBudget allows at least one disruption when all its pods are healthy.',
  why: 'a PodDisruptionBudget that allows no disruption blocks every node drain and upgrade, until someone deletes it and evicts everything at once',
  fixable: false,
  remedy: 'maxUnavailable: 1 (or a lower minAvailable)',
  defaultAction: 'deny',
  judges: [{ kinds: ['PodDisruptionBudget', 'HorizontalPodAutoscaler', ...POD_TEMPLATE_KINDS], operations: ['CREATE', 'UPDATE'] }],
  reads: ['PodDisruptionBudget', 'HorizontalPodAutoscaler', ...POD_TEMPLATE_KINDS],
  check({ review, settings, memo }) {
    const pdb = isPdbReview(review)
    // Workloads and HPAs are changes that affect a PDB; an audit judges the PDB itself, once.
    const other = !review.audit && (isHpaReview(review) || isGuardedWorkload(review.group, review.kind))
    if (!pdb && !other) return []
    const cluster = usableCluster(settings, 'pdb-blocks-drain')
    if (!cluster) return []
    if ('finding' in cluster) return pdb ? [cluster.finding] : []
    const namespace = namespaceOf(review, review.object)
    if (pdb) return judgePdb(cluster.view, review, namespace)
    return isHpaReview(review) ? judgeHpa(cluster.view, review, namespace) : judgeWorkload(cluster.view, review, namespace, memo)
  },
})
