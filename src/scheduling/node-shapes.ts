// Nodes grouped by shape: the same allocatable, the same taints and the same labels but the per-node
// ones (PER_NODE_LABELS). A cluster of 5,000 nodes has a few dozen shapes (one per node pool and zone),
// and every node of a shape answers the scheduler's static filters alike, unless the pod names nodes
// one by one (spec.nodeName, matchFields on metadata.name, a selector on a per-node label). So a pod
// that fits no node costs one look per shape instead of one per node (see placement.ts), and the nodes
// of a shape share one allocatable and one taint list.
import type { NodeRecord, Taint } from './node-record.ts'

/** Labels whose value is (nearly) unique per node: left out of the shape, so they do not split it. */
export const PER_NODE_LABELS: ReadonlySet<string> = new Set(['kubernetes.io/hostname'])

export interface NodeShape {
  /** The nodes of this shape, in the order they came (never empty). */
  readonly members: ReadonlySet<NodeRecord>
  /** The first node of the shape: its labels, taints and allocatable stand for every member's, per-node labels aside. */
  readonly first: NodeRecord
}

interface Shape extends NodeShape {
  readonly members: Set<NodeRecord>
  first: NodeRecord
  readonly allocatable: Readonly<Record<string, number>>
  readonly taints: readonly Taint[]
}

function shapeKey(record: NodeRecord): string {
  const allocatable = Object.keys(record.allocatable).sort().map((name) => [name, record.allocatable[name]])
  const labels = Object.keys(record.labels).filter((key) => !PER_NODE_LABELS.has(key)).sort().map((key) => [key, record.labels[key]])
  return JSON.stringify([allocatable, record.taints, labels])
}

/** The cluster's Nodes by name and by shape. Iterating it yields every node record. */
export class NodeShapes implements Iterable<NodeRecord> {
  private readonly byName = new Map<string, { record: NodeRecord; shape: Shape }>()
  private readonly byKey = new Map<string, Shape>()

  get size(): number {
    return this.byName.size
  }

  /** Stores the node (replacing one of the same name); its allocatable and taints become its shape's. */
  put(record: NodeRecord): void {
    this.delete(record.name)
    const key = shapeKey(record)
    let shape = this.byKey.get(key)
    const shared = shape ? { ...record, allocatable: shape.allocatable, taints: shape.taints } : record
    if (!shape) {
      shape = { members: new Set(), first: shared, allocatable: record.allocatable, taints: record.taints }
      this.byKey.set(key, shape)
    }
    shape.members.add(shared)
    this.byName.set(record.name, { record: shared, shape })
  }

  delete(name: string): void {
    const entry = this.byName.get(name)
    if (!entry) return
    this.byName.delete(name)
    const { shape, record } = entry
    shape.members.delete(record)
    if (shape.members.size === 0) this.byKey.delete(shapeKey(record))
    else if (shape.first === record) shape.first = shape.members.values().next().value!
  }

  clear(): void {
    this.byName.clear()
    this.byKey.clear()
  }

  shapes(): Iterable<NodeShape> {
    return this.byKey.values()
  }

  *[Symbol.iterator](): Iterator<NodeRecord> {
    for (const { record } of this.byName.values()) yield record
  }
}

/** One node per shape when `nodes` is a NodeShapes, else every node: enough to ask about labels that are not per-node. */
export function representatives(nodes: Iterable<NodeRecord>): Iterable<NodeRecord> {
  if (!(nodes instanceof NodeShapes)) return nodes
  return Array.from(nodes.shapes(), (shape) => shape.first)
}
