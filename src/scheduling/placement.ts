// Where a pod could run among all nodes: the first eligible node it fits on, or what the eligible
// nodes lack, for the message.
import type { PodSpec } from '../workloads/pod-template.ts'
import { allocatableOf, fits } from './fits.ts'
import { nodeFilter, type NodeFilter } from './node-filter.ts'
import type { NodeRecord } from './node-record.ts'
import { NodeShapes } from './node-shapes.ts'

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
 * stops at the first node that takes the pod. `nodes` may be any iterable (an array, a Map's values());
 * given NodeShapes, one node per shape answers for all of its shape unless the pod names nodes one by one.
 */
export function placement(spec: PodSpec, requests: Readonly<Record<string, number>>, nodes: Iterable<NodeRecord>): Placement {
  const filter = nodeFilter(spec)
  if (nodes instanceof NodeShapes && !filter.perNode) {
    const shapes = nodes
    return scan(() => shapes.shapes(), (shape) => shape.first, (shape) => shape.members.size, filter, requests)
  }
  // Read twice when nothing fits: a one-shot iterator (a Map's values()) is kept in an array first.
  const all = typeof (nodes as Partial<Iterator<NodeRecord>>).next === 'function' ? [...nodes] : nodes
  return scan(() => all, (node) => node, () => 1, filter, requests)
}

/** The scan over nodes, or over groups of nodes that answer alike (`count` nodes, `node` for them all). */
function scan<T>(groups: () => Iterable<T>, node: (group: T) => NodeRecord, count: (group: T) => number, filter: NodeFilter, requests: Readonly<Record<string, number>>): Placement {
  let looked = 0
  for (const group of groups()) {
    const candidate = node(group)
    if (fits(requests, candidate) === undefined && filter.admits(candidate)) return { node: candidate.name, nodes: looked + 1, eligible: 1, tooSmall: {}, largest: {} }
    looked += count(group)
  }
  const result: Placement = { nodes: looked, eligible: 0, tooSmall: {}, largest: {} }
  for (const name in requests) if (Object.hasOwn(requests, name) && name !== 'pods') result.largest[name] = 0
  for (const group of groups()) {
    const candidate = node(group)
    if (!filter.admits(candidate)) {
      result.ineligible ??= `${candidate.name}: ${filter(candidate)}`
      continue
    }
    const members = count(group)
    result.eligible += members
    for (const name in result.largest) result.largest[name] = Math.max(result.largest[name]!, allocatableOf(candidate, name))
    const short = fits(requests, candidate)
    if (short !== undefined) result.tooSmall[short] = (result.tooSmall[short] ?? 0) + members
  }
  if (result.eligible > 0) delete result.ineligible
  return result
}
