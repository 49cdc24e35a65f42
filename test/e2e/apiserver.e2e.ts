// hitless called by a real kube-apiserver (v1.20, built from Debian's source): TLS with a caBundle, the
// AdmissionReviews it really sends, how it applies our JSON Patch, dryRun, namespaceSelector, the
// Warning: lines kubectl prints; and the cluster cache against it, across an API server restart.
// Run by test/e2e/apiserver.sh (npm run test:e2e), which builds the API server and passes its path.
import t from 'tap'
import { httpsGet, postReview, TestCluster, waitFor } from './cluster.ts'

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

for (const [mode, args] of [['client-side', []], ['server-side', ['--server-side']]] as const) {
  t.test(`${mode} apply: an owner's preStop hook added after hitless injected one replaces it`, async (t) => {
    // v1.20: hitless injects exec sleep. The owner then adds an httpGet hook; apply keeps the injected
    // exec (it is not in the manifest), which the API server alone would refuse (one handler type).
    const name = `hooked-${mode}`
    const first = cluster.kubectl(['apply', ...args, '-f', '-'], deployment(name, 'shop', probed))
    t.equal(first.status, 0, first.stderr)
    t.same(stored('deployment', 'shop', name).spec.template.spec.containers[0].lifecycle, { preStop: { exec: { command: ['sleep', '5'] } } })
    const owned = '{name: web, image: nginx, ports: [{name: http, containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}, lifecycle: {preStop: {httpGet: {path: /drain, port: 80}}}}'
    const second = cluster.kubectl(['apply', ...args, '-f', '-'], deployment(name, 'shop', owned))
    t.equal(second.status, 0, second.stderr)
    t.match(second.stderr, /removed the injected preStop exec of container "web": its own httpGet hook replaces it/)
    t.same(stored('deployment', 'shop', name).spec.template.spec.containers[0].lifecycle, { preStop: { httpGet: { path: '/drain', port: 80, scheme: 'HTTP' } } }, 'only the owner’s hook is stored')
    const again = cluster.kubectl(['apply', ...args, '-f', '-'], deployment(name, 'shop', owned))
    t.equal(again.status, 0, again.stderr)
    t.notMatch(again.stderr, /Warning/, 'applying it again changes nothing')
  })
}

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

t.test('a quiet period: hitless stays ready, watches never break, and a relabel that orphans a Service is still denied', async (t) => {
  // Issue: client-node's Watch cut every stream that was silent for 30 s; the API server sends
  // bookmarks about once a minute, so a quiet cluster read "cluster state unavailable" half the time.
  const samples: number[] = []
  const reasons = new Set<string>()
  const end = Date.now() + 95_000
  while (Date.now() < end) {
    const { status, body } = await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)
    samples.push(status)
    for (const reason of body ? JSON.parse(body).reasons : []) reasons.add(reason)
    await new Promise((r) => setTimeout(r, 1000))
  }
  t.ok(samples.length >= 80, `${samples.length} samples over 95 s`)
  t.same([...new Set(samples)], [200], '/readyz never went unready')
  t.same([...reasons], [], 'and never gave a reason')
  const metrics = (await httpsGet(`${cluster.hitlessUrl}/metrics`, cluster.ca)).body
  t.notMatch(metrics, /hitless_cluster_watch_restarts_total\{kind="[^"]+",cause="error"\} [1-9]/, 'no watch broke')
  t.notMatch(metrics, /hitless_cluster_relists_total\{kind="[^"]+"\} [1-9]/, 'no re-list')
  t.match(metrics, /hitless_apiserver_reachable 1/)
  t.match(metrics, /^hitless_log_lines_dropped_total 0$/m, 'hitless serve counts dropped log lines: none')
  const tiered = deployment('tiered', 'shop', complete).replace('metadata: {labels: {app: tiered}}', 'metadata: {labels: {app: tiered, tier: api, version: v2}}')
  const relabel = cluster.kubectl(['apply', '-f', '-'], tiered)
  t.not(relabel.status, 0, 'denied after the quiet period')
  t.match(relabel.stderr, /this change would leave Service shop\/front with no endpoints/)
})

t.test('hitless reads the real server version, without holding up start-up', async (t) => {
  t.match(cluster.logs.hitless.join(''), /"version":"v1\.20\.2".*"msg":"API server version"/)
  const ready = JSON.parse((await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)).body)
  t.equal(ready.detail.apiserver.version, 'v1.20.2')
})

