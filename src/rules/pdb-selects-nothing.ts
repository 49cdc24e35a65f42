// pdb-selects-nothing: a PodDisruptionBudget whose selector matches no pods protects nothing: a drain
// or the cluster autoscaler evicts every replica of the workload it was meant for at once (503s),
// and the PDB "passes every check and ships". The selector is read as the API server reads it:
// matchLabels AND every matchExpression, with the labels controllers add to pods; no selector selects
// nothing, and neither does an empty one in policy/v1beta1 (in policy/v1 it selects every pod).
// Transition-aware like service-selector: a CREATE only warns (Helm installs PDBs before workloads),
// an UPDATE that orphans it is denied, and so is a workload UPDATE that relabels its pods away.
import { labelText, type ClusterView } from '../cluster/view.ts'
import { pdbRecord, selectorOf, type PdbRecord } from '../cluster/disruption-records.ts'
import { selectorSelects, type LabelSelector } from '../cluster/label-selectors.ts'
import type { ReviewInput, RuleFinding } from '../model/types.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { isGuardedWorkload } from '../workloads/pod-template.ts'
import { inNamespace, isPdbReview, selectorText } from './disruption.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import { describeWorkloads, namespaceOf, reviewedWorkload, usableCluster } from './referential.ts'
import type { ReviewMemo } from './review-memo.ts'
import { defineRule } from './rule.ts'

/** The labels of the workload that shares most matchLabels pairs, as the selector to use. */
function selectorFix(view: ClusterView, pdb: PdbRecord, previous?: LabelSelector): string {
  if (previous) return podSpecFixSnippet(['spec', 'selector'], previous) + '   # as before this change, or the labels of the pods to protect'
  const wanted: Readonly<Record<string, string>> = pdb.matchLabels ?? {}
  let best: { labels: Readonly<Record<string, string>>; shared: number } | undefined
  for (const [key, value] of Object.entries(wanted)) {
    for (const candidate of view.workloadsMatching(pdb.namespace, { [key]: value })) {
      const shared = Object.entries(wanted).filter(([k, v]) => candidate.labels[k] === v).length
      if (!best || shared > best.shared) best = { labels: candidate.labels, shared }
    }
  }
  const labels = best ? Object.fromEntries(Object.keys(wanted).filter((k) => k in best.labels).map((k) => [k, best.labels[k]])) : { app: '<label of the pods to protect>' }
  return podSpecFixSnippet(['spec', 'selector'], { matchLabels: labels }) + '   # the pod-template labels of the workload to protect'
}

function judgePdb(view: ClusterView, review: ReviewInput, namespace: string): RuleFinding[] {
  const pdb = pdbRecord(inNamespace(review.object!, namespace))
  const name = `PodDisruptionBudget ${namespace}/${pdb.name}`
  const selector = selectorOf(pdb)
  if (!selector) {
    const why = review.object?.spec?.['selector'] ? 'an empty selector selects no pods in policy/v1beta1' : 'it has no selector, and a PDB without one selects no pods'
    return [{ message: `${name} protects nothing: ${why}`, fix: selectorFix(view, pdb) }]
  }
  if (view.workloadsSelectedBy(namespace, selector).length > 0) return []
  const where = `${name} protects nothing: no workload in ${namespace} has pods matching ${selectorText(selector)}`
  const fix = selectorFix(view, pdb)
  if (review.operation === 'UPDATE' && review.oldObject) {
    const old = pdbRecord(inNamespace(review.oldObject, namespace))
    const previous = selectorOf(old)
    const before = previous ? view.workloadsSelectedBy(namespace, previous) : []
    if (previous && before.length > 0) {
      return [{ message: `this change would leave ${name} protecting nothing: ${selectorText(selector)} matches no pods (${selectorText(previous)} matched ${describeWorkloads(before)})`, fix: selectorFix(view, pdb, { ...(previous.matchLabels ? { matchLabels: previous.matchLabels } : {}), ...(previous.matchExpressions ? { matchExpressions: previous.matchExpressions } : {}) }) }]
    }
  }
  if (!review.audit) return [{ message: `${where} (yet)`, fix, atMostWarn: true }]
  const unknown = view.podMakersUnknown?.(namespace, selector.matchLabels ?? undefined)
  return unknown ? [{ message: `${where}; ${unknown}, so the audit cannot tell`, fix, atMostWarn: true }] : [{ message: where, fix }]
}

/** A workload UPDATE whose new pod labels fall out of a PDB that protected them and nothing else. */
function judgeRelabel(view: ClusterView, review: ReviewInput, namespace: string, memo: ReviewMemo | undefined): RuleFinding[] {
  const current = reviewedWorkload(review, 'object', memo)
  const old = reviewedWorkload(review, 'oldObject', memo)
  if (!current || !old) return []
  const findings: RuleFinding[] = []
  for (const pdb of view.disruptionBudgets(namespace)) {
    const selector = selectorOf(pdb)
    if (!selector || !selectorSelects(selector, old) || selectorSelects(selector, current)) continue
    const others = view.workloadsSelectedBy(namespace, selector).filter((r) => !(r.kind === current.kind && r.name === current.name))
    if (others.length > 0) continue
    const specPath = current.kind === 'Pod' ? [] : ['spec', 'template']
    const lost = Object.entries(selector.matchLabels ?? {}).filter(([k, v]) => current.labels[k] !== v)
    findings.push({
      message: `this change would leave PodDisruptionBudget ${namespace}/${pdb.name} protecting nothing: its selector ${selectorText(selector)} no longer matches the pod labels (${labelText(current.labels)})`,
      fix: lost.length > 0 ? podSpecFixSnippet([...specPath, 'metadata', 'labels'], Object.fromEntries(lost)) : `# change PodDisruptionBudget ${pdb.name}'s selector in the same apply, to match the new pod labels`,
    })
  }
  return findings
}

export const pdbSelectsNothing = defineRule({
  id: 'pdb-selects-nothing',
  summary: "A PodDisruptionBudget's selector matches pods in its namespace, and workload changes do not orphan one.",
  why: 'a PodDisruptionBudget that selects no pods protects nothing: a node drain evicts every replica at once (503s)',
  fixable: false,
  remedy: 'the selector (or labels) to use',
  defaultAction: 'deny',
  judges: [{ kinds: ['PodDisruptionBudget', ...POD_TEMPLATE_KINDS], operations: ['CREATE', 'UPDATE'] }],
  reads: ['PodDisruptionBudget', ...POD_TEMPLATE_KINDS],
  check({ review, settings, memo }) {
    const pdb = isPdbReview(review)
    const relabel = !pdb && review.operation === 'UPDATE' && review.oldObject !== null && isGuardedWorkload(review.group, review.kind)
    if (!pdb && !relabel) return []
    const cluster = usableCluster(settings, 'pdb-selects-nothing')
    if (!cluster) return []
    if ('finding' in cluster) return [cluster.finding]
    const namespace = namespaceOf(review, review.object)
    return pdb ? judgePdb(cluster.view, review, namespace) : judgeRelabel(cluster.view, review, namespace, memo)
  },
})
