// hitless called by a real kube-apiserver (v1.20, built from Debian's source): TLS with a caBundle, the
// AdmissionReviews it really sends, how it applies our JSON Patch, dryRun, namespaceSelector, the
// Warning: lines kubectl prints; and the cluster cache against it, across an API server restart.
// Run by test/e2e/apiserver.sh (npm run test:e2e), which builds the API server and passes its path.
import t from 'tap'
import { httpsGet, TestCluster, waitFor } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()

const ca = Buffer.from(cluster.ca).toString('base64')
const hook = (name: string, path: string, extra = '') => `
  - name: ${name}
    clientConfig: {url: "${cluster.hitlessUrl}${path}", caBundle: "${ca}"}
    admissionReviewVersions: [v1]
    sideEffects: None
    timeoutSeconds: 5
    matchPolicy: Equivalent
    failurePolicy: Fail${extra}
    namespaceSelector:
      matchExpressions: [{key: hitless.dev/ignore, operator: DoesNotExist}]
    rules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments, statefulsets, daemonsets, replicasets]}
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods, replicationcontrollers, services]}`
const webhooks = `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: hitless}
webhooks:${hook('mutate.hitless.dev', '/mutate', '\n    reinvocationPolicy: IfNeeded')}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hitless}
webhooks:${hook('validate.hitless.dev', '/validate')}
`

