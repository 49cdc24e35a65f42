// Full LabelSelector semantics in the cache (PodDisruptionBudgets, workload selectors and
// NetworkPolicies use them): matchLabels AND matchExpressions, with the labels controllers add.
import t from 'tap'
import { storeFrom } from '../../src/cluster/ingest.ts'
import { selectorSelects } from '../../src/cluster/label-selectors.ts'
import type { KubeObject } from '../../src/model/types.ts'

const workload = (kind: string, name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name, namespace: 'shop' },
  spec: { ...extra, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'c' }] } } },
})
const store = storeFrom([
  workload('Deployment', 'web', { app: 'web', tier: 'fe', track: 'stable' }),
  workload('Deployment', 'web-canary', { app: 'web', tier: 'fe', track: 'canary' }),
  workload('StatefulSet', 'db', { app: 'db', tier: 'be' }, { replicas: 2 }),
])
const names = (selector: Parameters<typeof store.workloadsSelectedBy>[1]) => store.workloadsSelectedBy('shop', selector).map((r) => r.name).sort()

t.test('matchLabels AND matchExpressions, not OR', async (t) => {
  t.same(names({ matchLabels: { app: 'web' } }), ['web', 'web-canary'])
  t.same(names({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'track', operator: 'In', values: ['stable'] }] }), ['web'], 'both must hold')
  t.same(names({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }), [], 'a contradiction selects nothing')
  t.same(names({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] }), ['db', 'web', 'web-canary'], 'In with several values, no matchLabels')
  t.same(names({ matchExpressions: [{ key: 'track', operator: 'DoesNotExist' }] }), ['db'])
  t.same(names({ matchExpressions: [{ key: 'track', operator: 'Exists' }, { key: 'track', operator: 'NotIn', values: ['canary'] }] }), ['web'])
  t.same(names({}), ['db', 'web', 'web-canary'], 'an empty selector selects everything, as the API server reads it')
})

t.test('labels controllers add count, within what they can be', async (t) => {
  t.same(names({ matchExpressions: [{ key: 'statefulset.kubernetes.io/pod-name', operator: 'In', values: ['db-1'] }] }), ['db'], 'an ordinal within replicas')
  t.same(names({ matchExpressions: [{ key: 'statefulset.kubernetes.io/pod-name', operator: 'In', values: ['db-2'] }] }), [], 'beyond replicas: no such pod')
  t.same(names({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'pod-template-hash', operator: 'Exists' }] }), ['web', 'web-canary'], 'a Deployment’s pods always carry pod-template-hash')
  t.ok(selectorSelects({ matchExpressions: [{ key: 'pod-template-hash', operator: 'NotIn', values: ['abc'] }] }, { labels: {}, podLabels: { 'pod-template-hash': '*' } }), 'an unknown hash may be outside any set')
  t.notOk(selectorSelects({ matchExpressions: [{ key: 'x', operator: 'Bogus' as 'In', values: [] }] }, { labels: { x: '1' } }), 'an unknown operator selects nothing')
})
