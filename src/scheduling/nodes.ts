// Nodes as kube-scheduler's static filters see them: could this pod ever be placed on this node?
//
// `eligible` answers the placement constraints that do not change while the pod waits (the NodeName,
// NodeAffinity and TaintToleration filters): spec.nodeName, spec.nodeSelector, required node affinity
// and NoSchedule/NoExecute taints. `fits` answers NodeResourcesFit against an EMPTY node (allocatable,
// not what other pods already use): a pod that fails it can never run there, whatever gets evicted.
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
import type { KubeObject } from '../model/types.ts'
import type { PodSpec } from '../workloads/pod-template.ts'
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

// ---- Node affinity (k8s.io/component-helpers/scheduling/corev1/nodeaffinity) ----

interface Requirement {
  key?: unknown
  operator?: unknown
  values?: unknown
}

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

/** strconv.ParseInt(s, 10, 64), or undefined. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined
  const value = BigInt(text)
  return value >= -(1n << 63n) && value < 1n << 63n ? value : undefined
}

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined)

/**
 * A label requirement as a test, or a string saying why it is invalid (the scheduler then drops the
 * whole term: it matches no node). labels.NewRequirement's value counts: In/NotIn need values,
 * Exists/DoesNotExist none, Gt/Lt exactly one integer.
 */
function labelTest(requirement: Requirement): ((labels: Readonly<Record<string, string>>) => boolean) | string {
  const key = requirement.key
  const values = requirement.values === undefined || requirement.values === null ? [] : strings(requirement.values)
  if (typeof key !== 'string' || values === undefined) return 'malformed requirement'
  switch (requirement.operator) {
    case 'In':
    case 'NotIn': {
      if (values.length === 0) return `${requirement.operator} needs values`
      const set = new Set(values)
      const has = (labels: Readonly<Record<string, string>>) => Object.hasOwn(labels, key) && set.has(labels[key]!)
      return requirement.operator === 'In' ? has : (labels) => !has(labels)
    }
    case 'Exists':
    case 'DoesNotExist': {
      if (values.length !== 0) return `${requirement.operator} takes no values`
      return requirement.operator === 'Exists' ? (labels) => Object.hasOwn(labels, key) : (labels) => !Object.hasOwn(labels, key)
    }
    case 'Gt':
    case 'Lt': {
      const bound = values.length === 1 ? parseInt64(values[0]!) : undefined
      if (bound === undefined) return `${requirement.operator} needs one integer value`
      const gt = requirement.operator === 'Gt'
      return (labels) => {
        const own = Object.hasOwn(labels, key) ? parseInt64(labels[key]!) : undefined
        return own !== undefined && (gt ? own > bound : own < bound)
      }
    }
    default:
      return `unknown operator ${JSON.stringify(requirement.operator)}`
  }
}

/** A matchFields requirement: only In/NotIn with one value; the one field a node has is metadata.name. */
function fieldTest(requirement: Requirement): ((name: string) => boolean) | string {
  const values = strings(requirement.values)
  if (typeof requirement.key !== 'string') return 'malformed requirement'
  if (requirement.operator !== 'In' && requirement.operator !== 'NotIn') return `matchFields supports In and NotIn, not ${JSON.stringify(requirement.operator)}`
  if (values?.length !== 1) return `${requirement.operator} on a field needs exactly one value`
  const field = requirement.key
  const wanted = values[0]!
  const value = (name: string) => (field === 'metadata.name' ? name : '')
  return requirement.operator === 'In' ? (name) => value(name) === wanted : (name) => value(name) !== wanted
}

function describe(requirement: Requirement): string {
  const values = strings(requirement.values)
  return `${String(requirement.key)} ${String(requirement.operator)}${values && values.length > 0 ? ` [${values.join(', ')}]` : ''}`
}

function nodeHas(labels: Readonly<Record<string, string>>, key: unknown): string {
  return typeof key === 'string' && Object.hasOwn(labels, key) ? `node has ${key}=${labels[key]}` : `node has no label ${String(key)}`
}

interface CompiledTerm {
  /** Why the term matches no node at all, when it is invalid or empty. */
  invalid?: string
  labels: { requirement: Requirement; test: (labels: Readonly<Record<string, string>>) => boolean }[]
  fields: { requirement: Requirement; test: (name: string) => boolean }[]
}

function compileTerm(term: unknown): CompiledTerm {
  const compiled: CompiledTerm = { labels: [], fields: [] }
  const expressions = isRecord(term) && Array.isArray(term['matchExpressions']) ? term['matchExpressions'] : []
  const fields = isRecord(term) && Array.isArray(term['matchFields']) ? term['matchFields'] : []
  if (expressions.length === 0 && fields.length === 0) return { ...compiled, invalid: 'an empty term matches no node' }
  for (const requirement of expressions) {
    const test = isRecord(requirement) ? labelTest(requirement) : 'malformed requirement'
    if (typeof test === 'string') return { ...compiled, invalid: `${describe(isRecord(requirement) ? requirement : {})}: ${test}` }
    compiled.labels.push({ requirement: requirement as Requirement, test })
  }
  for (const requirement of fields) {
    const test = isRecord(requirement) ? fieldTest(requirement) : 'malformed requirement'
    if (typeof test === 'string') return { ...compiled, invalid: `${describe(isRecord(requirement) ? requirement : {})}: ${test}` }
    compiled.fields.push({ requirement: requirement as Requirement, test })
  }
  return compiled
}

