import t from 'tap'
import { fits } from '../../src/scheduling/fits.ts'
import { eligible } from '../../src/scheduling/node-filter.ts'
import type { NodeRecord, Taint } from '../../src/scheduling/node-record.ts'
import { NodeShapes, representatives } from '../../src/scheduling/node-shapes.ts'
import { placement } from '../../src/scheduling/placement.ts'
import type { PodSpec } from '../../src/workloads/pod-template.ts'
import { random } from '../helpers/random.ts'

const node = (name: string, labels: Record<string, string>, allocatable: Record<string, number>, taints: Taint[] = []): NodeRecord => ({
  name,
  labels: { 'kubernetes.io/hostname': name, ...labels },
  taints,
  allocatable,
})

t.test('nodes of one shape share their allocatable and taints; the per-node hostname does not split a shape', async (t) => {
  const index = new NodeShapes()
  const gpu: Taint[] = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]
  index.put(node('a', { zone: 'z1' }, { cpu: 4000, memory: 8 }))
  index.put(node('b', { zone: 'z1' }, { memory: 8, cpu: 4000 }))
  index.put(node('c', { zone: 'z2' }, { cpu: 4000, memory: 8 }))
  index.put(node('d', { zone: 'z1' }, { cpu: 4000, memory: 8 }, gpu))
  t.equal(index.size, 4)
  const shapes = [...index.shapes()]
  t.same(shapes.map((shape) => [...shape.members].map((m) => m.name)), [['a', 'b'], ['c'], ['d']])
  const [a, b] = [...shapes[0]!.members]
  t.equal(a!.allocatable, b!.allocatable, 'one allocatable object for the shape')
  t.same(b!.labels, { 'kubernetes.io/hostname': 'b', zone: 'z1' }, 'each node keeps its own labels')
  t.same([...index].map((n) => n.name), ['a', 'b', 'c', 'd'], 'iterates every node')

  index.delete('a')
  t.equal([...index.shapes()][0]!.first.name, 'b', 'the next member stands for the shape when the first goes')
  index.put(node('b', { zone: 'z2' }, { cpu: 4000, memory: 8 }))
  t.same([...index.shapes()].map((shape) => [...shape.members].map((m) => m.name)), [['c', 'b'], ['d']], 'an update moves the node to its new shape; an empty shape goes')
  index.delete('missing')
  t.same([...representatives(index)].map((n) => n.name), ['c', 'd'])
  t.same([...representatives([a!, b!])].map((n) => n.name), ['a', 'b'], 'an array is its own representatives')
  index.clear()
  t.equal(index.size, 0)
  t.same([...index.shapes()], [])
})

const ZONES = ['z1', 'z2', 'z3']
const POOLS = ['general', 'gpu', 'big']
const TAINTS: Taint[][] = [[], [], [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], [{ key: 'spot', effect: 'NoExecute' }]]
const SIZES: Record<string, number>[] = [
  { cpu: 2000, memory: 4, pods: 110 },
  { cpu: 4000, memory: 16, pods: 110 },
  { cpu: 32000, memory: 128, pods: 110, 'nvidia.com/gpu': 4 },
  { cpu: 8000, memory: 32, pods: 0 },
]

function randomNodes(rng: ReturnType<typeof random>, count: number): NodeRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const labels: Record<string, string> = { zone: rng.pick(ZONES), pool: rng.pick(POOLS) }
    if (rng.chance(0.3)) labels['disk'] = 'ssd'
    if (rng.chance(0.2)) labels['generation'] = String(rng.pick([3, 4, 5]))
    return node(`n${i}`, labels, { ...rng.pick(SIZES) }, rng.pick(TAINTS))
  })
}

function randomPod(rng: ReturnType<typeof random>, names: readonly string[]): { spec: PodSpec; requests: Record<string, number> } {
  const spec: Record<string, unknown> = {}
  if (rng.chance(0.1)) spec['nodeName'] = rng.pick(names)
  if (rng.chance(0.4)) spec['nodeSelector'] = rng.chance(0.2) ? { 'kubernetes.io/hostname': rng.pick(names) } : { zone: rng.pick(ZONES) }
  if (rng.chance(0.4)) {
    const requirement = () =>
      rng.pick([
        { key: 'pool', operator: 'In', values: [rng.pick(POOLS), rng.pick(POOLS)] },
        { key: 'zone', operator: 'NotIn', values: [rng.pick(ZONES)] },
        { key: 'disk', operator: rng.pick(['Exists', 'DoesNotExist']) },
        { key: 'generation', operator: rng.pick(['Gt', 'Lt']), values: [String(rng.pick([3, 4, 5]))] },
        { key: 'kubernetes.io/hostname', operator: 'In', values: [rng.pick(names)] },
      ])
    const term = () => (rng.chance(0.15) ? { matchFields: [{ key: 'metadata.name', operator: rng.pick(['In', 'NotIn']), values: [rng.pick(names)] }] } : { matchExpressions: [requirement(), ...(rng.chance(0.5) ? [requirement()] : [])] })
    spec['affinity'] = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: rng.chance(0.3) ? [term(), term()] : [term()] } } }
  }
  if (rng.chance(0.4)) spec['tolerations'] = rng.chance(0.5) ? [{ key: 'dedicated', operator: 'Exists' }] : [{ operator: 'Exists' }]
  const requests: Record<string, number> = { cpu: rng.pick([100, 3000, 6000, 20000, 64000]), memory: rng.pick([1, 8, 64, 256]) }
  if (rng.chance(0.2)) requests['nvidia.com/gpu'] = rng.pick([1, 8])
  return { spec: spec as PodSpec, requests }
}

t.test('placement over NodeShapes answers as the scan over every node (random node sets and pods)', async (t) => {
  let compared = 0
  let denied = 0
  for (let seed = 1; seed <= 300; seed++) {
    const rng = random(seed)
    const nodes = randomNodes(rng, 1 + Math.floor(rng.next() * 60))
    const index = new NodeShapes()
    for (const n of nodes) index.put(n)
    const names = nodes.map((n) => n.name)
    for (let p = 0; p < 20; p++) {
      const { spec, requests } = randomPod(rng, [...names, 'elsewhere'])
      const linear = placement(spec, requests, nodes)
      const indexed = placement(spec, requests, index)
      compared++
      const where = `seed ${seed}, pod ${p}: ${JSON.stringify({ spec, requests })}`
      if ((linear.node === undefined) !== (indexed.node === undefined)) {
        t.fail(`found a node in one answer only (${where})`)
        continue
      }
      if (indexed.node !== undefined) {
        const chosen = nodes.find((n) => n.name === indexed.node)!
        if (fits(requests, chosen) !== undefined || eligible(spec, chosen) !== undefined) t.fail(`the indexed answer ${indexed.node} cannot take the pod (${where})`)
        continue
      }
      denied++
      const { ineligible: a, node: _a, ...restLinear } = linear
      const { ineligible: b, node: _b, ...restIndexed } = indexed
      if (JSON.stringify(restLinear) !== JSON.stringify(restIndexed) || (a === undefined) !== (b === undefined)) t.fail(`answers differ: ${JSON.stringify(linear)} vs ${JSON.stringify(indexed)} (${where})`)
    }
  }
  t.ok(denied > 100 && compared - denied > 100, `both outcomes well represented (${denied} of ${compared} found no node)`)
})
