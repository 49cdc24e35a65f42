// Bad input at the install edge against a real kube-apiserver (v1.20, built from Debian's source), each
// judged by hitless and by the API server itself:
// - hitless's ServiceAccount with the shipped ClusterRole minus `list` on the apps kinds: /readyz names
//   the verb, the resources and the ClusterRole, the log says it once per kind; the shipped role
//   (webhook configurations by resourceNames, through a metadata.name fieldSelector) is enough;
// - a webhook configuration whose caBundle does not match: /readyz says which webhook and the fix, and
//   the API server refuses the calls (x509) until the caBundle is patched; then both agree again;
// - a webhook that calls a name the certificate does not carry: /readyz says so, the API server too.
// Run by test/e2e/apiserver.sh (npm run test:e2e).
import { execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dump, loadAll } from 'js-yaml'
import t from 'tap'
import { derivedWebhooks, freePort, httpsGet, openssl, start, stopProcess, TestCluster, waitFor } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const BIN = fileURLToPath(new URL('../../bin/hitless.js', import.meta.url))
const MANIFESTS = fileURLToPath(new URL('../../manifests/base', import.meta.url))
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()
const d = cluster.dir

const readyz = async (url: string) => {
  const { status, body } = await httpsGet(`${url}/readyz`, cluster.ca)
  return { status, state: body ? JSON.parse(body) : { reasons: [] } }
}
const lines = (logs: string[]) =>
  logs
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>)
const apply = (objects: unknown[]) => {
  const result = cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }))
  if (result.status !== 0) throw new Error(`kubectl apply: ${result.stderr}`)
}
/** The shipped-style webhook configuration for the test's hitless, named `name`, for namespace `namespace` only. */
const onlyFor = (webhook: string, name: string, namespace: string) => {
  // v1.20 does not label namespaces with their name yet: label this one as later versions do.
  cluster.kubectl(['create', 'namespace', namespace])
  cluster.kubectl(['label', 'namespace', namespace, `kubernetes.io/metadata.name=${namespace}`, '--overwrite'])
  return webhook
    .replace('metadata: {name: hitless}', `metadata: {name: ${name}}`)
    .replace('matchExpressions: [{key: hitless.dev/ignore, operator: DoesNotExist}]', `matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [${namespace}]}]`)
}
const bare = (namespace: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
`

t.test("RBAC missing `list` on a watched kind: named in /readyz with the ClusterRole, once in the log; the shipped role suffices", async (t) => {
  // The shipped ServiceAccount, ClusterRole and binding, as kubectl kustomize builds them.
  const base = loadAll(execFileSync('kubectl', ['kustomize', MANIFESTS], { encoding: 'utf8' })) as { kind: string; rules?: { apiGroups: string[]; verbs: string[] }[] }[]
  const rbac = base.filter((o) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
  const role = rbac.find((o) => o.kind === 'ClusterRole')!
  const withoutList = { ...role, rules: role.rules!.map((r) => (r.apiGroups[0] === 'apps' ? { ...r, verbs: r.verbs.filter((v) => v !== 'list') } : r)) }
  apply(rbac.map((o) => (o === role ? withoutList : o)))
  // A token for hitless's ServiceAccount (TokenRequest): hitless runs as it would in its pod.
  const token = cluster.kubectl(['create', 'token', 'hitless', '-n', 'hitless-system', '--duration', '1h'])
  t.equal(token.status, 0, token.stderr)
  const kubeconfig = join(d, 'hitless-sa.kubeconfig')
  await writeFile(kubeconfig, dump({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
    clusters: [{ name: 'e2e', cluster: { server: cluster.apiserverUrl, 'certificate-authority': join(d, 'ca.crt') } }],
    users: [{ name: 'sa', user: { token: token.stdout.trim() } }],
    contexts: [{ name: 'sa', context: { cluster: 'e2e', user: 'sa' } }],
  }))
  const port = await freePort()
  const url = `https://127.0.0.1:${port}`
  const logs: string[] = []
  const child = start(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--probe-port', '0', '--tls-cert', join(d, 'hitless.crt'), '--tls-key', join(d, 'hitless.key'), '--kubeconfig', kubeconfig, '--cluster', 'on', '--shutdown-delay', '0'], logs, { POD_NAMESPACE: 'hitless-system' })
  t.teardown(() => stopProcess(child))

  const appsKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']
  const failures = (state: any, kind: string) => (state.detail?.cache ?? []).find((k: { kind: string }) => k.kind === kind)?.failures ?? 0
  await waitFor('the apps lists refused three times each', async () => {
    const { state } = await readyz(url)
    return appsKinds.every((kind) => failures(state, kind) >= 3)
  }, 120_000)
  const { status, state } = await readyz(url)
  t.equal(status, 503, 'not ready: the cache cannot list what the rules read (decision 0011)')
  for (const [kind, resource] of [['Deployment', 'deployments'], ['DaemonSet', 'daemonsets']]) {
    const reason = state.reasons.find((r: string) => r.startsWith(`RBAC: hitless may not list ${resource}.apps`))
    t.match(reason, `User "system:serviceaccount:hitless-system:hitless" cannot list resource "${resource}" in API group "apps" at the cluster scope`, `${kind}: the API server's own words`)
    t.match(reason, `fix: add verb "list" on resource "${resource}" in apiGroup "apps" to ClusterRole hitless-reader`, `${kind}: the fix`)
  }
  const refused = lines(logs).filter((l) => l['msg'] === 'cluster cache refused by RBAC; retrying')
  t.same(refused.map((l) => l['kind']).sort(), [...appsKinds].sort(), 'one line per kind, not one per retry')
  t.notOk(lines(logs).some((l) => /may not (list|watch) (namespaces|services|pods|nodes|.*webhookconfigurations)/.test(String(l['err']))), 'nothing else refused')
  const webhookKinds = state.detail.install.webhookConfigurations.kinds as { synced: boolean; forbidden?: boolean }[]
  t.ok(webhookKinds.length === 2 && webhookKinds.every((k) => k.synced && !k.forbidden), 'its webhook configurations read through resourceNames')

  apply([role])
  await waitFor('ready once the shipped ClusterRole is back', async () => (await readyz(url)).status === 200, 120_000)
  t.equal(lines(logs).filter((l) => l['msg'] === 'cluster cache: RBAC allows it now').length, appsKinds.length)
})

