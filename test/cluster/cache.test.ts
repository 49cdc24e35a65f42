// The watch-fed cache against a test API server speaking the real list/watch protocol, through
// @kubernetes/client-node.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { ClusterCache, loadKubeConfig, readServerVersion } from '../../src/cluster/cache.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { createLogger } from '../../src/log/log.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'
import { CACHED_RESOURCES } from '../../src/contract/registry.ts'

const logger = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }))
const ns = (name: string, labels = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } })
const svc = (name: string, namespace: string, selector: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector, ports: [{ port: 80, targetPort: 'http' }] },
})
const deploy = (name: string, namespace: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
})
const owned = (kind: string, name: string, namespace: string, ownerKind: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1',
  kind,
  metadata: { name, namespace, labels, ownerReferences: [{ kind: ownerKind, name: 'owner', controller: true }] },
  spec: kind === 'Pod' ? { containers: [{ name: 'app' }] } : { template: { metadata: { labels }, spec: { containers: [{ name: 'app' }] } } },
})

async function eventually(t: Test, check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.ok(check(), what)
}

async function setup(t: Test, seed: KubeObject[], options: Partial<Omit<ConstructorParameters<typeof ClusterCache>[0], 'resources'>> = {}) {
  const fake = new FakeApiServer()
  fake.seed(seed)
  await fake.start()
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-kc-')), 'config'))
  const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc: loadKubeConfig(kubeconfig), logger, pageSize: 2, backoff: { initialMs: 10, maxMs: 100 }, ...options })
  t.teardown(async () => {
    cache.stop()
    await fake.stop()
  })
  return { fake, cache, kubeconfig }
}

const names = (records: { kind: string; name: string }[]) => records.map((r) => `${r.kind}/${r.name}`).sort()

t.test('initial list: lean records, paginated, without what controllers derive', async (t) => {
  const { fake, cache } = await setup(t, [
    ns('shop', { 'hitless.dev/mode': 'audit' }),
    svc('web', 'shop', { app: 'web' }),
    deploy('web', 'shop', { app: 'web', tier: 'fe' }),
    owned('ReplicaSet', 'web-7d9f8', 'shop', 'Deployment', { app: 'web' }),
    owned('Pod', 'web-7d9f8-abc', 'shop', 'ReplicaSet', { app: 'web' }),
    owned('ReplicaSet', 'rollout-5c', 'shop', 'Rollout', { app: 'rollout' }),
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'shop', labels: { app: 'web' } }, spec: { containers: [{ name: 'sh' }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tool', namespace: 'shop', labels: { app: 'tool' } }, spec: { containers: [{ name: 'sh' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'no-selector', namespace: 'shop' }, spec: { ports: [{ port: 1 }] } },
  ])
  t.equal(cache.synced(), false)
  t.match(cache.unavailable(), /^cache not synced yet/)
  cache.start()
  t.ok(await cache.waitForSync(5000), 'synced')
  t.equal(cache.unavailable(), undefined)
  t.same(names(cache.workloadsMatching('shop', { app: 'web' })), ['Deployment/web', 'Pod/debug'], 'owned ReplicaSets and Pods are represented by their owner')
  t.same(names(cache.workloadsMatching('shop', { app: 'rollout' })), ['ReplicaSet/rollout-5c'], 'a ReplicaSet owned by something else stays')
  t.same([...cache.services('shop')].map((s) => s.name), ['web'], 'Services without a selector are not kept')
  t.same(cache.get('shop')?.labels, { 'hitless.dev/mode': 'audit' })
  t.ok(fake.requests.some((r) => r.path === '/api/v1/pods' && r.query['continue'] === '2'), 'lists are paginated')
  // Each watch opens after its kind's list, which may be the last one synced: wait (bounded) for it.
  const serviceWatch = (r: { path: string; query: Record<string, string> }) => r.path === '/api/v1/services' && r.query['watch'] === 'true'
  await eventually(t, () => fake.requests.some(serviceWatch), 'a watch follows the list')
  const watch = fake.requests.find(serviceWatch)
  t.match(watch?.query, { resourceVersion: /^\d+$/, allowWatchBookmarks: 'true' }, 'then watches from the list version')
})

t.test('watch events keep the indexes current', async (t) => {
  const { fake, cache } = await setup(t, [deploy('web', 'shop', { app: 'web' })])
  cache.start()
  await cache.waitForSync(5000)
  fake.add(svc('web', 'shop', { app: 'web' }))
  await eventually(t, () => [...cache.services('shop')].length === 1, 'ADDED Service')
  fake.add(deploy('web', 'shop', { app: 'web-v2' }))
  await eventually(t, () => cache.workloadsMatching('shop', { app: 'web' }).length === 0, 'MODIFIED labels leave the old index')
  t.same(names(cache.workloadsMatching('shop', { app: 'web-v2' })), ['Deployment/web'])
  fake.remove(deploy('web', 'shop', { app: 'web-v2' }))
  await eventually(t, () => cache.workloadsMatching('shop', { app: 'web-v2' }).length === 0, 'DELETED')
})

t.test('a dropped watch resumes from the last version without a re-list', async (t) => {
  const { fake, cache } = await setup(t, [])
  cache.start()
  await cache.waitForSync(5000)
  const lists = () => fake.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] !== 'true').length
  const before = lists()
  fake.dropWatches()
  fake.add(svc('late', 'shop', { app: 'late' }))
  await eventually(t, () => [...cache.services('shop')].length === 1, 'the event sent while the watch was down arrives')
  t.equal(lists(), before, 'no re-list')
})

