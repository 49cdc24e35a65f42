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

function call(url: string, path: string, agent: Agent, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: body ? 'POST' : 'GET', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('close under load: readiness fails first, nothing in flight is lost', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, tls: certs, policy: policyFrom(), logger: quiet, drainDelayMs: 300 })
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: certs.ca })
  const body = JSON.stringify(admissionReview(loadYaml('readiness-probe/fires-deployment-no-probe.yaml')))
  const statuses: number[] = []
  const errors: string[] = []
  let stop = false
  const worker = async () => {
    while (!stop) {
      try {
        statuses.push(await call(server.url, '/validate', agent, body))
      } catch (error) {
        // The workers stop sending while the server still drains, so every error is a lost request.
        errors.push((error as NodeJS.ErrnoException).code ?? String(error))
        return
      }
    }
  }
  const load = Promise.all(Array.from({ length: 8 }, worker))
  await new Promise((r) => setTimeout(r, 150))
  t.equal(await call(server.url, '/readyz', agent), 200)
  const closing = server.close()
  t.equal(await call(server.url, '/readyz', agent), 503, '/readyz fails as soon as shutdown starts')
  const servedDuringDrain = statuses.length
  await new Promise((r) => setTimeout(r, 200))
  t.ok(statuses.length > servedDuringDrain, 'reviews are still served during the drain delay')
  stop = true // still inside the drain delay: the requests in flight now must all complete
  await closing
  await load
  agent.destroy()
  // Load, not speed: more than one review per worker (a count tied to speed failed on a busy machine).
  t.ok(statuses.length > 8, `${statuses.length} reviews answered`)
  t.same([...new Set(statuses)], [200], 'every answered review was a 200')
  t.same(errors, [], 'no request failed while the server was draining')
})
