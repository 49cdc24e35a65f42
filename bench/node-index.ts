// requests-fit-nodes over 5,000 Nodes of 48 shapes (4 pools × 3 zones × 4 instance types; each node
// with the labels a cloud node carries, its hostname its own), the index by shape against the scan over
// every node (the same records in an array, as before the index), in the same run, alternating blocks:
// a Deployment CREATE that fits no node (the deny path: every node, or every shape, looked at) and one
// that fits (the first node takes it), through handleAdmission with the shipped policy; and the heap
// per Node with and without the index.
// Run with --expose-gc (npm run bench:nodes). Bounded: fixed node count and iterations.
import { handleAdmission } from '../src/admission/handle.ts'
import type { ClusterView } from '../src/cluster/view.ts'
import { ClusterStore } from '../src/cluster/store.ts'
import { loadConfig } from '../src/config/load.ts'
import { buildPolicy } from '../src/engine/policy.ts'
import type { KubeObject } from '../src/model/types.ts'
import { nodeRecord, type NodeRecord } from '../src/scheduling/node-record.ts'
import { admissionReview } from '../test/helpers/objects.ts'
import { writeResult } from './lib/report.ts'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc (npm run bench:nodes)')
const NODES = 5_000
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 4_000)
const BLOCKS = 5

const POOLS = [
  { pool: 'general', taints: [] },
  { pool: 'memory', taints: [] },
  { pool: 'batch', taints: [{ key: 'batch', value: 'true', effect: 'NoSchedule' }] },
  { pool: 'gpu', taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
]
const TYPES = [
  { type: 'm6i.xlarge', cpu: '3920m', memory: '14Gi' },
  { type: 'm6i.2xlarge', cpu: '7910m', memory: '29Gi' },
  { type: 'm6i.4xlarge', cpu: '15890m', memory: '58Gi' },
  { type: 'm6i.8xlarge', cpu: '31850m', memory: '120Gi' },
]

function nodeObject(i: number): KubeObject {
  const { pool, taints } = POOLS[i % POOLS.length]!
  const zone = `eu-west-1${'abc'[Math.floor(i / POOLS.length) % 3]}`
  const shape = TYPES[Math.floor(i / (POOLS.length * 3)) % TYPES.length]!
  const name = `ip-10-${Math.floor(i / 250)}-${i % 250}-7.eu-west-1.compute.internal`
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'node.kubernetes.io/instance-type': shape.type,
        'topology.kubernetes.io/region': 'eu-west-1',
        'topology.kubernetes.io/zone': zone,
        pool,
      },
    },
    spec: { taints },
    status: { allocatable: { cpu: shape.cpu, memory: shape.memory, pods: '110', 'ephemeral-storage': '95Gi', ...(pool === 'gpu' ? { 'nvidia.com/gpu': '4' } : {}) } },
  }
}

function heapAfterGc(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

// Heap: the objects as parsed JSON are what the watch hands over; a record keeps the labels object.
const objects = Array.from({ length: NODES }, (_, i) => JSON.parse(JSON.stringify(nodeObject(i))) as KubeObject)
const before = heapAfterGc()
// Before the index: a Map of records by name.
let linear: Map<string, NodeRecord> | undefined = new Map(objects.map((object) => [object.metadata!.name!, nodeRecord(object)]))
const linearBytes = heapAfterGc() - before
const store = new ClusterStore()
for (const object of objects) store.putNode(nodeRecord(object))
const indexedBytes = heapAfterGc() - before - linearBytes
objects.length = 0
const labelBytes = (() => {
  // The labels objects, which both keep (they are the parsed object's own): measured apart.
  const start = heapAfterGc()
  const labels = Array.from({ length: NODES }, (_, i) => JSON.parse(JSON.stringify(nodeObject(i).metadata!.labels)))
  const bytes = heapAfterGc() - start
  return labels.length > 0 ? bytes : 0
})()

// The scan over every node: the same store, its nodes() an array (no NodeShapes, so placement scans each).
const nodeArray = [...linear.values()]
const linearView: ClusterView = Object.assign(Object.create(store) as ClusterStore, { nodes: () => nodeArray })
const config = await loadConfig()
const indexedPolicy = buildPolicy(config, { cluster: store })
const linearPolicy = buildPolicy(config, { cluster: linearView })

function deployment(spec: Record<string, unknown>, resources: Record<string, unknown>) {
  return admissionReview({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'new-app', namespace: 'team-1' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'new-app' } },
      template: {
        metadata: { labels: { app: 'new-app' } },
        spec: { ...spec, containers: [{ name: 'app', image: 'registry.example.com/app:1', resources, readinessProbe: { httpGet: { path: '/ready', port: 8080 } }, lifecycle: { preStop: { sleep: { seconds: 5 } } } }] },
      },
    },
  })
}
// A GPU asked for while kept off the GPU pool: every node (or shape) looked at, then the message.
const denyReview = deployment({ nodeSelector: { pool: 'general' } }, { limits: { 'nvidia.com/gpu': '1' } })
const fitReview = deployment({}, { requests: { cpu: '500m', memory: '1Gi' } })