t.test('410 Gone: the cache lists again and catches up', async (t) => {
  const { fake, cache } = await setup(t, [svc('old', 'shop', { app: 'old' })])
  cache.start()
  await cache.waitForSync(5000)
  const lists = () => fake.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] !== 'true').length
  const before = lists()
  fake.seed([svc('missed', 'shop', { app: 'missed' })]) // changed while no watch could see it
  fake.compact()
  fake.dropWatches()
  await eventually(t, () => [...cache.services('shop')].some((s) => s.name === 'missed'), 're-listed after 410')
  t.ok(lists() > before)
  t.equal(cache.unavailable(), undefined)
})

t.test('watches the server ends on schedule resume at once: no failure, no re-list, never unavailable', async (t) => {
  // Issue: client-node's Watch cut quiet streams after 30 s and each cut counted as a failure, so a
  // quiet, healthy cluster read as "cluster state unavailable" half the time.
  const { fake, cache } = await setup(t, [svc('web', 'shop', { app: 'web' })], { staleAfterMs: 100, watchSeconds: () => 1 })
  cache.start()
  await cache.waitForSync(5000)
  const lists = () => fake.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] !== 'true').length
  const before = lists()
  const verdicts = new Set<string>()
  const deadline = Date.now() + 3500
  while (Date.now() < deadline) {
    verdicts.add(cache.unavailable() ?? 'usable')
    await new Promise((r) => setTimeout(r, 25))
  }
  t.same([...verdicts], ['usable'], 'usable at every sample over three server-side watch timeouts')
  const services = cache.readiness().kinds.find((k) => k.kind === 'Service')!
  t.ok(services.restarts.quiet >= 2, `quiet restarts counted (${services.restarts.quiet})`)
  t.equal(services.restarts.error, 0, 'none counted as errors')
  t.equal(services.relists, 0)
  t.equal(lists(), before, 'no list after the first')
  t.ok(fake.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] === 'true').every((r) => r.query['timeoutSeconds'] === '1'), 'the server is asked to end each watch')
  fake.add(svc('late', 'shop', { app: 'late' }))
  await eventually(t, () => [...cache.services('shop')].length === 2, 'events still arrive')
})

t.test('a watch that broke once is healthy again as soon as it resumes', async (t) => {
  const { fake, cache } = await setup(t, [], { staleAfterMs: 100 })
  cache.start()
  await cache.waitForSync(5000)
  fake.fail('/api/v1/services', 500, 1)
  fake.dropWatches()
  await eventually(t, () => cache.readiness().kinds.find((k) => k.kind === 'Service')!.restarts.error >= 1, 'the break is counted')
  await eventually(t, () => cache.readiness().kinds.every((k) => k.watching && k.brokenSince === undefined), 'every watch open again')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(cache.unavailable(), undefined, 'still usable after staleAfterMs: the resumed watch cleared the broken state')
})

