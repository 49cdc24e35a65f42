// Policy reports kept by `hitless serve` in a real kube-apiserver (v1.20, built from Debian's source):
// no CRD → /readyz says so and admission keeps working; with the openreports CRDs from ../shared/crds a
// non-compliant Deployment shows up in its namespace's Report, fixing it removes the report; two
// replicas make one writer (a Lease), and the writer's SIGTERM hands over to the other.
// Run by test/e2e/apiserver.sh (npm run test:e2e).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { httpsGet, postReview, TestCluster, waitFor, type Replica } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const CRDS = fileURLToPath(new URL('../../../shared/crds/', import.meta.url))
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()
for (const ns of ['rep', 'hitless-system']) cluster.kubectl(['create', 'namespace', ns])

const config = join(cluster.dir, 'reports.yaml')
await writeFile(config, 'reports:\n  format: openreports\n  intervalSeconds: 10\n  writesPerSecond: 20\n')
const env = (name: string) => ({ POD_NAME: name, POD_NAMESPACE: 'hitless-system' })

const deployment = (container: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: rep}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - ${container}
`
const bare = '{name: web, image: nginx, ports: [{containerPort: 80}]}'
const complete = '{name: web, image: nginx, ports: [{name: http, containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}, lifecycle: {preStop: {exec: {command: [sleep, "5"]}}}}'

const readyz = async (replica: Replica) => {
  const { status, body } = await httpsGet(`${replica.url}/readyz`, cluster.ca)
  return { status, state: body ? JSON.parse(body) : {} }
}
const logged = (replica: Replica, message: string) => replica.logs.join('').split('\n').filter((line) => line.includes(`"msg":"${message}`)).length
const report = () => {
  const got = cluster.kubectl(['get', 'reports.openreports.io', 'hitless-rep', '-n', 'rep', '-o', 'json'])
  return got.status === 0 ? JSON.parse(got.stdout) : undefined
}
const holder = () => cluster.kubectl(['get', 'lease', 'hitless-reports', '-n', 'hitless-system', '-o', 'jsonpath={.spec.holderIdentity}']).stdout

const validate = (url: string, object: unknown) =>
  postReview(`${url}/validate?timeout=5s`, cluster.ca, {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'e2e-1', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' }, namespace: 'rep', name: 'api', operation: 'CREATE', userInfo: { username: 'e2e' }, object, oldObject: null, dryRun: false },
  })

let a: Replica
let b: Replica

t.test('without the CRDs: /readyz says so, stays ready, and admission keeps working', async (t) => {
  a = await cluster.startReplica(['--config', config], env('replica-a'))
  await waitFor('the missing CRD in /readyz', async () => (await readyz(a)).state.detail?.reports?.crd === 'missing', 30_000)
  const { status, state } = await readyz(a)
  t.equal(status, 200, 'ready: reports are not admission')
  t.match(state.detail.reports, { format: 'openreports', leading: true, crd: 'missing', problem: /does not serve Report and ClusterReport .*install the CRDs/ })
  t.ok(logged(a, 'reports.format is openreports but the API server does not serve') === 1, 'said once in the log')
  const { load } = await import('js-yaml')
  const answer = await validate(a.url, load(deployment(bare)))
  t.equal(answer.status, 200)
  t.equal(answer.body.response.allowed, false, 'a Deployment without a readinessProbe is still denied')
})

t.test('with the CRDs: a non-compliant Deployment appears in its namespace report, with its uid', async (t) => {
  for (const file of ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml']) {
    const created = cluster.kubectl(['create', '-f', join(CRDS, file)])
    t.equal(created.status, 0, created.stderr)
  }
  t.equal(cluster.kubectl(['wait', '--for', 'condition=established', '--timeout', '60s', 'crd/reports.openreports.io', 'crd/clusterreports.openreports.io']).status, 0)
  t.equal(cluster.kubectl(['apply', '-f', '-'], deployment(bare)).status, 0)
  const uid = cluster.kubectl(['get', 'deployment', 'api', '-n', 'rep', '-o', 'jsonpath={.metadata.uid}']).stdout
  await waitFor('the report of namespace rep', async () => report() !== undefined, 60_000)
  const got = report()
  t.match(got.metadata.labels, { 'app.kubernetes.io/managed-by': 'hitless' })
  t.equal(got.source, 'hitless')
  const result = got.results.find((r: any) => r.rule === 'readiness-probe')
  t.match(result, { policy: 'hitless', result: 'fail', severity: 'high', resources: [{ kind: 'Deployment', name: 'api', namespace: 'rep', uid }], properties: { container: 'web' } })
  t.ok(got.summary.fail >= 1)
  const { status, state } = await readyz(a)
  t.equal(status, 200)
  t.match(state.detail.reports, { crd: 'present', lastScan: { results: Number } })
  const metrics = (await httpsGet(`${a.url}/metrics`, cluster.ca)).body
  t.match(metrics, /hitless_violations\{rule="readiness-probe",namespace="rep",action="deny"\} 1/)
  // An unchanged scan writes nothing: the report's resourceVersion stays.
  const version = got.metadata.resourceVersion
  const scans = logged(a, 'reports scanned')
  await waitFor('another scan', async () => logged(a, 'reports scanned') > scans, 30_000)
  t.equal(report().metadata.resourceVersion, version, 'not rewritten when nothing changed')
})

t.test('two replicas: one writer; its SIGTERM hands the lease to the other', async (t) => {
  b = await cluster.startReplica(['--config', config], env('replica-b'))
  const scans = logged(a, 'reports scanned')
  await waitFor('two more scans by the leader', async () => logged(a, 'reports scanned') >= scans + 2, 40_000)
  t.equal(holder(), 'replica-a')
  t.equal(logged(b, 'reports scanned'), 0, 'the other replica never scans or writes')
  t.equal((await readyz(b)).state.detail.reports.leading, false)
  await a.stop()
  await waitFor('replica-b leading', async () => holder() === 'replica-b' && logged(b, 'reports scanned') > 0, 30_000)
  t.pass('handed over')
})

t.test('fixing the Deployment removes its result (and the report, now empty)', async (t) => {
  t.equal(cluster.kubectl(['apply', '-f', '-'], deployment(complete)).status, 0)
  await waitFor('the report of namespace rep removed', async () => report() === undefined, 60_000)
  t.pass('gone')
})
