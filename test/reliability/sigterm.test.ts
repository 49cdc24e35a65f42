// SIGTERM under load against the real `hitless serve` process over real TLS, with pooled keep-alive
// connections as the API server keeps them: during the drain every answer says Connection: close, so
// the pool empties itself; no request fails or is reset, and the process exits as soon as the last
// review is answered (not after the 10 s cap). A request arriving after the listener closed:
// drain-late-request.test.ts.
import { writeFile, mkdtemp } from 'node:fs/promises'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startCli } from '../helpers/cli.ts'
import { admissionReview, loadYaml } from '../helpers/objects.ts'
import { testCertificates } from '../helpers/tls.ts'

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
  const certs = await testCertificates()
  const dir = await mkdtemp(join(tmpdir(), 'hitless-sigterm-'))
  await writeFile(join(dir, 'tls.crt'), certs.cert)
  await writeFile(join(dir, 'tls.key'), certs.key)
  const serve = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--cluster', 'off', '--shutdown-delay', '1'], (line) => line['msg'] === 'hitless is serving /mutate and /validate')
  t.teardown(() => serve.child.kill('SIGKILL'))
  const url = String((await serve.started)['url'])
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