t.test('a server that stops answering (half-open) makes the cache unusable within the probe deadline, then it catches up', async (t) => {
  const { fake, cache } = await setup(t, [svc('web', 'shop', { app: 'web' })], { liveness: { periodMs: 50, timeoutMs: 100, deadAfterMs: 300 } })
  cache.start()
  await cache.waitForSync(5000)
  await eventually(t, () => cache.readiness().apiserver.reachable === true, 'reachable')
  t.equal(cache.readiness().ready, true)
  fake.pause()
  fake.add(svc('during', 'shop', { app: 'during' }))
  await eventually(t, () => /API server not answering/.test(cache.unavailable() ?? ''), 'unusable: the API server does not answer', 3000)
  t.equal(cache.readiness().ready, false, 'not ready meanwhile')
  t.equal(cache.readiness().apiserver.reachable, false)
  fake.resume()
  await eventually(t, () => cache.unavailable() === undefined, 'usable again once the watches resumed', 10_000)
  t.ok([...cache.services('shop')].some((s) => s.name === 'during'), 'with the event sent while it did not answer')
  t.equal(cache.readiness().ready, true)
})

t.test('the version comes from the first answer, without holding anything up', async (t) => {
  const { fake, kubeconfig } = await setup(t, [])
  fake.version = { major: '1', minor: '20', gitVersion: 'v1.20.2' }
  const seen: unknown[] = []
  const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc: loadKubeConfig(kubeconfig), logger, liveness: { onVersion: (v) => seen.push(v) } })
  t.teardown(() => cache.stop())
  t.equal(cache.serverVersion(), undefined, 'unknown before start')
  cache.start()
  await eventually(t, () => cache.serverVersion() !== undefined, 'known after the first probe')
  t.same(cache.serverVersion(), { major: 1, minor: 20, gitVersion: 'v1.20.2' })
  t.same(seen, [{ major: 1, minor: 20, gitVersion: 'v1.20.2' }], 'told once')
})

t.test('failed lists are retried with back-off; not ready until then', async (t) => {
  const { fake, cache } = await setup(t, [svc('web', 'shop', { app: 'web' })])
  fake.fail('/api/v1/services', 500, 3)
  cache.start()
  await eventually(t, () => cache.readiness().kinds.some((k) => k.kind === 'Service' && k.lastError !== undefined), 'the failure is recorded')
  t.equal(cache.readiness().synced, false)
  t.ok(await cache.waitForSync(5000), 'synced after the failures')
  t.equal([...cache.services('shop')].length, 1)
})

t.test('a lost API server makes the cache stale, and it recovers when the server is back', async (t) => {
  const { fake, cache } = await setup(t, [svc('web', 'shop', { app: 'web' })], { staleAfterMs: 150 })
  cache.start()
  await cache.waitForSync(5000)
  const port = Number(new URL(fake.url).port)
  await fake.stop()
  await eventually(t, () => /watch for .* broken for/.test(cache.unavailable() ?? ''), 'unavailable once stale')
  t.ok(cache.readiness().reasons.length > 0, 'readiness says why')
  t.equal([...cache.services('shop')].length, 1, 'the last known state is kept meanwhile')
  fake.add(svc('new', 'shop', { app: 'new' }))
  await fake.start(port)
  await eventually(t, () => cache.unavailable() === undefined && [...cache.services('shop')].length === 2, 'recovered and caught up', 10_000)
})

t.test('the server version is read once', async (t) => {
  const { fake, kubeconfig } = await setup(t, [])
  t.same(await readServerVersion(loadKubeConfig(kubeconfig)), { major: 1, minor: 28 })
  fake.version = { major: '1', minor: '31+', gitVersion: 'v1.31.2-gke.1' }
  t.same(await readServerVersion(loadKubeConfig(kubeconfig)), { major: 1, minor: 31 })
})

