// The arithmetic of disruptions, as Kubernetes' own controllers do it, shared by the PDB and rollout
// rules: int-or-percent values scaled and rounded (intstr.GetScaledValueFromIntOrPercent), the number
// of pods a workload is expected to run (its replicas, or its HPA's minReplicas), and what a
// PodDisruptionBudget allows when every pod it covers is healthy (the disruption controller's
// disruptionsAllowed = currentHealthy − desiredHealthy).
import type { ClusterView } from '../cluster/view.ts'
import { selectorOf, type HpaRecord, type PdbRecord } from '../cluster/disruption-records.ts'
import { selectorSelects, type LabelSelector } from '../cluster/label-selectors.ts'
import type { WorkloadRecord } from '../cluster/records.ts'
import { cond } from '../model/cel.ts'
import { groupOfKind } from '../model/kinds.ts'
import type { KubeObject, ReviewInput } from '../model/types.ts'

/** An int-or-percent as a number of pods out of `total`, or undefined when it is neither. */
export function scaled(value: number | string, total: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined
  const match = /^(\d+)%$/.exec(value)
  if (!match) return undefined
  const exact = (Number(match[1]) * total) / 100
  return roundUp ? Math.ceil(exact) : Math.floor(exact)
}

/**
 * The CEL twin of scaled(), for `hitless export-policies`: CEL int, `value` (an int-or-percent, CEL dyn)
 * as a number of pods out of `total` (CEL int ≥ 0), or -1 when it is neither. A percentage is read with
 * the string functions both CELs have (matches, substring, int); integer division rounds down, and
 * adding 99 first rounds up. Up to nine digits, so p × total stays inside int64 (the API server refuses
 * more than 100% for maxUnavailable; a maxSurge of a billion percent is left alone).
 */
export function scaledCel(value: string, total: string, roundUp: boolean): string {
  const percent = `int(${value}.substring(0, size(${value}) - 1))`
  const ofPercent = cond(`type(${value}) == string && ${value}.matches('^[0-9]{1,9}%$')`, `(${percent} * ${total}${roundUp ? ' + 99' : ''}) / 100`, '-1')
  return cond(`type(${value}) == int`, cond(`${value} >= 0`, value, '-1'), ofPercent)
}

/** matchLabels and matchExpressions as one line: `app=web, tier in (a,b), !canary`. */
export function selectorText(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`)
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',')
    terms.push(e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${values})`)
  }
  return terms.length > 0 ? terms.join(', ') : '(everything)'
}

export const show = (value: number | string) => (typeof value === 'string' ? value : String(value))

/** The API group a workload record's kind belongs to (an HPA names its target by group and kind). */
export const groupOf = (kind: string) => groupOfKind(kind) ?? ''

/** How many pods a workload is expected to run: its HPA's floor when one scales it, else its replicas. */
export interface Scale {
  pods: number
  /** Where the number comes from: `replicas 3`, `HorizontalPodAutoscaler web minReplicas 2`. */
  source: string
  /** Bare Pods count as one pod, but the disruption controller cannot scale percentages over them. */
  bare?: boolean
}

/** `view` undefined: no cluster to ask (an HPA cannot be known). `hpa` null: as if none scaled it. */
export function scaleOf(view: ClusterView | undefined, record: Pick<WorkloadRecord, 'kind' | 'name' | 'namespace' | 'replicas'>, hpa: HpaRecord | undefined | null = undefined): Scale | undefined {
  if (record.replicas === undefined) return record.kind === 'Pod' ? { pods: 1, source: 'a Pod of its own', bare: true } : undefined
  const autoscaler = hpa === null ? undefined : (hpa ?? view?.autoscalerFor(record.namespace, { group: groupOf(record.kind), kind: record.kind, name: record.name }))
  if (autoscaler) return { pods: autoscaler.minReplicas, source: `HorizontalPodAutoscaler ${autoscaler.name} minReplicas ${autoscaler.minReplicas}` }
  return { pods: record.replicas, source: `replicas ${record.replicas}` }
}

export interface Blockage {
  /** What the PDB asks for, as written: `minAvailable: 2`. */
  setting: string
  /** Why no disruption is ever allowed, in numbers. */
  arithmetic: string
  /** How many pods it covers (0 when only maxUnavailable: 0 decides). */
  pods: number
}

