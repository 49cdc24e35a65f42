// The cluster cache at scale (1,000 namespaces, 10,000 Services, 100,000 pods/templates, 10,000 PDBs,
// 10,000 HPAs), each number beside a baseline from the same run: heap per cached pod vs keeping whole
// objects (as an informer does); decision latency for a Deployment UPDATE the selector and PDB rules
// must check, and for PDB UPDATEs, vs the same review with no cluster; sync time from a test API server
// vs merely fetching and parsing the same pages.
// Run with --expose-gc (npm run bench:cluster). Bounded: fixed object counts and iterations.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { handleAdmission } from '../src/admission/handle.ts'
import { ClusterCache, loadKubeConfig } from '../src/cluster/cache.ts'
import { CACHED_RESOURCES } from '../src/contract/registry.ts'
import { ingest, storeFrom } from '../src/cluster/ingest.ts'
import { listPages } from '../src/cluster/kube-client.ts'
import { loadConfig } from '../src/config/load.ts'
import { buildPolicy } from '../src/engine/policy.ts'
import { createLogger } from '../src/log/log.ts'
import { admissionReview } from '../test/helpers/objects.ts'
import { FakeApiServer } from '../test/helpers/fake-apiserver.ts'
import { startChildServer } from './lib/child.ts'
import { clusterObjects, loadBalancerObjects, SIZE, trafficObjects } from './lib/cluster-objects.ts'
import { writeResult } from './lib/report.ts'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc (npm run bench:cluster)')
const PODS = SIZE.namespaces * SIZE.podsPerNamespace

