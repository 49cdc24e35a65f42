// Label selectors as Kubernetes applies them to a workload's pods: equality selectors (Services) and full
// LabelSelectors (PDBs), counting the labels controllers add to pods.
import type { WorkloadRecord } from './records.ts'

/** Whether `selector` selects the pods of `record`, counting the labels its controller adds. */
export function selectsPods(selector: Readonly<Record<string, string>>, record: Pick<WorkloadRecord, 'labels' | 'podLabels'>): boolean {
  for (const key in selector) {
    if (record.labels[key] === selector[key]) continue
    const added = record.podLabels?.[key]
    if (added === '*' || added?.includes(selector[key]!)) continue
    return false
  }
  return true
}

/** A Kubernetes LabelSelector: matchLabels AND every matchExpression (PDBs, workloads, NetworkPolicies). */
export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>> | null
  matchExpressions?: readonly { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: readonly string[] | null }[] | null
}

/** The values a pod of `record` can carry for `key`: its template's, or what its controller adds. */
function labelValues(record: Pick<WorkloadRecord, 'labels' | 'podLabels'>, key: string): readonly string[] | '*' | undefined {
  const own = record.labels[key]
  if (own !== undefined) return [own]
  return record.podLabels?.[key]
}

/**
 * Whether `selector` selects the pods of `record`, as the API server's labels.Selector does: every
 * matchLabels pair and every expression must hold (an empty selector selects everything). Labels a
 * controller adds count (see podLabels); a '*' value (a hash) may be anything, so only Exists and
 * DoesNotExist decide on it.
 */
export function selectorSelects(selector: LabelSelector, record: Pick<WorkloadRecord, 'labels' | 'podLabels'>): boolean {
  if (selector.matchLabels && !selectsPods(selector.matchLabels, record)) return false
  for (const expression of selector.matchExpressions ?? []) {
    const values = labelValues(record, expression.key)
    const wanted = expression.values ?? []
    switch (expression.operator) {
      case 'Exists':
        if (values === undefined) return false
        break
      case 'DoesNotExist':
        if (values !== undefined) return false
        break
      case 'In':
        if (values === undefined || (values !== '*' && !values.some((v) => wanted.includes(v)))) return false
        break
      case 'NotIn':
        // A pod whose value is unknown ('*') or one of several may still be outside the set.
        if (values !== undefined && values !== '*' && values.every((v) => wanted.includes(v))) return false
        break
      default:
        return false
    }
  }
  return true
}

/** Label keys controllers add to pods: a selector on them cannot use the template-label index. */
export const CONTROLLER_POD_LABEL_KEYS = new Set([
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-revision-hash',
  'pod-template-hash',
  'rollouts-pod-template-hash',
  'pod-template-generation',
  'job-name',
  'batch.kubernetes.io/job-name',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
])

export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false
  return true
}
