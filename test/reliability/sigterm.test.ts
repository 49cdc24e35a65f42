// SIGTERM under load against the real `hitless serve` process over real TLS, with pooled keep-alive
// connections as the API server keeps them: during the drain every answer says Connection: close, so
// the pool empties itself; no request fails or is reset, and the process exits as soon as the last
// review is answered (not after the 10 s cap). A request arriving after the listener closed:
// drain-late-request.test.ts.
import { Agent, request } from 'node:https'
import t from 'tap'
import { startServe } from '../helpers/cli.ts'
import { admissionReview, loadYaml } from '../helpers/objects.ts'

function call(url: string, agent: Agent, body: string): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/validate?timeout=5s', url), { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('SIGTERM under keep-alive load: nothing fails, nothing is reset, exit when done', async (t) => {
  const { serve, url, certs } = await startServe(t, 1)
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: certs.ca })
  const body = JSON.stringify(admissionReview(loadYaml('readiness-probe/fires-deployment-no-probe.yaml')))
  const statuses: number[] = []
  const errors: string[] = []
  let closes = 0
  let sending = true
  const worker = async () => {
    // Bounded: stops by itself after 2,000 requests or when told.
    for (let n = 0; sending && n < 2000; n++) {
      try {
        const answer = await call(url, agent, body)
        statuses.push(answer.status)
        if (answer.connection === 'close') closes++
      } catch (error) {
        errors.push((error as NodeJS.ErrnoException).code ?? String(error))
        return
      }
    }
  }
  const load = Promise.all(Array.from({ length: 8 }, worker))
  while (statuses.length < 200) await new Promise((r) => setTimeout(r, 10))
  serve.child.kill('SIGTERM')
  // The API server keeps calling until the endpoint is gone (readiness fails at once): here for 600 ms
  // of the 1 s drain, then no more.
  await new Promise((r) => setTimeout(r, 600))
  sending = false
  await load
  const code = await serve.exited
  agent.destroy()
  t.same(errors, [], 'no request failed or was reset')
  t.same([...new Set(statuses)], [200], `${statuses.length} reviews, all answered`)
  t.ok(closes > 0, `${closes} answers during the drain said Connection: close`)
  t.equal(code, 0, 'a clean exit')
  t.notOk(serve.lines.some((l) => l['msg'] === 'graceful close timed out; closing remaining connections'), 'without waiting out the close timeout')
})