function termMatches(term: CompiledTerm, node: NodeRecord): boolean {
  if (term.invalid) return false
  for (const { test } of term.labels) if (!test(node.labels)) return false
  for (const { test } of term.fields) if (!test(node.name)) return false
  return true
}

/** Why the term does not match the node, or undefined when it does. */
function termMismatch(term: CompiledTerm, node: NodeRecord): string | undefined {
  if (term.invalid) return term.invalid
  for (const { requirement, test } of term.labels) if (!test(node.labels)) return `${describe(requirement)} (${nodeHas(node.labels, requirement.key)})`
  for (const { requirement, test } of term.fields) if (!test(node.name)) return `${describe(requirement)} (node is ${node.name})`
  return undefined
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
 * `admits` is the same test without the words, for scans over many nodes.
 */
export type NodeFilter = ((node: NodeRecord) => string | undefined) & { admits(node: NodeRecord): boolean }

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
  return Object.assign((node: NodeRecord) => (admits(node) ? undefined : explain(node)), { admits })
}

/** Why the scheduler would never place the pod on this node, or undefined. For many nodes, compile once with nodeFilter. */
export function eligible(spec: PodSpec, node: NodeRecord): string | undefined {
  return nodeFilter(spec)(node)
}

// ---- Resources ----

const allocatableOf = (node: NodeRecord, name: string) => (Object.hasOwn(node.allocatable, name) ? node.allocatable[name]! : 0)

const FIRST = ['cpu', 'memory', 'ephemeral-storage']
const rank = (name: string) => {
  const i = FIRST.indexOf(name)
  return i === -1 ? FIRST.length : i
}
const before = (a: string, b: string) => rank(a) < rank(b) || (rank(a) === rank(b) && a < b)

/**
 * The first resource the pod requests more of than the node's allocatable (cpu, memory,
 * ephemeral-storage, then the others by name), or undefined when it fits an empty node. Requests of 0
 * never fail (as in the scheduler); a resource the node does not list has 0 allocatable. `pods`: a node
 * whose allocatable explicitly lists fewer than 1 pod fits nothing.
 */
export function fits(requests: Readonly<Record<string, number>>, node: NodeRecord): string | undefined {
  const pods = node.allocatable['pods']
  if (pods !== undefined && pods < 1) return 'pods'
  let first: string | undefined
  for (const name in requests) {
    if (name === 'pods' || !Object.hasOwn(requests, name)) continue
    const wanted = requests[name]!
    if (wanted > 0 && wanted > allocatableOf(node, name) && (first === undefined || before(name, first))) first = name
  }
  return first
}

// ---- All nodes at once ----

export interface Placement {
  /** A node the pod is eligible for and fits on (the first found); undefined when there is none. */
  node?: string
  /** Nodes looked at. */
  nodes: number
  /** The nodes the pod is eligible for (counted fully only when none fits). */
  eligible: number
  /** When no node is eligible: why, for the first node (the usual case: one selector or taint keeps it off all). */
  ineligible?: string
  /** Eligible nodes too small, by the first resource that does not fit them. */
  tooSmall: Record<string, number>
  /** For each resource the pod requests: the largest allocatable among eligible nodes (0 when none lists it). */
  largest: Record<string, number>
}

/**
 * Where the pod could run: the first eligible node it fits on, or, when there is none, what the
 * eligible nodes lack (for the message). Tries the cheap resource test before the placement filter, and
 * stops at the first node that takes the pod. `nodes` may be any iterable (an array, a Map's values()).
 */
export function placement(spec: PodSpec, requests: Readonly<Record<string, number>>, nodes: Iterable<NodeRecord>): Placement {
  // Read twice when nothing fits: a one-shot iterator (a Map's values()) is kept in an array first.
  if (typeof (nodes as Partial<Iterator<NodeRecord>>).next === 'function') nodes = [...nodes]
  const filter = nodeFilter(spec)
  let count = 0
  for (const node of nodes) {
    count++
    if (fits(requests, node) === undefined && filter.admits(node)) return { node: node.name, nodes: count, eligible: 1, tooSmall: {}, largest: {} }
  }
  const result: Placement = { nodes: count, eligible: 0, tooSmall: {}, largest: {} }
  for (const name in requests) if (Object.hasOwn(requests, name) && name !== 'pods') result.largest[name] = 0
  for (const node of nodes) {
    if (!filter.admits(node)) {
      result.ineligible ??= `${node.name}: ${filter(node)}`
      continue
    }
    result.eligible++
    for (const name in result.largest) result.largest[name] = Math.max(result.largest[name]!, allocatableOf(node, name))
    const short = fits(requests, node)
    if (short !== undefined) result.tooSmall[short] = (result.tooSmall[short] ?? 0) + 1
  }
  if (result.eligible > 0) delete result.ineligible
  return result
}