const deployment = (name: string, namespace: string, container: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}${extra}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - ${container}
`
const probed = '{name: web, image: nginx, ports: [{name: http, containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}}'
const bare = '{name: web, image: nginx, ports: [{containerPort: 80}]}'
const complete = '{name: web, image: nginx, ports: [{name: http, containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}, lifecycle: {preStop: {exec: {command: [sleep, "5"]}}}}'
const stored = (kind: string, namespace: string, name: string) => JSON.parse(cluster.kubectl(['get', kind, name, '-n', namespace, '-o', 'json']).stdout)

t.before(async () => {
  for (const ns of ['shop', 'legacy', 'staging', 'hitless-system']) cluster.kubectl(['create', 'namespace', ns])
  cluster.kubectl(['label', 'namespace', 'kube-system', 'hitless-system', 'hitless.dev/ignore=true'])
  cluster.kubectl(['label', 'namespace', 'staging', 'hitless.dev/mode=audit'])
  const until = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10)
  cluster.kubectl(['annotate', 'namespace', 'legacy', 'hitless.dev/exempt=*', 'hitless.dev/exempt-reason=migrating', `hitless.dev/exempt-until=${until}`])
  const applied = cluster.kubectl(['apply', '-f', '-'], webhooks)
  if (applied.status !== 0) throw new Error(`registering the webhooks failed: ${applied.stderr}`)
  // Namespace labels reach hitless through its watch.
  await waitFor('namespace labels in hitless', async () => {
    const probe = cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], deployment('probe', 'staging', bare))
    return probe.stderr.includes('[audit]')
  })
})

t.test('a Deployment without a readinessProbe is denied, naming the rule, object and fix', async (t) => {
  const result = cluster.kubectl(['apply', '-f', '-'], deployment('bare', 'shop', bare))
  t.not(result.status, 0)
  t.match(result.stderr, /admission webhook "validate\.hitless\.dev" denied the request: hitless: Deployment shop\/bare has 1 problem/)
  t.match(result.stderr, /\[readiness-probe\] container "web" has no readinessProbe/)
  t.match(result.stderr, /readinessProbe:\s+httpGet:/)
  t.not(cluster.kubectl(['get', 'deployment', 'bare', '-n', 'shop']).status, 0, 'nothing was stored')
})

t.test('kubectl apply --dry-run=server gets the same verdict', async (t) => {
  const result = cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], deployment('bare', 'shop', bare))
  t.not(result.status, 0)
  t.match(result.stderr, /\[readiness-probe\] container "web" has no readinessProbe/)
  // kubectl runs synchronously, so hitless's log lines are read after it returns: wait for the line.
  await waitFor('the dry-run decision line', async () => cluster.decisions().some((d) => d.dryRun === true && d.decision === 'deny'), 5000)
  t.pass('hitless saw dryRun: true and denied')
})

t.test('a missing preStop is injected in the form v1.20 accepts (exec), with a warning', async (t) => {
  const result = cluster.kubectl(['apply', '-f', '-'], deployment('probed', 'shop', probed))
  t.equal(result.status, 0, result.stderr)
  t.match(result.stderr, /Warning: hitless \[pre-stop\]: added a 5s preStop sleep to container "web"/)
  const spec = stored('deployment', 'shop', 'probed').spec.template.spec
  t.same(spec.containers[0].lifecycle, { preStop: { exec: { command: ['sleep', '5'] } } })
  t.equal(spec.terminationGracePeriodSeconds, 30, 'the default grace period already covers 5 + 10 s')
})

t.test('a long preStop sleep gets a grace period that covers it', async (t) => {
  const long = '{name: web, image: nginx, ports: [{containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}, lifecycle: {preStop: {exec: {command: [sh, -c, "sleep 45"]}}}}'
  const result = cluster.kubectl(['apply', '-f', '-'], deployment('slow', 'shop', long))
  t.equal(result.status, 0, result.stderr)
  t.match(result.stderr, /raised terminationGracePeriodSeconds from 30 to 55/)
  t.equal(stored('deployment', 'shop', 'slow').spec.template.spec.terminationGracePeriodSeconds, 55)
})

t.test('a fixed object passes untouched', async (t) => {
  const result = cluster.kubectl(['apply', '-f', '-'], deployment('good', 'shop', complete))
  t.equal(result.status, 0, result.stderr)
  t.notMatch(result.stderr, /Warning/)
  t.same(stored('deployment', 'shop', 'good').spec.template.spec.containers[0].lifecycle, { preStop: { exec: { command: ['sleep', '5'] } } })
})

t.test('an exempted object is allowed with a Warning:', async (t) => {
  const result = cluster.kubectl(['apply', '-f', '-'], deployment('old', 'legacy', bare))
  t.equal(result.status, 0, result.stderr)
  t.match(result.stderr, /Warning: hitless \[readiness-probe\]: exempted for container "web" by its namespace until/)
  t.notOk(stored('deployment', 'legacy', 'old').spec.template.spec.containers[0].lifecycle, 'an exempted fix is not applied')
})

t.test('a namespace in audit mode gets [audit] warnings and no patch', async (t) => {
  const result = cluster.kubectl(['apply', '-f', '-'], deployment('trial', 'staging', bare))
  t.equal(result.status, 0, result.stderr)
  t.match(result.stderr, /Warning: \[audit\] hitless \[readiness-probe\]: would deny/)
  t.match(result.stderr, /Warning: \[audit\] hitless \[pre-stop\]: would patch/)
  t.notOk(stored('deployment', 'staging', 'trial').spec.template.spec.containers[0].lifecycle)
})

t.test('Services: created before their pods warn; a relabel that orphans one is denied', async (t) => {
  const early = cluster.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n')
  t.equal(early.status, 0, early.stderr)
  t.match(early.stderr, /Warning: hitless \[service-selector\]: Service shop\/api selects no pods/)

  // The Deployment's own selector (app) stays valid; the Service selects the tier label a rollout changes.
  const tiered = (tier: string, extra = '') => deployment('tiered', 'shop', complete).replace('metadata: {labels: {app: tiered}}', `metadata: {labels: {app: tiered, tier: ${tier}${extra}}}`)
  t.equal(cluster.kubectl(['apply', '-f', '-'], tiered('web')).status, 0)
  t.equal(cluster.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: front, namespace: shop}\nspec: {selector: {tier: web}, ports: [{port: 80, targetPort: http}]}\n').status, 0)
  await waitFor('the Service and Deployment in the cache', async () => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], tiered('api')).status !== 0)
  const relabel = cluster.kubectl(['apply', '-f', '-'], tiered('api'))
  t.not(relabel.status, 0)
  t.match(relabel.stderr, /\[service-selector\] this change would leave Service shop\/front with no endpoints: its selector tier=web no longer matches the pod labels \(tier=api\)/)
  t.equal(stored('deployment', 'shop', 'tiered').spec.template.metadata.labels.tier, 'web', 'the stored Deployment is unchanged')
  const added = cluster.kubectl(['apply', '-f', '-'], tiered('web', ', version: v2'))
  t.equal(added.status, 0, `adding a label keeps the Service selected: ${added.stderr}`)

  const typo = cluster.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: front, namespace: shop}\nspec: {selector: {tier: wbe}, ports: [{port: 80, targetPort: http}]}\n')
  t.not(typo.status, 0, 'a Service UPDATE whose new selector matches nothing is denied')
  t.match(typo.stderr, /this change would leave Service shop\/front with no endpoints: selector tier=wbe matches nothing \(tier=web matched Deployment tiered\)/)
})

t.test('a controller-owned Pod is never blocked', async (t) => {
  const pod = `apiVersion: v1
