// The PDB and rollout rules against a real kube-apiserver v1.20: it serves PodDisruptionBudgets in
// policy/v1beta1 and HPAs in autoscaling/v2beta2 only (policy/v1 came in 1.21, autoscaling/v2 in 1.23),
// and has no Argo Rollout CRD, so hitless's cache must fall back to the older versions and hold no
// Rollouts without being unready. The webhook rules are the ones derived from the rule declarations
// (what manifests/base/webhooks.yaml ships), so matchPolicy: Equivalent is what sends v1beta1 PDBs.
import t from 'tap'
import { derivedWebhooks, httpsGet, TestCluster, waitFor } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()

const webhooks = derivedWebhooks(cluster, ['mutating', 'validating'])

const container = '{name: web, image: nginx, ports: [{name: http, containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}, lifecycle: {preStop: {exec: {command: [sleep, "5"]}}}}'
const deployment = (name: string, labels: string, replicas: number, strategy = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: drain}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}${strategy}
  template:
    metadata: {labels: {app: ${name}, ${labels}}}
    spec:
      containers:
      - ${container}
`
const pdb = (name: string, spec: string) => `apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: ${name}, namespace: drain}
spec: ${spec}
`
const apply = (yaml: string) => cluster.kubectl(['apply', '-f', '-'], yaml)

t.before(async () => {
  cluster.kubectl(['create', 'namespace', 'drain'])
  cluster.kubectl(['label', 'namespace', 'kube-system', 'hitless.dev/ignore=true'])
  const applied = apply(webhooks)
  if (applied.status !== 0) throw new Error(`registering the webhooks failed: ${applied.stderr}`)
})

t.test('the cache settles on the versions a 1.20 server has, and a missing CRD is no reason to be unready', async (t) => {
  let kinds: Record<string, { path?: string; absent?: boolean; synced: boolean }> = {}
  await waitFor('hitless ready', async () => {
    const state = await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)
    if (state.status !== 200) return false
    kinds = Object.fromEntries((JSON.parse(state.body).detail.cache as { kind: string; synced: boolean }[]).map((k) => [k.kind, k]))
    return true
  })
  t.match(kinds['PodDisruptionBudget'], { path: '/apis/policy/v1beta1/poddisruptionbudgets', synced: true })
  t.match(kinds['HorizontalPodAutoscaler'], { path: '/apis/autoscaling/v2beta2/horizontalpodautoscalers', synced: true })
  t.match(kinds['Rollout'], { absent: true, synced: true })
})

t.test('pdb-selects-nothing: a PDB created before its Deployment warns; a relabel that orphans it is denied', async (t) => {
  const early = apply(pdb('web', '{maxUnavailable: 1, selector: {matchLabels: {app: web, tier: front}}}'))
  t.equal(early.status, 0, early.stderr)
  t.match(early.stderr, /Warning: hitless \[pdb-selects-nothing\]: PodDisruptionBudget drain\/web protects nothing: no workload in drain has pods matching app=web, tier=front \(yet\)/)
  const created = apply(deployment('web', 'tier: front', 3))
  t.equal(created.status, 0, created.stderr)
  // The relabel needs both objects in hitless's cache: wait until a dry run of it is denied.
  const relabelled = deployment('web', 'tier: back', 3)
  await waitFor('the PDB and Deployment in the cache', async () => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], relabelled).status !== 0)
  const relabel = apply(relabelled)
  t.not(relabel.status, 0, 'denied')
  t.match(relabel.stderr, /\[pdb-selects-nothing\] this change would leave PodDisruptionBudget drain\/web protecting nothing: its selector app=web, tier=front no longer matches the pod labels/)
  t.match(relabel.stderr, /tier: front/, 'and says which label to keep')
})

t.test('pdb-blocks-drain: a PDB that allows no disruption is denied, v1beta1 as v1', async (t) => {
  const zero = apply(pdb('frozen', '{maxUnavailable: 0, selector: {matchLabels: {app: web}}}'))
  t.not(zero.status, 0)
  t.match(zero.stderr, /\[pdb-blocks-drain\] PodDisruptionBudget drain\/frozen never allows a disruption: maxUnavailable 0 lets no pod be evicted/)
  const all = apply(pdb('all', '{minAvailable: 3, selector: {matchLabels: {app: web}}}'))
  t.not(all.status, 0)
  t.match(all.stderr, /minAvailable 3 ≥ the 3 pods it selects \(Deployment web: replicas 3\)/)
  t.match(all.stderr, /maxUnavailable: 1/, 'with the fix')
  t.not(cluster.kubectl(['get', 'pdb', 'all', '-n', 'drain']).status, 0, 'nothing was stored')
})

t.test('pdb-blocks-drain: an HPA (autoscaling/v2beta2) whose floor makes a PDB block is warned about', async (t) => {
  t.equal(apply(pdb('two', '{minAvailable: 2, selector: {matchLabels: {app: web}}}')).status, 0)
  const hpa = `apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: drain}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 6
`
  await waitFor('PDB two in the cache', async () => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], hpa).stderr.includes('pdb-blocks-drain'))
  const created = apply(hpa)
  t.equal(created.status, 0, created.stderr)
  t.match(created.stderr, /Warning: hitless \[pdb-blocks-drain\]: this HorizontalPodAutoscaler \(minReplicas 2 for Deployment web\) makes PodDisruptionBudget drain\/two never allow a disruption/)
})

t.test('rollout-capacity: a single-replica Deployment with maxSurge 0 is denied', async (t) => {
  const result = apply(deployment('single', 'tier: x', 1, '\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0}}'))
  t.not(result.status, 0)
  t.match(result.stderr, /\[rollout-capacity\] Deployment drain\/single's rolling update can take every ready replica away at once: replicas 1, maxSurge 0 → 0, maxUnavailable 25% → 0, and with both 0 the controller uses 1/)
  const fixed = apply(deployment('single', 'tier: x', 1, '\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}'))
  t.equal(fixed.status, 0, fixed.stderr)
})

t.test('pdb-missing: a serving Deployment of 3 with no PDB is warned about, with the PDB to add', async (t) => {
  const result = apply(deployment('lonely', 'tier: lonely', 3))
  t.equal(result.status, 0, result.stderr)
  t.match(result.stderr, /Warning: hitless \[pdb-missing\]: Deployment drain\/lonely runs 3 replicas and no PodDisruptionBudget selects its pods/)
})
