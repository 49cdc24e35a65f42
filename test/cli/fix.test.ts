import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { runCli } from '../helpers/cli.ts'

const original = `# Our web tier. Keep this comment.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the name
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10 # too short
      containers:
        - name: web
          image: nginx   # pinned later
          ports: [{containerPort: 80}]
          readinessProbe: {tcpSocket: {port: 80}}
        - {name: side, image: envoy, ports: [{containerPort: 9901}], readinessProbe: {tcpSocket: {port: 9901}}}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: debug}
    spec:
      containers:
        - name: sh
          image: busybox
          ports: [{containerPort: 8000}]
          readinessProbe: {exec: {command: ["true"]}}
          lifecycle:
            postStart: {exec: {command: ["true"]}}
`

t.test('prints a diff, writes with --write, keeps untouched lines, and is idempotent', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-fix-'))
  const file = join(dir, 'app.yaml')
  await writeFile(file, original)
  const diff = await runCli(['fix', file], { cwd: dir })
  t.equal(diff.code, 0)
  t.match(diff.stdout, /^-{3} a\/app\.yaml/m)
  t.match(diff.stdout, /^-      terminationGracePeriodSeconds: 10 # too short\n\+      terminationGracePeriodSeconds: 15 # too short$/m)
  t.match(diff.stderr, /1 file would change/)
  t.equal(await readFile(file, 'utf8'), original, 'without --write nothing changes')

  const write = await runCli(['fix', '--write', file], { cwd: dir })
  t.equal(write.code, 0)
  const fixed = await readFile(file, 'utf8')
  const removed = original.split('\n').filter((line) => !fixed.split('\n').includes(line))
  t.same(removed, ['      terminationGracePeriodSeconds: 10 # too short', '        - {name: side, image: envoy, ports: [{containerPort: 9901}], readinessProbe: {tcpSocket: {port: 9901}}}'], 'only the changed lines differ')
  t.match(fixed, '# Our web tier. Keep this comment.\n')
  t.match(fixed, "    name: web   # the name\n".slice(2))
  const [deployment, list] = fixed.split('\n---\n').map((doc) => parse(doc))
  const containers = deployment.spec.template.spec.containers
  t.same(containers.map((c: any) => c.lifecycle), [{ preStop: { sleep: { seconds: 5 } } }, { preStop: { sleep: { seconds: 5 } } }])
  t.same(list.items[0].spec.containers[0].lifecycle, { postStart: { exec: { command: ['true'] } }, preStop: { sleep: { seconds: 5 } } }, 'List items too, beside an existing postStart')

  const again = await runCli(['fix', '--write', file], { cwd: dir })
  t.match(again.stderr, /0 files changed/)
  t.equal(await readFile(file, 'utf8'), fixed, 'a second run changes nothing')
  t.equal((await runCli(['audit', file, '--fail-on', 'warn'])).code, 0, 'and the audit is clean')
})

t.test('fix needs files', async (t) => {
  t.match(await runCli(['fix']), { code: 2, stderr: /missing required argument 'paths'/ })
  t.match(await runCli(['fix', '-']), { code: 2, stderr: /fix works on files/ })
})
