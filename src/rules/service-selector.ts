// service-selector: a Service whose selector matches no pods has no endpoints; every request through it
// fails with 503 (seed 004 §2). Judged on Service CREATE/UPDATE and on workload UPDATEs that relabel
// the pods a Service selects. A CREATE only warns: Helm and kubectl often create the Service first.
import { labelText, type ClusterView } from '../cluster/view.ts'
import { selectsPods } from '../cluster/label-selectors.ts'
import type { ServiceRecord } from '../cluster/service-records.ts'
import type { ReviewInput, RuleFinding } from '../model/types.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import { describeWorkloads, othersMatching, referentialCheck, type Subject } from './referential.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { defineRule } from './rule.ts'

function selectorFix(view: ClusterView, service: ServiceRecord): string {
  // Suggest the labels of the workload that shares most of the selector's pairs, if any does.
  let best: { labels: Readonly<Record<string, string>>; shared: number } | undefined
  for (const [key, value] of Object.entries(service.selector)) {
    for (const candidate of view.workloadsMatching(service.namespace, { [key]: value })) {
      const shared = Object.entries(service.selector).filter(([k, v]) => candidate.labels[k] === v).length
      if (!best || shared > best.shared) best = { labels: candidate.labels, shared }
    }
  }
  const selector = best ? Object.fromEntries(Object.keys(service.selector).filter((k) => k in best.labels).map((k) => [k, best.labels[k]])) : { app: '<label of the pods to serve>' }
  return `spec:\n  selector:\n${Object.entries(selector).map(([k, v]) => `    ${k}: ${v}`).join('\n')}`
}

function judgeService(view: ClusterView, subject: Extract<Subject, { type: 'service' }>, review: ReviewInput): RuleFinding[] {
  const { service, old } = subject
  if (view.workloadsMatching(subject.namespace, service.selector).length > 0) return []
  const where = `Service ${service.namespace}/${service.name} selects no pods: no workload in ${service.namespace} has labels ${labelText(service.selector)}`
  const fix = selectorFix(view, service)
  if (review.operation === 'UPDATE' && old) {
    const before = view.workloadsMatching(subject.namespace, old.selector)
    if (before.length > 0) {
      return [{ message: `this change would leave Service ${service.namespace}/${service.name} with no endpoints: selector ${labelText(service.selector)} matches nothing (${labelText(old.selector)} matched ${describeWorkloads(before)})`, fix }]
    }
  }
  // An admission CREATE may precede its pods; an audited manifest set describes the whole state,
  // unless it cannot know who makes the pods (an operator's custom resource, no workload at all).
  if (!review.audit) return [{ message: `${where} (yet)`, fix, atMostWarn: true }]
  const unknown = view.podMakersUnknown?.(subject.namespace, service.selector)
  return unknown ? [{ message: `${where}; ${unknown}, so the audit cannot tell`, fix, atMostWarn: true }] : [{ message: where, fix }]
}

function judgeRelabel(view: ClusterView, subject: Extract<Subject, { type: 'workload' }>): RuleFinding[] {
  const { current, old } = subject
  const findings: RuleFinding[] = []
  for (const service of view.services(subject.namespace)) {
    if (!selectsPods(service.selector, old) || selectsPods(service.selector, current)) continue
    if (othersMatching(view, subject, service.selector).length > 0) continue
    const lost = Object.entries(service.selector).filter(([k, v]) => current.labels[k] !== v)
    const specPath = current.kind === 'Pod' ? [] : ['spec', 'template']
    findings.push({
      message: `this change would leave Service ${service.namespace}/${service.name} with no endpoints: its selector ${labelText(service.selector)} no longer matches the pod labels (${lost.map(([k]) => `${k}=${current.labels[k] ?? '(removed)'}`).join(', ')})`,
      fix: podSpecFixSnippet([...specPath, 'metadata', 'labels'], Object.fromEntries(lost)),
    })
  }
  return findings
}

export const serviceSelector = defineRule({
  id: 'service-selector',
  summary: "A Service's selector matches pods in its namespace, and workload changes do not orphan a Service.",
  why: 'a Service that selects no pods has no endpoints, and every request through it fails with 503',
  fixable: false,
  remedy: 'the selector (or labels) to use',
  defaultAction: 'deny',
  // Services on their own writes, workloads on the UPDATEs that could orphan one.
  judges: [{ kinds: ['Service', ...POD_TEMPLATE_KINDS], operations: ['CREATE', 'UPDATE'] }],
  reads: ['Service', ...POD_TEMPLATE_KINDS],
  check: referentialCheck('service-selector', { service: judgeService, workload: judgeRelabel }),
})
