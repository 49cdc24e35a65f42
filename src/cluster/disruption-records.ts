// The lean records of PodDisruptionBudgets and HorizontalPodAutoscalers: what the disruption rules read.
import type { KubeObject } from '../model/types.ts'
import type { LabelSelector } from './label-selectors.ts'
import { sortedLabels } from './records.ts'

/**
 * A PodDisruptionBudget (policy/v1 or v1beta1): what it selects and what it keeps available. The
 * record is its own selector (matchLabels, matchExpressions), one object less per PDB; read it
 * through selectorOf(), which also knows the PDBs that select nothing.
 */
export interface PdbRecord extends LabelSelector {
  namespace: string
  name: string
  /** It selects no pods at all (no selector; or an empty one in policy/v1beta1). */
  selectsNothing?: true
  minAvailable?: number | string
  maxUnavailable?: number | string
}

/** What a PDB selects, or undefined when it selects no pods at all. */
export function selectorOf(pdb: PdbRecord): LabelSelector | undefined {
  return pdb.selectsNothing ? undefined : pdb
}

/** A HorizontalPodAutoscaler (autoscaling/v2, v2beta2): what it scales and within which bounds (flat: one object per HPA). */
export interface HpaRecord {
  namespace: string
  name: string
  targetGroup: string
  targetKind: string
  targetName: string
  minReplicas: number
  maxReplicas: number
}

/** The API group of an apiVersion ("apps/v1" → "apps", "v1" → ""). */
const groupOfApiVersion = (apiVersion: unknown) => (typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0]! : '')

const intOrPercent = (value: unknown): number | string | undefined =>
  (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && value !== '') ? value : undefined

/**
 * The record for a PodDisruptionBudget. policy/v1beta1 and v1 differ on one thing: an empty selector
 * selects nothing in v1beta1 and every pod of the namespace in v1 (the API server converts a v1beta1
 * empty selector into one that matches nothing, so a v1 read of it still selects nothing).
 */
export function pdbRecord(object: KubeObject): PdbRecord {
  const spec = (object.spec ?? {}) as { selector?: LabelSelector | null; minAvailable?: unknown; maxUnavailable?: unknown }
  const v1beta1 = object.apiVersion === 'policy/v1beta1'
  const selector = spec.selector && typeof spec.selector === 'object' ? spec.selector : undefined
  const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  const minAvailable = intOrPercent(spec.minAvailable)
  const maxUnavailable = intOrPercent(spec.maxUnavailable)
  const selects = selector && !(empty && v1beta1)
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    ...(!selects ? { selectsNothing: true as const } : {}),
    ...(selects && selector.matchLabels ? { matchLabels: Object.freeze(sortedLabels(selector.matchLabels)) } : {}),
    ...(selects && selector.matchExpressions ? { matchExpressions: selector.matchExpressions } : {}),
    ...(minAvailable !== undefined ? { minAvailable } : {}),
    ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
  }
}

/** The record for a HorizontalPodAutoscaler (minReplicas defaults to 1, as the API server sets it). */
export function hpaRecord(object: KubeObject): HpaRecord | undefined {
  const spec = (object.spec ?? {}) as { scaleTargetRef?: { apiVersion?: unknown; kind?: unknown; name?: unknown }; minReplicas?: unknown; maxReplicas?: unknown }
  const ref = spec.scaleTargetRef
  if (!ref || typeof ref.kind !== 'string' || typeof ref.name !== 'string') return undefined
  const min = typeof spec.minReplicas === 'number' && Number.isInteger(spec.minReplicas) && spec.minReplicas >= 0 ? spec.minReplicas : 1
  const max = typeof spec.maxReplicas === 'number' && Number.isInteger(spec.maxReplicas) ? spec.maxReplicas : min
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    targetGroup: groupOfApiVersion(ref.apiVersion),
    targetKind: ref.kind,
    targetName: ref.name,
    minReplicas: min,
    maxReplicas: max,
  }
}