t.test('a controller-owned Pod is never blocked; an ownerReference anyone else writes does not skip the rules', async (t) => {
  const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: 6b8d7c2e-0000-4000-8000-000000000001, controller: true}]
spec: {containers: [${bare}]}
`
  // The ReplicaSet controller's own account, by impersonation (the API server's bootstrap RBAC binds it;
  // its role may create pods but not get them, so create rather than apply).
  const byController = cluster.kubectl(['create', '--as', 'system:serviceaccount:kube-system:replicaset-controller', '-f', '-'], pod('owned'))
  t.equal(byController.status, 0, byController.stderr)
  // Any other service account (a GitOps tool's, a CI pipeline's) is judged.
  const account = 'system:serviceaccount:shop:replicator'
  // (The aggregated `edit` role is empty without kube-controller-manager: grant pods explicitly.)
  t.equal(cluster.kubectl(['create', 'role', 'pod-writer', '-n', 'shop', '--verb=get,list,create,update,patch', '--resource=pods']).status, 0)
  t.equal(cluster.kubectl(['create', 'rolebinding', 'replicator-pods', '-n', 'shop', '--role', 'pod-writer', `--serviceaccount=shop:replicator`]).status, 0)
  const byPipeline = cluster.kubectl(['apply', '--as', account, '-f', '-'], pod('by-pipeline'))
  t.not(byPipeline.status, 0, 'a service account outside kube-system claiming a ReplicaSet owner is judged')
  t.match(byPipeline.stderr, /\[readiness-probe\] container "web" has no readinessProbe/)
  const byPerson = cluster.kubectl(['apply', '-f', '-'], pod('claimed'))
  t.not(byPerson.status, 0, 'the admin claiming a ReplicaSet owner is judged like anyone')
  t.match(byPerson.stderr, /\[readiness-probe\] container "web" has no readinessProbe/)
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

// What the API server would send for the relabel of Service front's pods: with a usable cache it is
// denied; while cluster state is unusable it must be "cannot check", never a verdict from stale state.
const relabelReview = () => {
  const object = JSON.parse(cluster.kubectl(['get', 'deployment', 'tiered', '-n', 'shop', '-o', 'json']).stdout)
  const updated = structuredClone(object)
  updated.spec.template.metadata.labels.tier = 'api'
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'e2e-relabel', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' }, namespace: 'shop', name: 'tiered', operation: 'UPDATE', userInfo: { username: 'e2e' }, object: updated, oldObject: object, dryRun: false },
  }
}
const readyz = async () => {
  const { status, body } = await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)
  return { status, ...(body ? JSON.parse(body) : {}) }
}

t.test('a frozen API server (half-open connections): unusable within seconds, no verdict from stale state, then back', async (t) => {
  const review = relabelReview()
  const before = await postReview(`${cluster.hitlessUrl}/validate`, cluster.ca, review)
  t.equal(before.body.response.allowed, false, 'denied while the cache is usable')
  cluster.pauseApiserver()
  t.teardown(() => cluster.resumeApiserver())
  const frozenAt = Date.now()
  await waitFor('hitless to notice the silence', async () => (await readyz()).status === 503, 15_000)
  const noticed = Date.now() - frozenAt
  t.ok(noticed < 8000, `not ready after ${noticed} ms`)
  t.match((await readyz()).reasons.join(' '), /API server not answering/)
  const during = await postReview(`${cluster.hitlessUrl}/validate`, cluster.ca, review)
  t.equal(during.body.response.allowed, true, 'onClusterUnavailable: warn admits')
  t.match(during.body.response.warnings.join(' '), /cannot check service-selector: cluster state unavailable \(API server not answering/, 'and says it could not check')
  cluster.resumeApiserver()
  await waitFor('hitless to recover', async () => (await readyz()).status === 200, 60_000)
  const after = await postReview(`${cluster.hitlessUrl}/validate`, cluster.ca, review)
  t.equal(after.body.response.allowed, false, 'denied again once the watches resumed')
})

t.test('the cache survives an API server restart: readiness flips and recovers, no false verdict', async (t) => {
  const ready = await readyz()
  t.ok(ready.status === 200 && ready.detail.cache.every((k: { synced: boolean }) => k.synced), 'synced')
  const review = relabelReview()
  await cluster.stopApiserver()
  await waitFor('hitless to notice', async () => (await readyz()).status === 503, 30_000)
  const meanwhile = await readyz()
  t.match(meanwhile.reasons.join(' '), /API server not answering|watch/, `readiness explains: ${meanwhile.reasons.join('; ')}`)
  const during = await postReview(`${cluster.hitlessUrl}/validate`, cluster.ca, review)
  t.match(during.body.response.warnings?.join(' ') ?? '', /cannot check service-selector/, 'no verdict from a cache that cannot be trusted')
  await cluster.startApiserver()
  await waitFor('hitless to recover', async () => {
    const state = await readyz()
    return state.status === 200 && state.reasons.length === 0
  }, 60_000)
  cluster.kubectl(['apply', '-f', '-'], deployment('late', 'shop', complete))
  await waitFor('a workload created after the restart to reach the cache', async () => {
    const service = cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: late, namespace: shop}\nspec: {selector: {app: late}, ports: [{port: 80}]}\n')
    return service.status === 0 && !service.stderr.includes('selects no pods')
  })
  const after = await postReview(`${cluster.hitlessUrl}/validate`, cluster.ca, review)
  t.equal(after.body.response.allowed, false, 'the relabel is denied again')
})

t.test('with approvers set, an exemption written while they were not is not honoured: dropping the readinessProbe is denied', async (t) => {
  const { mkdtemp, writeFile } = await import('node:fs/promises')
  const { randomBytes } = await import('node:crypto')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const until = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10)
  const exemption = `, annotations: {hitless.dev/exempt: readiness-probe, hitless.dev/exempt-reason: vendor image, hitless.dev/exempt-until: "${until}"}`
  // Planted before approvers were configured (the same holds for one written while hitless was not asked).
  const planted = cluster.kubectl(['apply', '-f', '-'], deployment('planted', 'shop', complete, exemption))
  t.equal(planted.status, 0, planted.stderr)
  const dir = await mkdtemp(join(tmpdir(), 'hitless-approvers-'))
  await writeFile(join(dir, 'config.yaml'), 'exemptions: {approvers: {users: [carol], groups: []}}\n')
  await writeFile(join(dir, 'key'), randomBytes(32))
  const replica = await cluster.startReplica(['--config', join(dir, 'config.yaml'), '--approval-key', join(dir, 'key')])
  t.equal(cluster.kubectl(['apply', '-f', '-'], webhooks.replaceAll(cluster.hitlessUrl, replica.url)).status, 0, 'the webhooks now call the replica with approvers')
  const violating = deployment('planted', 'shop', '{name: web, image: nginx, ports: [{name: http, containerPort: 80}], lifecycle: {preStop: {exec: {command: [sleep, "5"]}}}}', exemption)
  await waitFor('the API server to call the replica', async () => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], violating).stderr.includes('no approval record'))
  const result = cluster.kubectl(['apply', '-f', '-'], violating)
  t.not(result.status, 0, 'denied')
  t.match(result.stderr, /\[readiness-probe\] container "web" has no readinessProbe \(exemption not honoured: no approval record \(hitless\.dev\/exempt-approval\): an exemption approver \(user carol\) approves it/)
  t.ok(stored('deployment', 'shop', 'planted').spec.template.spec.containers[0].readinessProbe, 'the stored Deployment keeps its probe')
  t.equal(cluster.kubectl(['apply', '-f', '-'], webhooks).status, 0, 'the webhooks call the main hitless again')
})
