// RBAC missing a verb, as the API server answers it (403 with a Status naming the user): /readyz names
// the verb, the resource and the ClusterRole to fix; the log says it once, not once per retry; and
// readiness follows the cache (docs/decisions/0011) until RBAC allows it.
import { readFile } from 'node:fs/promises'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { loadAll } from 'js-yaml'
import t, { type Test } from 'tap'
import { ClusterCache, loadKubeConfig } from '../../src/cluster/cache.ts'
import { READER_CLUSTER_ROLE } from '../../src/cluster/forbidden.ts'
import { CACHED_RESOURCES } from '../../src/contract/registry.ts'
import { createLogger } from '../../src/log/log.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'

const DEPLOYMENTS = '/apis/apps/v1/deployments'
const refusal = (verb: string) => `deployments.apps is forbidden: User "system:serviceaccount:hitless-system:hitless" cannot ${verb} resource "deployments" in API group "apps" at the cluster scope`

async function eventually(t: Test, check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.ok(check(), what)
}

async function setup(t: Test) {
  const lines: Record<string, any>[] = []
  const logger = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(...String(c).split('\n').filter(Boolean).map((l) => JSON.parse(l))), done()) }))
  const fake = new FakeApiServer()
  await fake.start()
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-kc-')), 'config'))
  const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc: loadKubeConfig(kubeconfig), logger, backoff: { initialMs: 10, maxMs: 50 }, staleAfterMs: 60_000 })
  t.teardown(async () => {
    cache.stop()
    await fake.stop()
  })
  const deployments = () => cache.readiness().kinds.find((k) => k.kind === 'Deployment')!
  const warnings = () => lines.filter((l) => l['level'] === 40 && l['kind'] === 'Deployment')
  return { fake, cache, lines, deployments, warnings }
}

t.test('list refused: not ready, the verb, the resource and the ClusterRole in /readyz, said once in the log', async (t) => {
  const { fake, cache, lines, deployments, warnings } = await setup(t)
  // Refused until healed below: the assertions read the state while the refusal lasts, however slow the machine.
  fake.fail(DEPLOYMENTS, 403, 1_000_000, refusal('list'))
  cache.start()
  await eventually(t, () => deployments().failures >= 4, 'retried several times')
  const state = cache.readiness()
  t.equal(state.ready, false)
  const expected =
    `RBAC: hitless may not list deployments.apps (HTTP 403: ${refusal('list')}); ` +
    `fix: add verb "list" on resource "deployments" in apiGroup "apps" to ClusterRole ${READER_CLUSTER_ROLE} (bound to hitless's ServiceAccount; as shipped: kubectl apply -k manifests/base)`
  t.ok(state.reasons.includes(expected), 'the reason says what to grant where')
  t.match(state.reasons[0], /^cache not synced yet: .*Deployment/)
  t.same(warnings().map((l) => [l['msg'], l['err']]), [['cluster cache refused by RBAC; retrying', expected]], 'one line for every retry')
  fake.heal(DEPLOYMENTS)
  await eventually(t, () => cache.readiness().ready, 'ready once RBAC allows it')
  t.ok(lines.some((l) => l['msg'] === 'cluster cache: RBAC allows it now' && l['kind'] === 'Deployment'))
  // Ready comes with the last list; each watch opens after its list: wait (bounded) for them too.
  await eventually(t, () => cache.readiness().reasons.length === 0, 'no reason left once every watch is open')
})

t.test('watch refused after the list: the verb is watch', async (t) => {
  const { fake, cache, deployments, warnings } = await setup(t)
  cache.start()
  await eventually(t, () => cache.readiness().ready, 'ready')
  fake.fail(DEPLOYMENTS, 403, 1_000_000, refusal('watch'))
  fake.dropWatches()
  await eventually(t, () => deployments().failures >= 3, 'the watch retried')
  t.ok(cache.readiness().reasons.some((r) => r.startsWith(`RBAC: hitless may not watch deployments.apps (HTTP 403: ${refusal('watch')}); fix: add verb "watch"`)))
  t.equal(warnings().filter((l) => l['msg'] === 'cluster cache refused by RBAC; retrying').length, 1)
  fake.heal(DEPLOYMENTS)
  await eventually(t, () => deployments().watching && cache.readiness().reasons.length === 0, 'watching again')
})

t.test('the ClusterRole the messages name is the one the manifests ship', async (t) => {
  const docs = loadAll(await readFile(new URL('../../manifests/base/rbac.yaml', import.meta.url), 'utf8')) as { kind: string; metadata: { name: string } }[]
  t.equal(docs.find((d) => d.kind === 'ClusterRole')!.metadata.name, READER_CLUSTER_ROLE)
})
