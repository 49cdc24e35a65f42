import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { FIXTURES } from '../helpers/objects.ts'
import { runCli } from '../helpers/cli.ts'

const fixture = fileURLToPath(new URL('admission/apiserver-v1.28-create-deployment.json', FIXTURES))

t.test('prints what /validate would answer, and exits 1 on a deny', async (t) => {
  const result = await runCli(['review', fixture])
  t.equal(result.code, 1, 'denied: exit 1')
  const review = JSON.parse(result.stdout)
  t.match(review, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { allowed: false, status: { code: 403 } } })
  t.match(review.response.status.message, /\[readiness-probe\] container "web"/)
})

t.test('--mutate reads stdin and prints what /mutate would answer', async (t) => {
  const result = await runCli(['review', '--mutate', '-'], { stdin: readFileSync(fixture, 'utf8') })
  t.equal(result.code, 0)
  t.match(JSON.parse(result.stdout).response, { allowed: true, patchType: 'JSONPatch' })
})

t.test('--config changes the verdict', async (t) => {
  const config = fileURLToPath(new URL('config/warn-only.yaml', FIXTURES))
  const result = await runCli(['review', '--config', config, fixture])
  t.equal(result.code, 0, 'allowed: exit 0')
  t.match(JSON.parse(result.stdout).response, { allowed: true, warnings: ['hitless [readiness-probe]: container "web" has no readinessProbe', 'hitless [pre-stop]: container "web" has no preStop hook'] })
})

t.test('malformed JSON gets the answer the server would give', async (t) => {
  const result = await runCli(['review', '-'], { stdin: '{"kind": ' })
  t.equal(result.code, 2, 'malformed input: exit 2')
  t.match(JSON.parse(result.stdout), { error: /^malformed JSON/ })
})

t.test('usage and read errors', async (t) => {
  t.match(await runCli(['review', 'a.json', 'b.json']), { code: 2, stderr: /too many arguments for 'review'/ })
  t.match(await runCli(['review', '--bogus']), { code: 2, stderr: /unknown option '--bogus'/ })
  t.match(await runCli(['review', '/nonexistent/review.json']), { code: 1, stderr: /ENOENT/ })
  t.match(await runCli(['review', '-'], { stdin: '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "x"}}' }), { code: 2 }, 'a review hitless cannot judge: exit 2')
  t.match(await runCli(['frobnicate']), { code: 2, stderr: /unknown command 'frobnicate'/ })
})

t.test('help and version, as CLIs do', async (t) => {
  const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
  t.match(await runCli(['--version']), { code: 0, stdout: `${version}\n` })
  t.match(await runCli(['-V']), { code: 0, stdout: `${version}\n` })
  const none = await runCli([])
  t.equal(none.code, 2, 'no arguments: usage on stderr, exit 2')
  t.match(none.stderr, /Commands:\n\s+serve/)
  t.equal(none.stdout, '')
  t.match(await runCli(['--help']), { code: 0, stdout: /Usage: hitless \[options\] \[command\]/ })
  for (const command of ['serve', 'review', 'audit', 'fix', 'export-policies']) {
    const own = await runCli([command, '--help'])
    t.equal(own.code, 0, `${command} --help`)
    t.match(own.stdout, new RegExp(`Usage: hitless ${command} `))
    t.same((await runCli(['help', command])).stdout, own.stdout, `help ${command} prints the same`)
  }
  t.match((await runCli(['serve', '--help'])).stdout, /--tls-cert <file>.*\(HITLESS_TLS_CERT\)/s)
  t.match((await runCli(['audit', '--help'])).stdout, /Exit codes: 0 nothing at or above --fail-on/)
})

t.test('under an older Node it says which Node it needs, not a stack trace', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const { BIN } = await import('../helpers/cli.ts')
  const system = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' })
  const major = Number(/^v(\d+)/.exec(system.stdout ?? '')?.[1])
  // The machine's own Node (20 here) is the older one; a machine without one has nothing to show.
  if (!(major < 24)) return void t.pass('no Node older than 24 at /usr/bin/node')
  const old = spawnSync('/usr/bin/node', [BIN, 'audit', 'x.yaml'], { encoding: 'utf8' })
  t.equal(old.status, 2)
  t.match(old.stderr, /hitless needs Node\.js 24\.12 or newer \(this is v\d+/)
  t.match(old.stderr, /npm ci/)
  t.notMatch(old.stderr, /ERR_UNKNOWN_FILE_EXTENSION|    at /)
})