function heapAfterGc(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

// 1. Memory: the lean store vs the same objects kept whole.
const base = heapAfterGc()
let store: ReturnType<typeof storeFrom> | undefined = storeFrom(clusterObjects())
const leanBytes = heapAfterGc() - base
const counts = store.counts()
let whole: unknown[] | undefined = [...clusterObjects()]
const wholeBytes = heapAfterGc() - base - leanBytes
whole = undefined
// The traffic path on top (Ingresses, HTTPRoutes, Nodes): its cost per record, apart from the pods'.
const beforeTraffic = heapAfterGc()
let trafficRecords = 0
for (const object of trafficObjects()) {
  ingest(store, object.kind!, object)
  trafficRecords++
}
const trafficBytes = heapAfterGc() - beforeTraffic
// AWS load balancers on top (alb Ingresses, TargetGroupBindings, labelled Namespaces): their cost per record.
const beforeLb = heapAfterGc()
let lbRecords = 0
for (const object of loadBalancerObjects()) {
  ingest(store, object.kind!, object)
  if (object.kind !== 'Namespace') lbRecords++
}
const lbBytes = heapAfterGc() - beforeLb

// 2. Decision latency: Deployment UPDATEs that change pod-template labels, which service-selector must
// check against the namespace's Services: one keeps the Service selected (allowed), one orphans it.
const config = await loadConfig()
const withCluster = buildPolicy(config, { cluster: store })
const withoutCluster = buildPolicy(config)
const old = [...clusterObjects()].find((o) => o.kind === 'Deployment' && o.metadata?.namespace === 'team-500')!
function relabelled(change: Record<string, string>) {
  const updated = structuredClone(old)
  ;(updated.spec as any).template.metadata.labels = { ...(old.spec as any).template.metadata.labels, ...change }
  return admissionReview(updated, { operation: 'UPDATE', oldObject: old })
}
const kept = relabelled({ version: 'v2' })
const orphaning = relabelled({ version: 'v2', app: 'app-renamed' })
function latencies(policy: typeof withCluster, body: object, iterations = 20_000): { p50: number; p99: number; decision: string } {
  const samples = new Float64Array(iterations)
  let decision = ''
  for (let i = 0; i < 2_000; i++) handleAdmission(body, 'validate', policy)
  for (let i = 0; i < iterations; i++) {
    const start = performance.now()
    decision = handleAdmission(body, 'validate', policy).log.decision
    samples[i] = (performance.now() - start) * 1000
  }
  samples.sort()
  return { p50: samples[Math.floor(iterations * 0.5)]!, p99: samples[Math.floor(iterations * 0.99)]!, decision }
}
const cached = latencies(withCluster, kept)
const uncached = latencies(withoutCluster, kept)
const denied = latencies(withCluster, orphaning)
// PDB UPDATEs, which pdb-selects-nothing and pdb-blocks-drain check against the namespace's workloads
// and HPAs: one that still allows a disruption, one that would block every drain (minAvailable 2 with
// the Deployment's HPA at minReplicas 2).
const oldPdb = [...clusterObjects()].find((o) => o.kind === 'PodDisruptionBudget' && o.metadata?.namespace === 'team-500')!
const pdbWith = (spec: Record<string, unknown>) => admissionReview({ ...oldPdb, spec: { ...(oldPdb.spec as object), ...spec } }, { operation: 'UPDATE', oldObject: oldPdb })
const pdbAllowed = latencies(withCluster, pdbWith({ maxUnavailable: '50%' }))
const pdbUncached = latencies(withoutCluster, pdbWith({ maxUnavailable: '50%' }))
const pdbDenied = latencies(withCluster, pdbWith({ maxUnavailable: undefined, minAvailable: 2 }))
// Ingress and HTTPRoute UPDATEs (ingress-backend, route-backend: the Services, their ports and pods),
// and a Service UPDATE those rules check against the namespace's Ingresses and routes.
const byKind = (kind: string) => [...trafficObjects(), ...clusterObjects()].find((o) => o.kind === kind && o.metadata?.namespace === 'team-500')!
const oldIngress = byKind('Ingress')
const ingressTo = (port: Record<string, unknown>) => {
  const updated = structuredClone(oldIngress) as any
  updated.spec.rules[0].http.paths[0].backend.service.port = port
  return admissionReview(updated, { operation: 'UPDATE', oldObject: oldIngress })
}
const ingressAllowed = latencies(withCluster, ingressTo({ number: 80 }))
const ingressDenied = latencies(withCluster, ingressTo({ number: 8080 }))
const oldRoute = byKind('HTTPRoute')
const routeAllowed = latencies(withCluster, admissionReview({ ...oldRoute, metadata: { ...oldRoute.metadata, labels: { v: '2' } } }, { operation: 'UPDATE', oldObject: oldRoute }))
const oldService = byKind('Service')
const serviceAllowed = latencies(withCluster, admissionReview({ ...oldService, metadata: { ...oldService.metadata, labels: { v: '2' } } }, { operation: 'UPDATE', oldObject: oldService }))
// requests-fit-nodes over 5,000 Nodes: a Deployment CREATE that fits (found at once), and one that
// asks for a GPU while kept off the GPU pool (every node looked at: the deny path).
const deploymentWith = (spec: Record<string, unknown>, resources: Record<string, unknown>) => {
  const created = structuredClone(old) as any
  created.metadata = { ...created.metadata, name: 'new-app' }
  Object.assign(created.spec.template.spec, spec)
  created.spec.template.spec.containers[0].resources = resources
  return admissionReview(created)
}
const fitsAllowed = latencies(withCluster, deploymentWith({}, { requests: { cpu: '500m', memory: '1Gi' } }))
const fitsDenied = latencies(withCluster, deploymentWith({ nodeSelector: { pool: 'general' } }, { limits: { 'nvidia.com/gpu': '1' } }), 2_000)
// The load-balancer rules: a Deployment UPDATE behind alb Ingresses (target-type ip, 30 s delay) and a
// TargetGroupBinding, in a Namespace with the gate label (allowed) and in one without (lb-readiness-gate
// and lb-deregistration warn); a Namespace UPDATE that removes the label (every ALB target of the
// namespace looked at); each vs the same review with no cluster.
const lbDeployment = (namespace: string) => {
  const before = [...clusterObjects()].find((o) => o.kind === 'Deployment' && o.metadata?.namespace === namespace)!
  const after = structuredClone(before) as any
  after.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-12-06T00:00:00Z' }
  return admissionReview(after, { operation: 'UPDATE', oldObject: before })
}
const lbLabelled = latencies(withCluster, lbDeployment('team-500'))
const lbUnlabelled = latencies(withCluster, lbDeployment('team-501'))
const lbUncached = latencies(withoutCluster, lbDeployment('team-501'))
const namespaceBefore = [...loadBalancerObjects()].find((o) => o.kind === 'Namespace' && o.metadata?.name === 'team-500')!
const namespaceAfter = { ...namespaceBefore, metadata: { ...namespaceBefore.metadata, labels: { team: 't500' } } }
const lbNamespace = latencies(withCluster, admissionReview(namespaceAfter, { operation: 'UPDATE', oldObject: namespaceBefore }))
const lbDecisions = [lbLabelled.decision, lbUnlabelled.decision, lbNamespace.decision]
store = undefined

// 3. Sync time from a test API server in another process, vs fetching and parsing the same pages.
const fakeServer = await startChildServer(fileURLToPath(new URL('servers/fake-apiserver-server.ts', import.meta.url)), [])
const dir = await mkdtemp(join(tmpdir(), 'hitless-bench-kc-'))
const probe = new FakeApiServer()
probe.url = `http://127.0.0.1:${fakeServer.port}`
const kc = loadKubeConfig(await probe.writeKubeconfig(join(dir, 'kubeconfig')))
let fetchMs = 0
{
  const start = performance.now()
  for (const { path } of CACHED_RESOURCES) for await (const _page of listPages(kc, path, 500));
  fetchMs = performance.now() - start
}
const silent = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }))
const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc, logger: silent, pageSize: 500 })
const syncStart = performance.now()
cache.start()
const synced = await cache.waitForSync(60_000)
const syncMs = performance.now() - syncStart
const syncedCounts = cache.store.counts()
cache.stop()
await fakeServer.stop()
await rm(dir, { recursive: true, force: true })

