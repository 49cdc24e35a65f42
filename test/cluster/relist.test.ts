// A re-list after 410 Gone puts the new records over the old ones in slices, yielding to the event loop
// between them (relist.ts). Reviews that run in between must see a consistent store: at every turn of
// the loop during the re-list, every answer the store gives (and every review's decision) equals that of
// a store built in one step from the records it holds, no object listed before and after is missing,
// and the kind is only ever mixed old and new. Through the test API server, the real list/watch path.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { handleAdmission } from '../../src/admission/handle.ts'
import { ClusterCache, loadKubeConfig } from '../../src/cluster/cache.ts'
import { entryKey } from '../../src/cluster/entry.ts'
import { putEntry, storeFrom } from '../../src/cluster/ingest.ts'
import { ClusterStore } from '../../src/cluster/store.ts'
import { CACHED_RESOURCES } from '../../src/contract/registry.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { createLogger } from '../../src/log/log.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'
import { admissionReview, configFrom, TEST_APPROVAL_KEY } from '../helpers/objects.ts'

const logger = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }))
const NAMESPACES = ['shop', 'pay']
const KINDS = CACHED_RESOURCES.map((r) => r.kind)

/** The cluster before (old) and after (new) the changes no watch saw: relabelled, added, deleted, reshaped. */
function cluster(generation: 'old' | 'new'): KubeObject[] {
  const objects: KubeObject[] = []
  const changed = (i: number) => generation === 'new' && i % 2 === 1
  for (const namespace of NAMESPACES) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { gen: generation } } })
    for (let i = 0; i < 12; i++) {
      if (generation === 'new' && i % 4 === 0) continue // deleted
      const app = `app-${changed(i) ? (i + 1) % 3 : i % 3}`
      const labels = { app, gen: generation, unique: `${namespace}-${i}` }
      const container = { name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: changed(i) ? '500m' : '100m', memory: '128Mi' } } }
      objects.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `web-${i}`, namespace, labels }, spec: { replicas: 3, selector: { matchLabels: { unique: labels.unique } }, template: { metadata: { labels }, spec: { containers: [container] } } } })
      objects.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `tool-${i}`, namespace, labels: { app, gen: generation } }, spec: { containers: [{ name: 'sh', image: 'sh' }] } })
      objects.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: `hpa-${i}`, namespace }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `web-${changed(i) ? i + 1 : i}` }, minReplicas: 2, maxReplicas: 5 } })
    }
    if (generation === 'new') objects.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'added', namespace }, spec: { template: { metadata: { labels: { app: 'app-0', gen: 'new' } }, spec: { containers: [{ name: 'app', image: 'app:2' }] } } } })
    for (let s = 0; s < 3; s++) {
      if (generation === 'new' && s === 2) continue
      const selector = { app: `app-${changed(s) ? (s + 2) % 3 : s}` }
      objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace }, spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
      objects.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: `pdb-${s}`, namespace }, spec: { maxUnavailable: changed(s) ? 0 : 1, selector: { matchLabels: selector } } })
      objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: `ing-${s}`, namespace }, spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `svc-${s}`, port: { number: changed(s) ? 8080 : 80 } } } }] } }] } })
    }
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'external', namespace }, spec: generation === 'old' ? { type: 'ExternalName', externalName: 'example.com' } : { selector: { app: 'app-1' }, ports: [{ port: 80 }] } })
    const other = NAMESPACES.find((n) => n !== namespace)!
    objects.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'route', namespace }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc-0', port: 80 }, { name: 'svc-1', namespace: generation === 'old' ? other : namespace, port: 80 }] }] } })
    objects.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ReferenceGrant', metadata: { name: `from-${other}`, namespace }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: other }], to: [{ group: '', kind: generation === 'old' ? 'Service' : 'Secret' }] } })
    objects.push({ apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding', metadata: { name: 'tgb', namespace }, spec: { serviceRef: { name: 'svc-0', port: 80 }, targetGroupARN: 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/1', targetType: generation === 'old' ? 'ip' : 'instance' } })
    objects.push({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'mon', namespace }, spec: { selector: {}, namespaceSelector: { matchNames: generation === 'old' ? [other] : [namespace] }, endpoints: [{ port: 'http' }] } })
  }
  for (let i = 0; i < 16; i++) {
    if (generation === 'new' && i % 5 === 0) continue
    const gpu = i % 4 === 0 || changed(i)
    objects.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, pool: gpu ? 'gpu' : 'general' } }, spec: gpu ? { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] } : {}, status: { allocatable: { cpu: gpu ? '16' : '4', memory: '16Gi', pods: '110' } } })
  }
  return objects
}

/** A store holding exactly what `live` holds, built in one step (no slices, no history). */
function builtInOneStep(live: ClusterStore): ClusterStore {
  const store = new ClusterStore()
  for (const kind of KINDS) for (const entry of live.entries(kind)) putEntry(store, entry)
  return store
}

const sorted = <T>(values: Iterable<T>) => [...values].map((v) => JSON.stringify(v)).sort()