t.test('a 1.20 server: PDBs from policy/v1beta1, HPAs from autoscaling/v2beta2, no Rollout CRD (none, not broken)', async (t) => {
  const fake = new FakeApiServer()
  for (const path of ['/apis/policy/v1/poddisruptionbudgets', '/apis/autoscaling/v2/horizontalpodautoscalers', '/apis/argoproj.io/v1alpha1/rollouts']) fake.unserved.add(path)
  fake.seed([
    ns('shop'),
    { ...deploy('web', 'shop', { app: 'web' }), spec: { ...deploy('web', 'shop', { app: 'web' }).spec, replicas: 3 } },
    { apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'shop' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } },
    { apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget', metadata: { name: 'none', namespace: 'shop' }, spec: { selector: {} } },
    { apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'shop' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 6 } },
  ])
  await fake.start()
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-kc-')), 'config'))
  const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc: loadKubeConfig(kubeconfig), logger, backoff: { initialMs: 10, maxMs: 100 } })
  t.teardown(async () => {
    cache.stop()
    await fake.stop()
  })
  cache.start()
  t.ok(await cache.waitForSync(5000), 'synced, the missing CRD included')
  // Each watch starts after its kind's list: wait (bounded) for them, on a loaded machine too.
  for (const deadline = Date.now() + 10_000; cache.readiness().reasons.length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25))
  t.equal(cache.unavailable(), undefined, 'usable')
  // Synced is not yet watching: each watch opens after its list, so wait (bounded) for them all.
  await eventually(t, () => cache.readiness().kinds.every((k) => k.absent || k.watching), 'every present kind is watched', 20_000)
  t.equal(cache.readiness().ready, true)
  // Watches open one by one after the lists: wait (bounded) for them all.
  await eventually(t, () => cache.readiness().reasons.length === 0, 'an absent kind is no reason to be unready')
  const states = Object.fromEntries(cache.readiness().kinds.map((k) => [k.kind, k]))
  t.match(states['PodDisruptionBudget'], { path: '/apis/policy/v1beta1/poddisruptionbudgets', watching: true })
  t.match(states['HorizontalPodAutoscaler'], { path: '/apis/autoscaling/v2beta2/horizontalpodautoscalers' })
  t.match(states['Rollout'], { absent: true, synced: true })
  const pdbs = [...cache.disruptionBudgets('shop')]
  t.same(pdbs.find((p) => p.name === 'web'), { namespace: 'shop', name: 'web', matchLabels: { app: 'web' }, minAvailable: 2 })
  t.equal(pdbs.find((p) => p.name === 'none')!.selectsNothing, true, 'a v1beta1 empty selector selects nothing')
  t.match(cache.autoscalerFor('shop', { group: 'apps', kind: 'Deployment', name: 'web' }), { name: 'web', minReplicas: 2, maxReplicas: 6 })
  t.equal(cache.workload('shop', 'Deployment', 'web')?.replicas, 3)
  // Watch events arrive on the version the cache settled on.
  fake.add({ apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget', metadata: { name: 'late', namespace: 'shop' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } })
  await eventually(t, () => [...cache.disruptionBudgets('shop')].some((p) => p.name === 'late'), 'a PDB created later arrives by watch')
})

t.test('ServiceMonitors and PodMonitors: listed and watched where the CRDs are served, with their namespace selectors', async (t) => {
  const monitor = (kind: 'ServiceMonitor' | 'PodMonitor', name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'monitoring.coreos.com/v1', kind, metadata: { name, namespace }, spec })
  const { fake, cache } = await setup(t, [
    monitor('ServiceMonitor', 'operator', 'monitoring', { selector: { matchLabels: { app: 'operator' } }, namespaceSelector: { matchNames: ['shop'] }, endpoints: [{ port: 'https' }] }),
    monitor('PodMonitor', 'envoy', 'shop', { selector: {}, podMetricsEndpoints: [{ port: 'http-envoy-prom' }] }),
  ])
  cache.start()
  t.ok(await cache.waitForSync(5000), 'synced')
  t.same(cache.monitors('shop').map((m) => `${m.kind}/${m.namespace}/${m.name}:${m.ports.join()}`).sort(), ['PodMonitor/shop/envoy:http-envoy-prom', 'ServiceMonitor/monitoring/operator:https'])
  t.same(cache.monitors('other'), [], 'a monitor looks only where its namespaceSelector says')
  fake.remove(monitor('PodMonitor', 'envoy', 'shop', {}))
  await eventually(t, () => cache.monitors('shop').length === 1, 'DELETED PodMonitor')
})
