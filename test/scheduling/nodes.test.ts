import t from 'tap'
import { fits } from '../../src/scheduling/fits.ts'
import { eligible, nodeFilter } from '../../src/scheduling/node-filter.ts'
import { nodeRecord, type NodeRecord } from '../../src/scheduling/node-record.ts'
import { placement } from '../../src/scheduling/placement.ts'
import type { KubeObject } from '../../src/model/types.ts'
import type { PodSpec } from '../../src/workloads/pod-template.ts'

const spec = (fields: Record<string, unknown>) => fields as unknown as PodSpec
const node = (name: string, labels: Record<string, string> = {}, more: Partial<NodeRecord> = {}): NodeRecord => ({ name, labels, taints: [], allocatable: { cpu: 4000, memory: 16 * 1024 ** 3, pods: 110 }, ...more })
const affinity = (...nodeSelectorTerms: unknown[]) => spec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } })
const term = (...matchExpressions: unknown[]) => ({ matchExpressions })
const req = (key: string, operator: string, values?: string[]) => (values === undefined ? { key, operator } : { key, operator, values })

t.test('nodeRecord keeps what scheduling reads', async (t) => {
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', zone: 'a' } },
    spec: {
      unschedulable: true,
      taints: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' },
        { key: 'soft', value: 'x', effect: 'PreferNoSchedule' },
        { key: 'empty', value: '', effect: 'NoSchedule' },
      ],
    },
    status: { allocatable: { cpu: '3920m', memory: '15Gi', 'ephemeral-storage': '100G', pods: '110', 'nvidia.com/gpu': '4', 'hugepages-2Mi': '0' }, capacity: { cpu: '4' }, images: [{ names: ['a'], sizeBytes: 1 }] },
  }
  t.same(nodeRecord(object), {
    name: 'n1',
    labels: { 'kubernetes.io/hostname': 'n1', zone: 'a' },
    taints: [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'empty', effect: 'NoSchedule' },
    ],
    allocatable: { cpu: 3920, memory: 15 * 1024 ** 3, 'ephemeral-storage': 100e9, pods: 110, 'nvidia.com/gpu': 4, 'hugepages-2Mi': 0 },
    unschedulable: true,
  })
  t.same(nodeRecord({ metadata: { name: 'n2' }, status: { capacity: { cpu: '2', memory: '1Gi' } } }), { name: 'n2', labels: {}, taints: [], allocatable: { cpu: 2000, memory: 1024 ** 3 } }, 'capacity when allocatable is absent (API defaulting)')
  const bare = nodeRecord({ metadata: { name: 'n3' } })
  t.same(bare, { name: 'n3', labels: {}, taints: [], allocatable: {} })
  t.notOk('unschedulable' in bare, 'no flag when schedulable')
  t.same(nodeRecord({ metadata: { name: 'n4' }, spec: { taints: 'x' }, status: { allocatable: { cpu: 'bad', memory: '1Gi' } } }).allocatable, { memory: 1024 ** 3 }, 'malformed parts skipped')
})

t.test('nodeSelector: every pair must be a label of the node', async (t) => {
  const pod = spec({ nodeSelector: { disktype: 'ssd', zone: 'a' } })
  t.equal(eligible(pod, node('n', { disktype: 'ssd', zone: 'a', other: 'x' })), undefined)
  t.equal(eligible(pod, node('n', { disktype: 'ssd', zone: 'b' })), 'nodeSelector zone=a (node has zone=b)')
  t.equal(eligible(pod, node('n', { disktype: 'ssd' })), 'nodeSelector zone=a (node has no label zone)')
  t.equal(eligible(spec({ nodeSelector: { constructor: 'x' } }), node('n')), 'nodeSelector constructor=x (node has no label constructor)', 'no prototype keys')
  t.equal(eligible(spec({ nodeSelector: {} }), node('n')), undefined)
})

