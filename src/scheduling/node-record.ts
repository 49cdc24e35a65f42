// The lean Node the cache keeps (5k of them in a large cluster): what kube-scheduler's static filters
// read of a node, in scheduler units. Left out on purpose: a cordon (spec.unschedulable) is temporary, so
// it is kept for messages only, and taints that stand for a node condition (CONDITION_TAINTS) are not kept.
import type { KubeObject } from '../model/types.ts'
import { schedulerUnits } from '../model/quantity.ts'

export interface Taint {
  key: string
  value?: string
  effect: 'NoSchedule' | 'NoExecute'
}

/** The lean Node the cache keeps (one per node, 5k of them): allocatable in scheduler units. */
export interface NodeRecord {
  name: string
  labels: Readonly<Record<string, string>>
  /** Only the taints that can keep a pod off (PreferNoSchedule never does). */
  taints: readonly Taint[]
  /** status.allocatable (status.capacity when absent, as the API server defaults it): cpu in millicores, the rest in whole units. */
  allocatable: Readonly<Record<string, number>>
  unschedulable?: boolean
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Taints that stand for a node's passing condition, added and removed by the node lifecycle controller
 * (and on create by the API server's TaintNodesByCondition plugin, so every new Node has not-ready until
 * its kubelet reports) or by the cloud controller until it initialises the node. Like a cordon, they
 * say nothing about whether a pod could ever run there, so they are left out of the record.
 */
const CONDITION_TAINTS = new Set([
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/unschedulable',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/pid-pressure',
  'node.kubernetes.io/network-unavailable',
  'node.cloudprovider.kubernetes.io/uninitialized',
])
const NO_TAINTS: readonly Taint[] = Object.freeze([])
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * The record of a v1 Node. Labels are the object's own (not copied); taints and allocatable are new,
 * small objects. A Node without status (as a file audit may hold) lists no allocatable: every request
 * above 0 fails on it, as on a node the kubelet never reported.
 */
export function nodeRecord(object: KubeObject): NodeRecord {
  const spec = isRecord(object.spec) ? object.spec : {}
  const status = isRecord(object['status']) ? object['status'] : {}
  const labels = isRecord(object.metadata?.labels) ? object.metadata.labels : NO_LABELS
  const taints: Taint[] = []
  for (const taint of Array.isArray(spec['taints']) ? spec['taints'] : []) {
    if (!isRecord(taint) || typeof taint['key'] !== 'string' || CONDITION_TAINTS.has(taint['key'])) continue
    const effect = taint['effect']
    if (effect !== 'NoSchedule' && effect !== 'NoExecute') continue
    const value = typeof taint['value'] === 'string' && taint['value'] !== '' ? taint['value'] : undefined
    taints.push(value === undefined ? { key: taint['key'], effect } : { key: taint['key'], value, effect })
  }
  const listed = isRecord(status['allocatable']) ? status['allocatable'] : isRecord(status['capacity']) ? status['capacity'] : {}
  const allocatable: Record<string, number> = {}
  for (const [name, value] of Object.entries(listed)) {
    const units = schedulerUnits(name, value)
    if (units !== undefined) allocatable[name] = units
  }
  const record: NodeRecord = { name: object.metadata?.name ?? '', labels, taints: taints.length > 0 ? taints : NO_TAINTS, allocatable }
  if (spec['unschedulable'] === true) record.unschedulable = true
  return record
}
