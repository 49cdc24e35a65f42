import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCli } from '../helpers/cli.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'
import { FIXTURES } from '../helpers/objects.ts'

const dir = fileURLToPath(new URL('audit/', FIXTURES))
const clean = `${dir}helm`
const good = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ok}
spec: {template: {metadata: {labels: {app: ok}}, spec: {containers: [{name: ok, image: ok, ports: [{containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}}]}}}
`

t.test('exit codes follow --fail-on', async (t) => {
  t.equal((await runCli(['audit', clean])).code, 0, 'clean: 0')
  t.equal((await runCli(['audit', `${dir}dir`])).code, 1, 'deny findings: 1')
  t.equal((await runCli(['audit', `${dir}dir`, '--fail-on', 'never'])).code, 0)
  t.equal((await runCli(['audit', '-', '--fail-on', 'warn'], { stdin: good })).code, 1, 'a would-be patch is a warning')
  t.equal((await runCli(['audit', '-'], { stdin: good })).code, 0, 'and passes at the default --fail-on deny')
  const broken = await runCli(['audit', `${dir}broken.yaml`, '--format', 'json'])
  t.equal(broken.code, 2, 'unparseable input: 2')
  t.equal(JSON.parse(broken.stdout).findings.length, 2, 'the rest is still audited and reported')
})

t.test('usage errors exit 2', async (t) => {
  t.match(await runCli(['audit', '--format', 'xml', clean]), { code: 2, stderr: /--format must be one of/ })
  t.match(await runCli(['audit', '--fail-on', 'info', clean]), { code: 2, stderr: /--fail-on must be deny, warn or never/ })
  t.match(await runCli(['audit', '--cluster', clean]), { code: 2, stderr: /give no paths/ })
  t.match(await runCli(['audit', '--all-namespaces', clean]), { code: 2, stderr: /--all-namespaces goes with --cluster/ })
})

t.test('--cluster audits live objects through the API', async (t) => {
  const fake = new FakeApiServer()
  fake.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } },
    { kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'w', ports: [{ containerPort: 80 }] }] } } } },
    { kind: 'Deployment', metadata: { name: 'x', namespace: 'other' }, spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'x', ports: [{ containerPort: 80 }] }] } } } },
    { kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } },
  ])
  await fake.start()
  t.teardown(() => fake.stop())
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-audit-')), 'config'))
  const all = await runCli(['audit', '--cluster', '--kubeconfig', kubeconfig, '--format', 'json'])
  t.equal(all.code, 1)
  const findings = JSON.parse(all.stdout).findings
  t.same(findings.map((f: any) => `${f.namespace}/${f.name} ${f.rule}`).sort(), [
    'other/x pre-stop',
    'other/x readiness-probe',
    'shop/web pre-stop',
    'shop/web readiness-probe',
    'shop/web service-target-port',
  ])
  t.notOk(findings.some((f: any) => 'file' in f), 'live objects have no file')
  t.match(findings.find((f: any) => f.rule === 'pre-stop').fix, /exec:\n\s+command:/, 'pre-stop follows the live version (1.28: exec)')
  const one = await runCli(['audit', '--cluster', '--kubeconfig', kubeconfig, '--namespace', 'other', '--format', 'json'])
  t.same(JSON.parse(one.stdout).findings.map((f: any) => f.namespace), ['other', 'other'])
  t.ok(fake.requests.some((r) => r.path === '/apis/apps/v1/namespaces/other/deployments'), 'lists only that namespace')
  t.notOk(fake.requests.some((r) => r.path.endsWith('/namespaces/other/nodes')), 'Nodes are cluster-scoped: no namespaced path (a real server answers it with 404)')
})

t.test('--cluster lists exemptions past their exempt-until, which admission policies still honour', async (t) => {
  const fake = new FakeApiServer()
  const exempt = (until: string) => ({ 'hitless.dev/exempt': 'readiness-probe', 'hitless.dev/exempt-reason': 'vendor image', 'hitless.dev/exempt-until': until })
  const container = { name: 'web', image: 'w', ports: [{ containerPort: 80 }], lifecycle: { preStop: { sleep: { seconds: 5 } } } }
  fake.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { kind: 'Deployment', metadata: { name: 'old', namespace: 'shop', annotations: exempt('2020-01-31') }, spec: { template: { metadata: { labels: { app: 'old' } }, spec: { containers: [container] } } } },
    { kind: 'Deployment', metadata: { name: 'new', namespace: 'shop', annotations: exempt('2999-01-31') }, spec: { template: { metadata: { labels: { app: 'new' } }, spec: { containers: [container] } } } },
  ])
  await fake.start()
  t.teardown(() => fake.stop())
  const kubeconfig = await fake.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'hitless-audit-')), 'config'))
  const json = await runCli(['audit', '--cluster', '--kubeconfig', kubeconfig, '--format', 'json'])
  t.equal(json.code, 1)
  const report = JSON.parse(json.stdout)
  t.ok(report.findings.some((f: any) => `${f.name} ${f.rule}` === 'old readiness-probe'), 'the webhook would deny it')
  t.same(report.summary.notices.map((n: any) => n.message), ['Deployment shop/old: hitless.dev/exempt: "readiness-probe" expired on 2020-01-31: the webhook no longer honours it, admission policies (hitless export-policies, which have no clock) still do; remove it or renew it'])
  const table = await runCli(['audit', '--cluster', '--kubeconfig', kubeconfig])
  t.match(table.stdout, /notice live: Deployment shop\/old: hitless\.dev\/exempt: "readiness-probe" expired on 2020-01-31/)
})