/** What rules can ask of the store, each answer in an order-free form. */
function answers(store: ClusterStore): unknown {
  const perNamespace = NAMESPACES.map((namespace) => ({
    namespace: store.namespace(namespace),
    services: sorted(store.services(namespace)),
    serviceNames: sorted(store.serviceNames(namespace)),
    byName: ['svc-0', 'svc-1', 'svc-2', 'external'].map((name) => store.service(namespace, name)),
    matching: ['app-0', 'app-1', 'app-2'].map((app) => sorted(store.workloadsMatching(namespace, { app }))),
    unique: [0, 1, 2, 3].map((i) => sorted(store.workloadsMatching(namespace, { unique: `${namespace}-${i}` }))),
    selected: sorted(store.workloadsSelectedBy(namespace, { matchExpressions: [{ key: 'app', operator: 'In', values: ['app-1', 'app-2'] }, { key: 'gen', operator: 'Exists' }] })),
    pdbs: sorted(store.disruptionBudgets(namespace)),
    hpas: [0, 1, 2, 3, 4].map((i) => store.autoscalerFor(namespace, { group: 'apps', kind: 'Deployment', name: `web-${i}` })),
    ingresses: sorted(store.ingresses(namespace)),
    routes: sorted(store.routesTo(namespace)),
    grants: sorted(store.referenceGrants(namespace)),
    tgbs: sorted(store.targetGroupBindings(namespace)),
    monitors: sorted(store.monitors(namespace)),
  }))
  const shapes = sorted([...store.nodes().shapes()].map((shape) => ({ members: [...shape.members].map((n) => n.name).sort(), first: { ...shape.first, name: '', labels: { ...shape.first.labels, 'kubernetes.io/hostname': '' } } })))
  return { perNamespace, nodes: sorted(store.nodes()), shapes, counts: store.counts() }
}

/** Reviews that read Services, workloads, PDBs, HPAs, Ingresses and Nodes; their decision and the rules that fired. */
const reviews = NAMESPACES.flatMap((namespace) => {
  const old = cluster('old').find((o) => o.kind === 'Deployment' && o.metadata?.namespace === namespace && o.metadata.name === 'web-1')!
  const relabelled = structuredClone(old) as any
  relabelled.spec.template.metadata.labels.app = 'nothing'
  const big = structuredClone(old) as any
  big.metadata.name = 'big'
  big.spec.template.spec.containers[0].resources.requests.cpu = '12'
  const pdb = cluster('old').find((o) => o.kind === 'PodDisruptionBudget' && o.metadata?.namespace === namespace)!
  const tightened = { ...pdb, spec: { ...pdb.spec, maxUnavailable: 0 } }
  return [admissionReview(relabelled, { operation: 'UPDATE', oldObject: old }), admissionReview(big), admissionReview(tightened, { operation: 'UPDATE', oldObject: pdb })]
})

const config = configFrom()
function decisions(store: ClusterStore): unknown {
  const policy = buildPolicy(config, { cluster: store }, TEST_APPROVAL_KEY)
  return reviews.map((review) => {
    const { log } = handleAdmission(review, 'validate', policy)
    return { decision: log.decision, rules: sorted(log.rules ?? []) }
  })
}

t.test('a re-list after 410 Gone: reviews between its slices see a consistent store, never a half-filled kind', async (t) => {
  const fake = new FakeApiServer()
  fake.seed(cluster('old'))
  await fake.start()
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-kc-')), 'config'))
  // sliceMs 0: the re-list yields to the loop after every object, so the checks below run between all of them.
  const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc: loadKubeConfig(kubeconfig), logger, pageSize: 5, sliceMs: 0, backoff: { initialMs: 10, maxMs: 100 } })
  t.teardown(async () => {
    cache.stop()
    await fake.stop()
  })
  cache.start()
  t.ok(await cache.waitForSync(20_000), 'synced')
  const watching = () => cache.readiness().kinds.every((k) => k.absent || k.watching)
  for (const deadline = Date.now() + 20_000; !watching() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25))
  t.ok(watching(), 'every kind watched')
  t.strictSame(answers(cache.store), answers(storeFrom(cluster('old'))), 'the first list: as a store built in one step')

  // Kept across the change: listed before and after, so never missing while the kind is re-listed.
  const key = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`
  const newKeys = new Set(cluster('new').map(key))
  const kept = cluster('old').filter((o) => newKeys.has(key(o)))
  const relisted = () => cache.readiness().kinds.every((k) => k.absent || k.relists > 0)

  fake.reseed(cluster('new'))
  fake.compact()
  fake.dropWatches()
  let turns = 0
  let mixed = 0
  const mismatches: string[] = []
  const missing = new Set<string>()
  for (const deadline = Date.now() + 60_000; !relisted() && Date.now() < deadline; ) {
    // A turn of the loop between two slices, as a review arriving during the re-list gets.
    await new Promise((r) => setImmediate(r))
    turns++
    const live = cache.store
    const reference = builtInOneStep(live)
    if (JSON.stringify(answers(live)) !== JSON.stringify(answers(reference))) mismatches.push(`turn ${turns}: answers differ`)
    if (JSON.stringify(decisions(live)) !== JSON.stringify(decisions(reference))) mismatches.push(`turn ${turns}: decisions differ`)
    const held = new Set(KINDS.flatMap((kind) => [...live.entries(kind)].map((entry) => `${kind}/${entryKey(entry).namespace}/${entryKey(entry).name}`)))
    for (const object of kept) if (!held.has(key(object))) missing.add(key(object))
    const generations = new Set([...live.entries('Deployment')].map((e) => (e.kind === 'Workload' ? e.record.labels['gen'] : undefined)))
    if (generations.size > 1) mixed++
  }
  t.ok(relisted(), 'every kind listed again')
  t.same(mismatches.slice(0, 5), [], `answers and decisions at each of ${turns} turns equal a store built in one step`)
  t.same([...missing], [], 'no object listed before and after went missing during the re-list')
  t.ok(mixed > 0, `the Deployments were briefly mixed old and new (${mixed} turns): the re-list did yield between slices`)
  t.strictSame(answers(cache.store), answers(storeFrom(cluster('new'))), 'afterwards: exactly the new list, as a store built in one step')
  t.strictSame(decisions(cache.store), decisions(storeFrom(cluster('new'))), 'and the same decisions')
})