t.test('required node affinity: each operator', async (t) => {
  const n = node('n', { zone: 'a', gen: '5', tier: 'web' })
  const cases: [unknown, boolean][] = [
    [req('zone', 'In', ['a', 'b']), true],
    [req('zone', 'In', ['b']), false],
    [req('missing', 'In', ['a']), false],
    [req('zone', 'NotIn', ['b']), true],
    [req('zone', 'NotIn', ['a']), false],
    [req('missing', 'NotIn', ['a']), true], // absent label: NotIn holds
    [req('zone', 'Exists'), true],
    [req('missing', 'Exists'), false],
    [req('missing', 'DoesNotExist'), true],
    [req('zone', 'DoesNotExist'), false],
    [req('gen', 'Gt', ['4']), true],
    [req('gen', 'Gt', ['5']), false],
    [req('gen', 'Lt', ['6']), true],
    [req('gen', 'Lt', ['5']), false],
    [req('tier', 'Gt', ['1']), false], // a label that is not an integer never compares
    [req('missing', 'Lt', ['9']), false],
    // invalid requirements make the term match nothing
    [req('zone', 'In', []), false],
    [req('zone', 'Exists', ['a']), false],
    [req('missing', 'DoesNotExist', ['a']), false],
    [req('gen', 'Gt', ['4', '5']), false],
    [req('gen', 'Gt', ['four']), false],
    [req('zone', 'Like', ['a']), false],
  ]
  for (const [requirement, matches] of cases) {
    t.equal(eligible(affinity(term(requirement)), n) === undefined, matches, JSON.stringify(requirement))
    t.equal(nodeFilter(affinity(term(requirement))).admits(n), matches, `admits ${JSON.stringify(requirement)}`)
  }
  t.equal(eligible(affinity(term(req('zone', 'In', ['b']))), n), 'required node affinity: zone In [b] (node has zone=a)')
  t.equal(eligible(affinity(term(req('gen', 'Gt', ['four']))), n), 'required node affinity: gen Gt [four]: Gt needs one integer value')
})

t.test('required node affinity: terms are ORed, requirements within a term ANDed, matchFields on metadata.name', async (t) => {
  const n = node('worker-1', { zone: 'a', gpu: 'true' })
  t.equal(eligible(affinity(term(req('zone', 'In', ['a']), req('gpu', 'Exists'))), n), undefined, 'both hold')
  t.match(eligible(affinity(term(req('zone', 'In', ['a']), req('gpu', 'DoesNotExist'))), n), /gpu DoesNotExist \(node has gpu=true\)/, 'AND: one fails')
  t.equal(eligible(affinity(term(req('zone', 'In', ['b'])), term(req('gpu', 'Exists'))), n), undefined, 'OR: the second term matches')
  t.equal(eligible(affinity(term(req('zone', 'In', ['b'])), term(req('gpu', 'DoesNotExist'))), n), 'required node affinity: term 0: zone In [b] (node has zone=a); term 1: gpu DoesNotExist (node has gpu=true)')
  t.equal(eligible(affinity(term(req('zone', 'In', ['a']), req('zone', 'Exists', ['x'])), term(req('gpu', 'Exists'))), n), undefined, 'an invalid term is skipped, the valid one still matches')
  t.equal(eligible(affinity({ matchFields: [req('metadata.name', 'In', ['worker-1'])] }), n), undefined)
  t.equal(eligible(affinity({ matchFields: [req('metadata.name', 'In', ['worker-2'])] }), n), 'required node affinity: metadata.name In [worker-2] (node is worker-1)')
  t.equal(eligible(affinity({ matchFields: [req('metadata.name', 'NotIn', ['worker-2'])] }), n), undefined)
  t.not(eligible(affinity({ matchFields: [req('metadata.name', 'NotIn', ['worker-1'])] }), n), undefined)
  t.not(eligible(affinity({ matchFields: [req('metadata.name', 'In', ['worker-1', 'worker-2'])] }), n), undefined, 'a field requirement takes exactly one value')
  t.not(eligible(affinity({ matchFields: [req('metadata.name', 'Exists')] }), n), undefined, 'only In and NotIn on fields')
  t.equal(eligible(affinity({ matchExpressions: [req('zone', 'In', ['a'])], matchFields: [req('metadata.name', 'In', ['worker-1'])] }), n), undefined, 'expressions AND fields')
  t.not(eligible(affinity({ matchExpressions: [req('zone', 'In', ['a'])], matchFields: [req('metadata.name', 'In', ['worker-9'])] }), n), undefined)
  t.not(eligible(affinity({}), n), undefined, 'an empty term matches nothing')
  t.equal(eligible(affinity(), n), 'required node affinity has no nodeSelectorTerms: it matches no node')
  t.equal(eligible(spec({ affinity: { nodeAffinity: {} } }), n), undefined, 'no required affinity: any node')
  t.equal(eligible(spec({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: term(req('zone', 'In', ['b'])) }] } } }), n), undefined, 'preferences never exclude')
})

