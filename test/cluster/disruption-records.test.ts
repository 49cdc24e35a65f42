// PDB and HPA records as the API server means them, and the store's lookups of them.
import t from 'tap'
import { hpaRecord, pdbRecord, selectorOf } from '../../src/cluster/disruption-records.ts'
import { ClusterStore } from '../../src/cluster/store.ts'
import { storeFrom } from '../../src/cluster/ingest.ts'
import type { KubeObject } from '../../src/model/types.ts'

const pdb = (apiVersion: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion, kind: 'PodDisruptionBudget', metadata: { name: 'p', namespace: 'shop' }, spec })
const hpa = (name: string, kind: string, target: string, apiVersion = 'apps/v1'): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name, namespace: 'shop' },
  spec: { scaleTargetRef: { apiVersion, kind, name: target }, maxReplicas: 4 },
})

t.test('a PDB selector: none selects nothing; {} selects everything in policy/v1 and nothing in v1beta1', async (t) => {
  t.equal(selectorOf(pdbRecord(pdb('policy/v1', { minAvailable: 1 }))), undefined, 'no selector (v1)')
  t.equal(selectorOf(pdbRecord(pdb('policy/v1beta1', { minAvailable: 1 }))), undefined, 'no selector (v1beta1)')
  t.same(selectorOf(pdbRecord(pdb('policy/v1', { selector: {} }))), { namespace: 'shop', name: 'p' }, 'v1 {}: a selector with no terms, which selects every pod')
  t.equal(selectorOf(pdbRecord(pdb('policy/v1beta1', { selector: {} }))), undefined, 'v1beta1 {}: nothing')
  t.same(pdbRecord(pdb('policy/v1', { maxUnavailable: '10%', selector: { matchLabels: { b: '2', a: '1' } } })), { namespace: 'shop', name: 'p', matchLabels: { a: '1', b: '2' }, maxUnavailable: '10%' })
})

t.test('an HPA: minReplicas defaults to 1, the target group comes from its apiVersion', async (t) => {
  t.same(hpaRecord(hpa('h', 'Deployment', 'web')), { namespace: 'shop', name: 'h', targetGroup: 'apps', targetKind: 'Deployment', targetName: 'web', minReplicas: 1, maxReplicas: 4 })
  t.equal(hpaRecord({ ...hpa('h', 'Deployment', 'web'), spec: { maxReplicas: 3 } }), undefined, 'no scaleTargetRef: nothing to record')
})

t.test('the store finds the HPA of a workload by group, kind and name, through deletes', async (t) => {
  const store = storeFrom([hpa('for-deploy', 'Deployment', 'web'), hpa('for-sts', 'StatefulSet', 'web'), hpa('for-rollout', 'Rollout', 'web', 'argoproj.io/v1alpha1')])
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'Deployment', name: 'web' })?.name, 'for-deploy')
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'StatefulSet', name: 'web' })?.name, 'for-sts')
  t.equal(store.autoscalerFor('shop', { group: 'argoproj.io', kind: 'Rollout', name: 'web' })?.name, 'for-rollout')
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'Deployment', name: 'api' }), undefined)
  store.deleteHpa('shop', 'for-sts')
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'StatefulSet', name: 'web' }), undefined, 'deleted')
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'Deployment', name: 'web' })?.name, 'for-deploy', 'the others stay')
  t.equal(store.counts().hpas, 2)
  // An HPA retargeted (UPDATE): the new target only.
  store.putHpa(hpaRecord(hpa('for-deploy', 'Deployment', 'api'))!)
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'Deployment', name: 'web' }), undefined)
  t.equal(store.autoscalerFor('shop', { group: 'apps', kind: 'Deployment', name: 'api' })?.name, 'for-deploy')
  store.deleteHpa('shop', 'for-deploy')
  store.deleteHpa('shop', 'for-rollout')
  t.same(store.counts(), { namespaces: 0, services: 0, workloads: 0, pdbs: 0, hpas: 0 }, 'an emptied namespace is dropped')
  t.type(new ClusterStore().autoscalerFor('none', { group: 'apps', kind: 'Deployment', name: 'x' }), 'undefined')
})
