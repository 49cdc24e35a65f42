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
