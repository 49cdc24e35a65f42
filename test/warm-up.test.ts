// The start-up warm-up (src/warm-up.ts): its sample reviews are real reviews every rule judges, the
// server is not ready until it is over, and it writes no decision line and counts no review.
import { request } from 'node:http'
import { get } from 'node:https'
import { Writable } from 'node:stream'
import t from 'tap'
import { handleAdmission } from '../src/admission/handle.ts'
import { createLogger } from '../src/log/log.ts'
import { startServer } from '../src/server.ts'
import { sampleReviews, warmUp } from '../src/warm-up.ts'
import { admissionReview, loadYaml, policyFrom } from './helpers/objects.ts'
import { postJson, testCertificates } from './helpers/tls.ts'

function metricsText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`${url}/metrics`, { ca }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

function probe(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request(`${url}/readyz`, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }))
    }).on('error', reject).end()
  })
}

t.test('every sample review is judged (none is a bad request) on both endpoints, both allowed and denied paths', async (t) => {
  const policy = policyFrom()
  const samples = sampleReviews()
  t.ok(samples.length >= 6, `${samples.length} samples`)
  const kinds = new Set<string>()
  const outcomes = new Set<string>()
  for (const text of samples) {
    for (const endpoint of ['mutate', 'validate'] as const) {
      const handled = handleAdmission(JSON.parse(text), endpoint, policy)
      t.equal(handled.statusCode, 200)
      t.not(handled.log.decision, 'bad-request', `${handled.log.operation} ${handled.log.kind} on /${endpoint}: ${handled.log.error ?? handled.log.decision}`)
      kinds.add(`${handled.log.operation} ${handled.log.kind}`)
      outcomes.add(handled.log.decision)
    }
  }
  t.same([...kinds].sort(), ['CREATE Deployment', 'CREATE Pod', 'CREATE Service', 'UPDATE Deployment', 'UPDATE Pod', 'UPDATE Service'])
  t.ok(outcomes.has('allow') && outcomes.has('deny'), `outcomes: ${[...outcomes].join(', ')}`)
})

t.test('the warm-up judges every sample on both endpoints for each round, and stops at its rounds', async (t) => {
  const result = await warmUp(policyFrom, undefined, { rounds: 3, budgetMs: 60_000, wallMs: 60_000, sliceMs: 0 })
  t.same({ rounds: result.rounds, reviews: result.reviews, complete: result.complete }, { rounds: 3, reviews: 3 * 2 * sampleReviews().length, complete: true })
})

t.test('a spent time budget, or wall time, ends it before its rounds', async (t) => {
  const budget = await warmUp(policyFrom, undefined, { rounds: 1_000_000, budgetMs: 0, wallMs: 60_000, sliceMs: 10 })
  t.same({ rounds: budget.rounds, complete: budget.complete }, { rounds: 0, complete: false })
  const wall = await warmUp(policyFrom, undefined, { rounds: 1_000_000, budgetMs: 60_000, wallMs: 0, sliceMs: 10 })
  t.same({ rounds: wall.rounds, complete: wall.complete }, { rounds: 0, complete: false })
})

t.test('the server is not ready until warmed up; the warm-up writes no decision line and counts no review', async (t) => {
  const lines: Record<string, any>[] = []
  const logger = createLogger('info', new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) }))
  const certs = await testCertificates()
  // Many rounds, a turn of the event loop after each: the probe is answered while it runs.
  const server = await startServer({ host: '127.0.0.1', port: 0, probePort: 0, tls: certs, policy: policyFrom(), logger, warmUp: { rounds: 400, budgetMs: 100_000, wallMs: 100_000, sliceMs: 0 } })
  t.teardown(() => server.close())
  let over = false
  void server.warmedUp.then(() => (over = true))
  const during: { status: number; body: any }[] = []
  while (!over) {
    const answer = await probe(server.probeUrl!)
    // An answer read before the warm-up's end was given before it too.
    if (!over) during.push(answer)
  }
  t.ok(during.length > 0, `${during.length} /readyz answers while warming up`)
  t.same(during.filter((a) => a.status !== 503 || !a.body.reasons.includes('warming up')), [], 'every one: 503, "warming up"')
  t.equal((await probe(server.probeUrl!)).status, 200, 'ready once warmed up')
  const warmed = await server.warmedUp
  t.same({ rounds: warmed?.rounds, complete: warmed?.complete }, { rounds: 400, complete: true })

  t.same(lines.filter((l) => l.msg === 'admission decision'), [], 'no decision line')
  t.same(lines.filter((l) => l.msg === 'warmed up').map((l) => l.reviews), [400 * 2 * sampleReviews().length], 'one "warmed up" line with the reviews judged')
  const metrics = await metricsText(server.url, certs.ca)
  t.notMatch(metrics, /^hitless_reviews_total\{/m, 'no review counted')
  t.notMatch(metrics, /^hitless_review_duration_seconds_count\{[^}]*\} [1-9]/m, 'no review timed')

  // A real review afterwards is logged and counted as before.
  const result = await postJson(server.url, '/validate', admissionReview(loadYaml('readiness-probe/fires-deployment-no-probe.yaml'), { uid: 'after-warm-up' }), { ca: certs.ca })
  t.equal(JSON.parse(result.body).response.uid, 'after-warm-up')
  t.same(lines.filter((l) => l.msg === 'admission decision').map((l) => l.uid), ['after-warm-up'])
  t.match(await metricsText(server.url, certs.ca), /^hitless_reviews_total\{[^}]*\} 1$/m, 'the real review is counted')
})