function sample(policy: typeof indexedPolicy, body: object, into: number[]): string {
  let decision = ''
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now()
    decision = handleAdmission(body, 'validate', policy).log.decision
    into.push((performance.now() - start) * 1000)
  }
  return decision
}
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)]!
const runs = { indexedDeny: [] as number[], linearDeny: [] as number[], indexedFit: [] as number[], linearFit: [] as number[] }
const decisions = new Set<string>()
for (const [policy, body] of [[indexedPolicy, denyReview], [linearPolicy, denyReview], [indexedPolicy, fitReview], [linearPolicy, fitReview]] as const) sample(policy, body, [])
for (let block = 0; block < BLOCKS; block++) {
  decisions.add(`deny: ${sample(indexedPolicy, denyReview, runs.indexedDeny)} / ${sample(linearPolicy, denyReview, runs.linearDeny)}`)
  decisions.add(`fit: ${sample(indexedPolicy, fitReview, runs.indexedFit)} / ${sample(linearPolicy, fitReview, runs.linearFit)}`)
}
const shapes = [...store.nodes().shapes()].length
const row = (name: string, indexed: number[], scanned: number[]) =>
  `| ${name} | ${quantile(indexed, 0.5).toFixed(1)} / ${quantile(indexed, 0.99).toFixed(1)} µs | ${quantile(scanned, 0.5).toFixed(1)} / ${quantile(scanned, 0.99).toFixed(1)} µs | ${(quantile(scanned, 0.99) / quantile(indexed, 0.99)).toFixed(1)}× |`
console.log(`${NODES} Nodes of ${shapes} shapes; ${BLOCKS} alternating blocks of ${ITERATIONS} reviews each; handleAdmission with the shipped policy`)
console.log('| measure | indexed by shape p50 / p99 | every node scanned p50 / p99 | p99 ratio |')
console.log('|---|---|---|---|')
console.log(row('Deployment CREATE that fits no node (deny)', runs.indexedDeny, runs.linearDeny))
console.log(row('Deployment CREATE that fits a node', runs.indexedFit, runs.linearFit))
console.log(`heap per Node: ${(indexedBytes / NODES).toFixed(0)} B indexed, ${(linearBytes / NODES).toFixed(0)} B in a Map by name, as before (labels not counted: both keep the parsed object's own, ${(labelBytes / NODES).toFixed(0)} B a node here)`)
console.log(`decisions (indexed / scanned): ${[...decisions].join('; ')}`)
await writeResult('node-index', { nodes: NODES, shapes, indexedBytes, linearBytes, labelBytes, deny: { indexed: [quantile(runs.indexedDeny, 0.5), quantile(runs.indexedDeny, 0.99)], linear: [quantile(runs.linearDeny, 0.5), quantile(runs.linearDeny, 0.99)] }, fit: { indexed: [quantile(runs.indexedFit, 0.5), quantile(runs.indexedFit, 0.99)], linear: [quantile(runs.linearFit, 0.5), quantile(runs.linearFit, 0.99)] } })
linear = undefined