kind: Pod
metadata:
  name: owned
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: 6b8d7c2e-0000-4000-8000-000000000001, controller: true}]
spec: {containers: [${bare}]}
`
  const result = cluster.kubectl(['apply', '-f', '-'], pod)
  t.equal(result.status, 0, result.stderr)
})

t.test("kube-system and hitless's own namespace are never sent to hitless", async (t) => {
  for (const ns of ['kube-system', 'hitless-system']) {
    const result = cluster.kubectl(['apply', '-f', '-'], deployment('bare', ns, bare))
    t.equal(result.status, 0, `${ns}: ${result.stderr}`)
  }
  await new Promise((resolve) => setTimeout(resolve, 500)) // let hitless's log lines arrive
  t.notOk(cluster.decisions().some((d) => d.namespace === 'kube-system' || d.namespace === 'hitless-system'), 'no review from those namespaces')
  t.ok(cluster.decisions().some((d) => d.namespace === 'shop'), 'while reviews from other namespaces are logged')
})

t.test('hitless audit --cluster reads the live objects', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const bin = new URL('../../bin/hitless.js', import.meta.url).pathname
  const audit = spawnSync(process.execPath, [bin, 'audit', '--cluster', '--kubeconfig', cluster.kubeconfig, '--namespace', 'staging', '--format', 'json'], { encoding: 'utf8' })
  t.equal(audit.status, 0, `audit mode namespace: nothing at deny level (${audit.stderr})`)
  const findings = JSON.parse(audit.stdout).findings
  t.same(findings.map((f: any) => `${f.kind}/${f.name} ${f.rule} ${f.outcome}`).sort(), [
    'Deployment/trial pre-stop would-patch',
    'Deployment/trial readiness-probe would-deny',
  ], 'the namespace label hitless.dev/mode=audit applies to the audit too')
})

t.test('the cache survives an API server restart, and /readyz says so meanwhile', async (t) => {
  const ready = JSON.parse((await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)).body)
  t.ok(ready.ready && ready.detail.cache.every((k: { synced: boolean }) => k.synced), 'synced')
  await cluster.stopApiserver()
  await waitFor('hitless to notice', async () => JSON.parse((await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)).body).reasons.length > 0, 30_000)
  const meanwhile = JSON.parse((await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)).body)
  t.match(meanwhile.reasons.join(' '), /watch/, `readiness explains: ${meanwhile.reasons.join('; ')}`)
  await cluster.startApiserver()
  await waitFor('hitless to recover', async () => JSON.parse((await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)).body).reasons.length === 0, 60_000)
  cluster.kubectl(['apply', '-f', '-'], deployment('late', 'shop', complete))
  await waitFor('a workload created after the restart to reach the cache', async () => {
    const service = cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: late, namespace: shop}\nspec: {selector: {app: late}, ports: [{port: 80}]}\n')
    return service.status === 0 && !service.stderr.includes('selects no pods')
  })
  t.pass('watches resumed after the restart')
})