t.test('a caBundle that does not match: /readyz names the webhook and the fix; the API server refuses the calls too', async (t) => {
  openssl(d, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=another CA', '-keyout', 'other-ca.key', '-out', 'other-ca.crt')
  const other = Buffer.from(await readFile(join(d, 'other-ca.crt'))).toString('base64')
  const right = Buffer.from(cluster.ca).toString('base64')
  // The webhook configuration named as the shipped one, calling the test's hitless, with another CA.
  const applied = cluster.kubectl(['apply', '-f', '-'], onlyFor(derivedWebhooks(cluster, ['validating']), 'hitless', 'edge').replace(right, other))
  t.equal(applied.status, 0, applied.stderr)
  t.teardown(() => void cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'hitless', '--ignore-not-found']))

  await waitFor('hitless sees the mismatch', async () => (await readyz(cluster.hitlessUrl)).status === 503)
  const { state } = await readyz(cluster.hitlessUrl)
  t.match(state.reasons, [/^ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev: its caBundle \(CN=another CA\) does not verify the serving certificate \(issued by CN=e2e CA\); fix: put the CA that issued the serving certificate into caBundle: certs-script\/generate.sh --apply/])
  t.equal(lines(cluster.logs.hitless).filter((l) => l['check'] === 'ca-bundle' && l['level'] === 50).length, 1, 'logged once')
  const refused = cluster.kubectl(['apply', '-f', '-'], bare('edge'))
  t.not(refused.status, 0)
  t.match(refused.stderr, /failed calling webhook "validate.hitless.dev".*x509: certificate signed by unknown authority/, 'the API server agrees')

  const patched = cluster.kubectl(['patch', 'validatingwebhookconfiguration', 'hitless', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: right }])])
  t.equal(patched.status, 0, patched.stderr)
  await waitFor('ready once the caBundle is patched', async () => (await readyz(cluster.hitlessUrl)).status === 200)
  const judged = cluster.kubectl(['apply', '-f', '-'], bare('edge'))
  t.match(judged.stderr, /admission webhook "validate.hitless.dev" denied the request: hitless: Deployment edge\/web/, 'the API server reaches hitless: a verdict, not a TLS error')
  const fixed = () => lines(cluster.logs.hitless).some((l) => l['msg'] === 'install check passes now')
  await waitFor('the fix in the log', async () => fixed(), 30_000).catch(() => {})
  t.ok(fixed(), 'the fix is logged', { logs: lines(cluster.logs.hitless).filter((l) => l['check'] || l['resolved'] || /Webhook/.test(String(l['kind']))) })
})

t.test('a webhook calling a name the certificate does not carry: /readyz says so, and so does the API server', async (t) => {
  // A certificate with 127.0.0.1 only (and localhost as its CN); the webhook calls https://localhost.
  openssl(d, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', 'ip-only.key', '-out', 'ip-only.csr')
  await writeFile(join(d, 'ip-only.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  openssl(d, 'x509', '-req', '-in', 'ip-only.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ip-only.ext', '-out', 'ip-only.crt')
  const replica = await cluster.startReplica(['--tls-cert', join(d, 'ip-only.crt'), '--tls-key', join(d, 'ip-only.key'), '--webhook-configuration', 'edge-name'])
  const port = new URL(replica.url).port
  const webhook = onlyFor(derivedWebhooks(cluster, ['validating']), 'edge-name', 'edge-name').replace(`${cluster.hitlessUrl}/validate`, `https://localhost:${port}/validate`)
  const applied = cluster.kubectl(['apply', '-f', '-'], webhook)
  t.equal(applied.status, 0, applied.stderr)
  t.teardown(() => void cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'edge-name', '--ignore-not-found']))

  await waitFor('the replica sees the name', async () => (await readyz(replica.url)).status === 503)
  const { state } = await readyz(replica.url)
  t.match(state.reasons, [/^ValidatingWebhookConfiguration edge-name, webhook validate.hitless.dev calls localhost, which the serving certificate has only as its CN; the API server reads only subjectAltName \(names: IP Address:127.0.0.1\); fix: issue the certificate for localhost: certs-script\/generate.sh --dns localhost/])
  const refused = cluster.kubectl(['apply', '-f', '-'], bare('edge-name'))
  t.not(refused.status, 0)
  t.match(refused.stderr, /failed calling webhook "validate.hitless.dev".*x509: certificate (is not valid for any names, but wanted to match localhost|is valid for 127.0.0.1, not localhost|relies on legacy Common Name field)/, 'the API server agrees')
})
