// SIGTERM semantics: /readyz fails first, requests keep being served during the drain delay, in-flight
// reviews finish, then the listener closes. Under load, no request fails.
import { Agent, request } from 'node:https'
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../src/log/log.ts'
import { startServer } from '../src/server.ts'
import { admissionReview, loadYaml, policyFrom } from './helpers/objects.ts'
import { testCertificates } from './helpers/tls.ts'

const certs = await testCertificates()
const quiet = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }))

/** The status, and whether the answer said Connection: close (every answer during the drain does). */
function answer(url: string, path: string, agent: Agent, body?: string): Promise<{ status: number; closing: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: body ? 'POST' : 'GET', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, closing: res.headers.connection === 'close' }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const call = async (url: string, path: string, agent: Agent, body?: string) => (await answer(url, path, agent, body)).status

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}

t.test('close under load: readiness fails first, nothing in flight is lost', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, tls: certs, policy: policyFrom(), logger: quiet, drainDelayMs: 2000 })
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: certs.ca })
  const body = JSON.stringify(admissionReview(loadYaml('readiness-probe/fires-deployment-no-probe.yaml')))
  const statuses: number[] = []
  let closingAnswers = 0
  const errors: string[] = []
  let stop = false
  const worker = async () => {
    while (!stop) {
      try {
        const answered = await answer(server.url, '/validate', agent, body)
        statuses.push(answered.status)
        if (answered.closing) closingAnswers++
      } catch (error) {
        // The workers stop sending while the server still drains, so every error is a lost request.
        errors.push((error as NodeJS.ErrnoException).code ?? String(error))
        return
      }
    }
  }
  const load = Promise.all(Array.from({ length: 8 }, worker))
  await until(() => statuses.length >= 8)
  t.equal(await call(server.url, '/readyz', agent), 200)
  const closing = server.close()
  t.equal(await call(server.url, '/readyz', agent), 503, '/readyz fails as soon as shutdown starts')
  // Answers during the drain say Connection: close; wait (bounded) for a few, not for a time.
  await until(() => closingAnswers >= 8)
  t.ok(closingAnswers >= 8, `reviews are still served during the drain (${closingAnswers} with Connection: close)`)
  stop = true // the requests in flight now must all complete, drain or no drain
  await closing
  await load
  agent.destroy()
  // Load, not speed: more than one review per worker (a count tied to speed failed on a busy machine).
  t.ok(statuses.length > 8, `${statuses.length} reviews answered`)
  t.same([...new Set(statuses)], [200], 'every answered review was a 200')
  t.same(errors, [], 'no request failed while the server was draining')
})
