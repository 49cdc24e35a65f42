// Nodes as kube-scheduler's static filters see them: could this pod ever be placed on this node?
//
// `eligible` answers the placement constraints that do not change while the pod waits (the NodeName,
// NodeAffinity and TaintToleration filters): spec.nodeName, spec.nodeSelector, required node affinity
// and NoSchedule/NoExecute taints. (`fits`, in fits.ts, answers NodeResourcesFit
// against an empty node.)
//
// Left out on purpose:
//  - A cordon (spec.unschedulable, the NodeUnschedulable filter) is temporary: a cordoned node still
//    counts as a place the pod fits. The record keeps the flag for messages. So are the taints that stand
//    for a node condition (not-ready, unreachable, pressure…; CONDITION_TAINTS): not kept.
//  - Dynamic filters (host ports, volumes, pod (anti-)affinity, topology spread) and the scheduler
//    profile's addedAffinity.
//  - Resource names the scheduler would not count (it compares cpu, memory, ephemeral-storage and
//    scalar resources) are compared all the same; the API server refuses the others in containers.
// A pod with spec.nodeName bypasses the scheduler: only that node counts, and the kubelet's admission
// then checks its NoExecute taints only (NoSchedule ones do not stop a bound pod).
import type { PodSpec } from '../workloads/pod-template.ts'
import { compileTerm, nodeHas, termMatches, termMismatch } from './node-affinity.ts'
import type { NodeRecord, Taint } from './node-record.ts'
import { PER_NODE_LABELS } from './node-shapes.ts'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

interface Toleration {
  key?: unknown
  operator?: unknown
  value?: unknown
  effect?: unknown
}

/** The placement fields this module reads beyond pod-template's types. */
type PlacedPodSpec = PodSpec & {
  nodeName?: unknown
  nodeSelector?: unknown
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown } } }
  tolerations?: unknown
}

// ---- Taints and tolerations (v1 Toleration.ToleratesTaint) ----

function tolerates(toleration: Toleration, taint: Taint): boolean {
  const effect = typeof toleration.effect === 'string' ? toleration.effect : ''
  const key = typeof toleration.key === 'string' ? toleration.key : ''
  if (effect !== '' && effect !== taint.effect) return false
  if (key !== '' && key !== taint.key) return false
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (typeof toleration.value === 'string' ? toleration.value : '') === (taint.value ?? '')
    case 'Exists':
      return true
    default:
      return false
  }
}

const taintText = (taint: Taint) => `${taint.key}${taint.value !== undefined ? `=${taint.value}` : ''}:${taint.effect}`

// ---- The pod's constraints, compiled once and tried on many nodes ----

/**
 * Why the pod can never be placed on a node (undefined: it can); compiled once per pod spec.
 * `admits` is the same test without the words, for scans over many nodes. `perNode`: the pod names
 * nodes one by one (nodeName, matchFields, a per-node label), so nodes of one shape may answer apart.
 */
export type NodeFilter = ((node: NodeRecord) => string | undefined) & { admits(node: NodeRecord): boolean; perNode: boolean }

export function nodeFilter(spec: PodSpec): NodeFilter {
  const pod = (isRecord(spec) ? spec : {}) as PlacedPodSpec
  const nodeName = typeof pod.nodeName === 'string' && pod.nodeName !== '' ? pod.nodeName : undefined
  const selector = isRecord(pod.nodeSelector) ? Object.entries(pod.nodeSelector) : []
  const required = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
  const terms = isRecord(required) ? (Array.isArray(required['nodeSelectorTerms']) ? required['nodeSelectorTerms'] : []).map(compileTerm) : undefined
  const tolerations = (Array.isArray(pod.tolerations) ? pod.tolerations : []).filter(isRecord) as Toleration[]

  const admits = (node: NodeRecord): boolean => {
    if (nodeName !== undefined && node.name !== nodeName) return false
    for (const [key, value] of selector) if (node.labels[key] !== value || !Object.hasOwn(node.labels, key)) return false
    if (terms !== undefined && !terms.some((term) => termMatches(term, node))) return false
    for (const taint of node.taints) {
      // A pod bound by nodeName skips the scheduler; the kubelet refuses it only for NoExecute taints.
      if (nodeName !== undefined && taint.effect !== 'NoExecute') continue
      if (!tolerations.some((toleration) => tolerates(toleration, taint))) return false
    }
    return true
  }
  // The same checks in the same order, with the words; only run for a node admits() refused.
  const explain = (node: NodeRecord): string => {
    if (nodeName !== undefined && node.name !== nodeName) return `spec.nodeName pins the pod to node ${nodeName}`
    for (const [key, value] of selector) {
      if (node.labels[key] !== value || !Object.hasOwn(node.labels, key)) return `nodeSelector ${key}=${String(value)} (${nodeHas(node.labels, key)})`
    }
    if (terms !== undefined && !terms.some((term) => termMatches(term, node))) {
      if (terms.length === 0) return 'required node affinity has no nodeSelectorTerms: it matches no node'
      const why = terms.map((term, i) => (terms.length > 1 ? `term ${i}: ` : '') + termMismatch(term, node))
      return `required node affinity: ${why.join('; ')}`
    }
    const taint = node.taints.find((taint) => (nodeName === undefined || taint.effect === 'NoExecute') && !tolerations.some((toleration) => tolerates(toleration, taint)))
    return taint ? `taint ${taintText(taint)} is not tolerated` : 'no reason'
  }
  const perNode =
    nodeName !== undefined ||
    selector.some(([key]) => PER_NODE_LABELS.has(key)) ||
    (terms ?? []).some((term) => term.fields.length > 0 || term.labels.some(({ requirement }) => typeof requirement.key === 'string' && PER_NODE_LABELS.has(requirement.key)))
  return Object.assign((node: NodeRecord) => (admits(node) ? undefined : explain(node)), { admits, perNode })
}

/** Why the scheduler would never place the pod on this node, or undefined. For many nodes, compile once with nodeFilter. */
export function eligible(spec: PodSpec, node: NodeRecord): string | undefined {
  return nodeFilter(spec)(node)
}
