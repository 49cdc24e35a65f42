import t from 'tap'
import { storeFrom } from '../../src/cluster/ingest.ts'
import type { ClusterView } from '../../src/cluster/view.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { configFrom, reviewOf, unusableView } from '../helpers/objects.ts'

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }
const unsynced: ClusterView = unusableView('cache not synced yet: Pod')

t.test('while the cluster state is unusable, onClusterUnavailable decides', async (t) => {
  const warn = evaluate(reviewOf(service), buildPolicy(configFrom(), { cluster: unsynced }))
  t.same(warn.findings.map((f) => [f.rule, f.action, f.message]), [
    ['service-selector', 'warn', 'cannot check service-selector: cluster state unavailable (cache not synced yet: Pod)'],
    ['service-target-port', 'warn', 'cannot check service-target-port: cluster state unavailable (cache not synced yet: Pod)'],
  ])
  const deny = evaluate(reviewOf(service), buildPolicy(configFrom('onClusterUnavailable: deny'), { cluster: unsynced }))
  t.same(deny.findings.map((f) => f.action), ['deny', 'deny'])
  const ruleWarns = evaluate(reviewOf(service), buildPolicy(configFrom('onClusterUnavailable: deny\nrules: {service-selector: {action: warn}}'), { cluster: unsynced }))
  t.equal(ruleWarns.findings[0]!.action, 'warn', 'never harsher than the rule itself')
})

t.test('--cluster off: referential rules see only the object and report nothing', async (t) => {
  t.same(evaluate(reviewOf(service), buildPolicy(configFrom())).findings, [])
})

t.test('DELETE is never blocked, whatever it orphans', async (t) => {
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } }
  const cluster = storeFrom([service, deployment])
  const result = evaluate({ ...reviewOf(deployment, { operation: 'DELETE' }), object: null, oldObject: deployment }, buildPolicy(configFrom(), { cluster }))
  t.same(result.findings, [])
})