const leanPerPod = leanBytes / PODS
const wholePerPod = wholeBytes / PODS
console.log(`cluster: ${counts.namespaces} namespaces, ${counts.services} Services, ${counts.workloads} pods/templates, ${counts.pdbs} PDBs, ${counts.hpas} HPAs`)
console.log('| measure | hitless | baseline | ratio | goal |')
console.log('|---|---|---|---|---|')
console.log(`| heap per cached pod (all records / pods) | ${leanPerPod.toFixed(0)} B | ${wholePerPod.toFixed(0)} B whole objects | ${((leanPerPod / wholePerPod) * 100).toFixed(1)} % | <= 500 B |`)
console.log(`| relabel UPDATE checked and allowed, p50 | ${cached.p50.toFixed(1)} µs | ${uncached.p50.toFixed(1)} µs without cluster | ${(cached.p50 / uncached.p50).toFixed(2)}x | |`)
console.log(`| relabel UPDATE checked and allowed, p99 | ${cached.p99.toFixed(1)} µs | ${uncached.p99.toFixed(1)} µs without cluster | ${(cached.p99 / uncached.p99).toFixed(2)}x | < 100 µs |`)
console.log(`| relabel UPDATE that orphans a Service (deny with fix), p50 / p99 | ${denied.p50.toFixed(1)} / ${denied.p99.toFixed(1)} µs | | | |`)
console.log(`| PDB UPDATE checked and allowed, p50 / p99 | ${pdbAllowed.p50.toFixed(1)} / ${pdbAllowed.p99.toFixed(1)} µs | ${pdbUncached.p50.toFixed(1)} / ${pdbUncached.p99.toFixed(1)} µs without cluster | ${(pdbAllowed.p99 / pdbUncached.p99).toFixed(2)}x (p99) | < 100 µs |`)
console.log(`| PDB UPDATE that blocks drains (deny with fix), p50 / p99 | ${pdbDenied.p50.toFixed(1)} / ${pdbDenied.p99.toFixed(1)} µs | | | < 100 µs |`)
console.log(`| Ingress UPDATE checked and allowed / denied, p50 / p99 | ${ingressAllowed.p50.toFixed(1)} / ${ingressAllowed.p99.toFixed(1)} µs; ${ingressDenied.p50.toFixed(1)} / ${ingressDenied.p99.toFixed(1)} µs | | | < 100 µs |`)
console.log(`| HTTPRoute UPDATE checked and allowed, p50 / p99 | ${routeAllowed.p50.toFixed(1)} / ${routeAllowed.p99.toFixed(1)} µs | | | < 100 µs |`)
console.log(`| Service UPDATE checked against Ingresses and routes, p50 / p99 | ${serviceAllowed.p50.toFixed(1)} / ${serviceAllowed.p99.toFixed(1)} µs | | | < 100 µs |`)
console.log(`| Deployment CREATE that fits a node (of 5,000), p50 / p99 | ${fitsAllowed.p50.toFixed(1)} / ${fitsAllowed.p99.toFixed(1)} µs | | | < 100 µs |`)
console.log(`| Deployment CREATE that fits no node (all 5,000 looked at, deny), p50 / p99 | ${fitsDenied.p50.toFixed(1)} / ${fitsDenied.p99.toFixed(1)} µs | | | |`)
console.log(`| heap per Ingress / HTTPRoute / Node record (average of ${trafficRecords}) | ${(trafficBytes / trafficRecords).toFixed(0)} B | | | |`)
console.log(`| heap per alb Ingress / TargetGroupBinding record (average of ${lbRecords}, Namespace labels included) | ${(lbBytes / lbRecords).toFixed(0)} B | | | |`)
console.log(`| Deployment UPDATE behind alb Ingresses, Namespace labelled (allowed), p50 / p99 | ${lbLabelled.p50.toFixed(1)} / ${lbLabelled.p99.toFixed(1)} µs | ${lbUncached.p50.toFixed(1)} / ${lbUncached.p99.toFixed(1)} µs without cluster | ${(lbLabelled.p99 / lbUncached.p99).toFixed(2)}x (p99) | < 100 µs |`)
console.log(`| Deployment UPDATE behind alb Ingresses, no label (lb-readiness-gate, lb-deregistration warn), p50 / p99 | ${lbUnlabelled.p50.toFixed(1)} / ${lbUnlabelled.p99.toFixed(1)} µs | | ${(lbUnlabelled.p99 / lbUncached.p99).toFixed(2)}x (p99) | < 100 µs |`)
console.log(`| Namespace UPDATE that removes the gate label, p50 / p99 | ${lbNamespace.p50.toFixed(1)} / ${lbNamespace.p99.toFixed(1)} µs | | | < 100 µs |`)
console.log(`| sync from test API server | ${(syncMs / 1000).toFixed(2)} s | ${(fetchMs / 1000).toFixed(2)} s fetch+parse only | ${(syncMs / fetchMs).toFixed(2)}x | < 10 s |`)
console.log(`load-balancer decisions: ${lbDecisions.join(', ')}`)
console.log(`decisions: ${cached.decision}, ${denied.decision}, ${pdbAllowed.decision}, ${pdbDenied.decision}; synced: ${synced}, ${syncedCounts.services} Services, ${syncedCounts.workloads} pods/templates, ${syncedCounts.pdbs} PDBs, ${syncedCounts.hpas} HPAs`)
await writeResult('cluster-cache', { counts, leanPerPod, wholePerPod, cached, uncached, denied, pdbAllowed, pdbUncached, pdbDenied, ingressAllowed, ingressDenied, routeAllowed, serviceAllowed, fitsAllowed, fitsDenied, trafficBytes, trafficRecords, lbBytes, lbRecords, lbLabelled, lbUnlabelled, lbUncached, lbNamespace, syncMs, fetchMs, synced })
