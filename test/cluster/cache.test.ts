// The watch-fed cache against a test API server speaking the real list/watch protocol, through
// @kubernetes/client-node.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { ClusterCache, loadKubeConfig, readServerVersion } from '../../src/cluster/cache.ts'
import type { KubeObject } from '../../src/engine/types.ts'
import { createLogger } from '../../src/log.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'

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

async function setup(t: Test, seed: KubeObject[], options: { staleAfterMs?: number } = {}) {
  const fake = new FakeApiServer()
  fake.seed(seed)
  await fake.start()
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-kc-')), 'config'))
  const cache = new ClusterCache({ kc: loadKubeConfig(kubeconfig), logger, pageSize: 2, backoff: { initialMs: 10, maxMs: 100 }, ...options })
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
  const watch = fake.requests.find((r) => r.path === '/api/v1/services' && r.query['watch'] === 'true')
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