t.test('taints and tolerations', async (t) => {
  const tainted = (effect: 'NoSchedule' | 'NoExecute', value: string | null = 'gpu') => node('n', {}, { taints: [value === null ? { key: 'dedicated', effect } : { key: 'dedicated', value, effect }] })
  const pod = (...tolerations: unknown[]) => spec({ tolerations })
  t.equal(eligible(pod(), tainted('NoSchedule')), 'taint dedicated=gpu:NoSchedule is not tolerated')
  t.equal(eligible(pod(), tainted('NoExecute')), 'taint dedicated=gpu:NoExecute is not tolerated')
  t.equal(eligible(pod({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }), tainted('NoSchedule')), undefined)
  t.equal(eligible(pod({ key: 'dedicated', value: 'gpu' }), tainted('NoSchedule')), undefined, 'empty operator is Equal, empty effect matches all')
  t.not(eligible(pod({ key: 'dedicated', operator: 'Equal', value: 'cpu' }), tainted('NoSchedule')), undefined, 'Equal compares the value')
  t.not(eligible(pod({ key: 'dedicated', operator: 'Equal' }), tainted('NoSchedule')), undefined, 'an empty value is a value')
  t.equal(eligible(pod({ key: 'dedicated', operator: 'Equal' }), tainted('NoSchedule', null)), undefined, '... that equals a taint without one')
  t.equal(eligible(pod({ key: 'dedicated', operator: 'Exists' }), tainted('NoExecute')), undefined, 'Exists ignores the value')
  t.not(eligible(pod({ key: 'other', operator: 'Exists' }), tainted('NoSchedule')), undefined, 'the key must match')
  t.not(eligible(pod({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }), tainted('NoExecute')), undefined, 'the effect must match when given')
  t.equal(eligible(pod({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }), tainted('NoExecute')), undefined, 'tolerationSeconds does not matter to scheduling')
  t.equal(eligible(pod({ operator: 'Exists' }), node('n', {}, { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', value: 'c', effect: 'NoExecute' }] })), undefined, 'Exists with an empty key tolerates everything')
  t.not(eligible(pod({ operator: 'Exists', effect: 'NoSchedule' }), node('n', {}, { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }] })), undefined, '... of its effect only')
  t.not(eligible(pod({ key: 'dedicated', operator: 'Gt', value: 'gpu' }), tainted('NoSchedule')), undefined, 'an unknown operator tolerates nothing')
  const soft = nodeRecord({ metadata: { name: 'soft' }, spec: { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] } })
  t.equal(eligible(pod(), soft), undefined, 'PreferNoSchedule never blocks')
  const multi = node('n', {}, { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoSchedule' }] })
  t.equal(eligible(pod({ key: 'a', operator: 'Exists' }), multi), 'taint b:NoSchedule is not tolerated', 'every taint needs a toleration')
})

t.test('a cordon does not make a node ineligible; nodeName pins the pod', async (t) => {
  t.equal(eligible(spec({}), node('n', {}, { unschedulable: true })), undefined)
  const pinned = spec({ nodeName: 'n2' })
  t.equal(eligible(pinned, node('n1')), 'spec.nodeName pins the pod to node n2')
  t.equal(eligible(pinned, node('n2', {}, { taints: [{ key: 'x', effect: 'NoSchedule' }] })), undefined, 'a bound pod skips NoSchedule taints')
  t.equal(eligible(pinned, node('n2', {}, { taints: [{ key: 'x', effect: 'NoExecute' }] })), 'taint x:NoExecute is not tolerated', 'the kubelet refuses it for NoExecute')
})

t.test('a compiled filter gives the same answers for many nodes', async (t) => {
  const pod = spec({ nodeSelector: { pool: 'big' }, tolerations: [{ key: 'big', operator: 'Exists' }] })
  const filter = nodeFilter(pod)
  const nodes = [node('a', { pool: 'big' }, { taints: [{ key: 'big', effect: 'NoSchedule' }] }), node('b', { pool: 'small' }), node('c', { pool: 'big' }, { taints: [{ key: 'x', effect: 'NoExecute' }] })]
  t.same(nodes.map(filter), nodes.map((n) => eligible(pod, n)))
  t.same(nodes.map(filter.admits), [true, false, false], 'admits: the same test without the words')
  t.same(nodes.map(filter), [undefined, 'nodeSelector pool=big (node has pool=small)', 'taint x:NoExecute is not tolerated'])
  t.equal(eligible(null as unknown as PodSpec, nodes[1]!), undefined, 'malformed spec: no constraints')
})

t.test('fits: the first requested resource the allocatable cannot hold', async (t) => {
  const n = node('n', {}, { allocatable: { cpu: 4000, memory: 16 * 1024 ** 3, 'ephemeral-storage': 100e9, pods: 110, 'nvidia.com/gpu': 2 } })
  t.equal(fits({ cpu: 4000, memory: 16 * 1024 ** 3 }, n), undefined, 'equal fits')
  t.equal(fits({ cpu: 4001 }, n), 'cpu')
  t.equal(fits({ memory: 16 * 1024 ** 3 + 1 }, n), 'memory')
  t.equal(fits({ 'ephemeral-storage': 200e9 }, n), 'ephemeral-storage')
  t.equal(fits({ 'nvidia.com/gpu': 3 }, n), 'nvidia.com/gpu')
  t.equal(fits({ 'example.com/fpga': 1 }, n), 'example.com/fpga', 'a resource the node does not list is 0')
  t.equal(fits({ 'example.com/fpga': 0, cpu: 0 }, node('n', {}, { allocatable: { pods: 1 } })), undefined, 'requests of 0 always fit')
  t.equal(fits({ 'nvidia.com/gpu': 3, 'example.com/a': 1, memory: 99 * 1024 ** 3, cpu: 1 }, n), 'memory', 'cpu, memory, ephemeral-storage first')
  t.equal(fits({ 'nvidia.com/gpu': 3, 'example.com/a': 1 }, n), 'example.com/a', 'then by name')
  t.equal(fits({ cpu: 1 }, node('n', {}, { allocatable: { cpu: 4000, pods: 0 } })), 'pods', 'a node that takes no pods')
  t.equal(fits({ cpu: 1 }, node('n', {}, { allocatable: { cpu: 4000 } })), undefined, 'pods unlisted: not held against the node')
  t.equal(fits({}, n), undefined)
})

t.test('placement: the first node that takes the pod, or what the eligible nodes lack', async (t) => {
  const nodes = [
    node('small', { pool: 'general' }, { allocatable: { cpu: 2000, memory: 8 * 1024 ** 3 } }),
    node('gpu', { pool: 'gpu' }, { allocatable: { cpu: 32000, memory: 256 * 1024 ** 3 }, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] }),
    node('medium', { pool: 'general' }, { allocatable: { cpu: 8000, memory: 32 * 1024 ** 3 } }),
  ]
  t.match(placement(spec({}), { cpu: 4000, memory: 16 * 1024 ** 3 }, nodes), { node: 'medium' })
  t.same(placement(spec({}), { cpu: 4000, memory: 64 * 1024 ** 3 }, nodes), { nodes: 3, eligible: 2, tooSmall: { memory: 1, cpu: 1 }, largest: { cpu: 8000, memory: 32 * 1024 ** 3 } }, 'the big node is tainted')
  t.match(placement(spec({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }), { cpu: 4000, memory: 64 * 1024 ** 3 }, nodes), { node: 'gpu' })
  t.same(placement(spec({ nodeSelector: { pool: 'arm' } }), { cpu: 1 }, nodes), { nodes: 3, eligible: 0, ineligible: 'small: nodeSelector pool=arm (node has pool=general)', tooSmall: {}, largest: { cpu: 0 } })
  t.same(placement(spec({}), { cpu: 1 }, []), { nodes: 0, eligible: 0, tooSmall: {}, largest: { cpu: 0 } }, 'no nodes at all')
  const map = new Map(nodes.map((n) => [n.name, n]))
  t.same(placement(spec({}), { memory: 64 * 1024 ** 3 }, map.values()), { nodes: 3, eligible: 2, tooSmall: { memory: 2 }, largest: { memory: 32 * 1024 ** 3 } }, 'a one-shot iterator is read twice safely')
})

t.test('taints that stand for a node condition are not kept: not-ready on every new Node, pressure, uninitialised', async (t) => {
  const record = nodeRecord({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n' },
    spec: {
      taints: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
        { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      ],
    },
    status: { allocatable: { cpu: '4', memory: '8Gi' } },
  })
  t.same(record.taints, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }])
})
