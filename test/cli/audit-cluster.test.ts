// `hitless audit --cluster` against a fake API server speaking list (split from audit.test.ts, so each
// file spawns half the commands and the two run side by side).
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../helpers/cli.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'

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