/**
 * Why `pdb` allows no voluntary disruption of the pods of `selected` even when all are healthy, or
 * undefined when it allows one (or when the number of pods cannot be known: a DaemonSet, a Job, an
 * operator's resource; then nothing is claimed).
 */
export function blockage(pdb: PdbRecord, selected: readonly { record: WorkloadRecord; scale: Scale | undefined }[]): Blockage | undefined {
  const { maxUnavailable } = pdb
  if (maxUnavailable !== undefined) {
    // Scaled rounding up: only an explicit zero (0 or 0%) allows nothing.
    if (scaled(maxUnavailable, 1, true) !== 0) return undefined
    const pods = selected.reduce((sum, s) => sum + (s.scale?.pods ?? 0), 0)
    if (selected.length === 0 || (selected.every((s) => s.scale) && pods === 0)) return undefined
    return { setting: `maxUnavailable: ${show(maxUnavailable)}`, arithmetic: `maxUnavailable ${show(maxUnavailable)} lets no pod be evicted`, pods }
  }
  // Neither field set: the API server defaults minAvailable to 1.
  const minAvailable = pdb.minAvailable ?? 1
  if (selected.length === 0 || selected.some((s) => !s.scale)) return undefined
  const percent = typeof minAvailable === 'string'
  // A percentage is scaled over the workloads' replicas; bare Pods have no scale and are left out.
  const counted = percent ? selected.filter((s) => !s.scale!.bare) : selected
  const pods = counted.reduce((sum, s) => sum + s.scale!.pods, 0)
  if (pods === 0) return undefined
  const desired = scaled(minAvailable, pods, true)
  if (desired === undefined || desired < pods) return undefined
  const of = counted.map((s) => `${s.record.kind} ${s.record.name}: ${s.scale!.source}`).join('; ')
  const arithmetic = percent
    ? `minAvailable ${minAvailable} of ${pods} pod${pods === 1 ? '' : 's'} rounds up to ${desired} (${of})`
    : `minAvailable ${minAvailable} ≥ the ${pods} pod${pods === 1 ? '' : 's'} it selects (${of})`
  return { setting: `minAvailable: ${show(minAvailable)}`, arithmetic, pods }
}

/** The workloads a PDB covers, each with its expected pods; `replace` stands in for one of them (a change under review). */
export function coveredBy(view: ClusterView, pdb: PdbRecord, replace?: { record: WorkloadRecord; hpa?: HpaRecord | null }): { record: WorkloadRecord; scale: Scale | undefined }[] {
  const selector = selectorOf(pdb)
  if (!selector) return []
  const found = view.workloadsSelectedBy(pdb.namespace, selector).filter((r) => !replace || r.kind !== replace.record.kind || r.name !== replace.record.name)
  const result = found.map((record) => ({ record, scale: scaleOf(view, record) }))
  if (replace && selectorSelects(selector, replace.record)) result.push({ record: replace.record, scale: scaleOf(view, replace.record, replace.hpa) })
  return result
}

/** The fix for a PDB that blocks drains: maxUnavailable: 1 stays right when the replicas change. */
export function drainFix(found: Blockage): string {
  if (found.setting.startsWith('maxUnavailable')) return `spec:\n  maxUnavailable: 1${found.pods === 1 ? '   # and run ≥ 2 replicas to stay up through a drain' : ''}`
  const lower = found.pods > 1 ? `; or minAvailable: ${found.pods - 1}` : '; and run ≥ 2 replicas to stay up through a drain'
  return `spec:\n  maxUnavailable: 1   # instead of ${found.setting}${lower}`
}

export function isPdbReview(review: ReviewInput): boolean {
  return review.group === 'policy' && review.kind === 'PodDisruptionBudget'
}

export function isHpaReview(review: ReviewInput): boolean {
  return review.group === 'autoscaling' && review.kind === 'HorizontalPodAutoscaler'
}

/** The object with its namespace filled in from the review (the API server may leave it out). */
export function inNamespace(object: KubeObject, namespace: string): KubeObject {
  return { ...object, metadata: { ...object.metadata, namespace } }
}
