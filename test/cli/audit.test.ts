// `hitless audit` over files and stdin: exit codes and usage errors (the --cluster cases are in
// audit-cluster.test.ts: each command is a Node process, and two files run side by side).
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCli } from '../helpers/cli.ts'
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
