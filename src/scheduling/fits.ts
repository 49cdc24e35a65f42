// NodeResourcesFit against an EMPTY node (allocatable, not what other pods already use): a pod that
// fails it can never run there, whatever gets evicted.
import type { NodeRecord } from './node-record.ts'

export const allocatableOf = (node: NodeRecord, name: string) => (Object.hasOwn(node.allocatable, name) ? node.allocatable[name]! : 0)

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
