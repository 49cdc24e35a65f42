// A replica at the shipped memory limit (512Mi: Node's heap capped at 400 MiB here) survives the
// costliest bodies a client can send within the body limit: one flood of empty objects (refused by
// the structure count before parsing), then ten maximal reviews at once (the in-flight budget admits
// what fits and sheds the rest with 503). It answers /healthz afterwards. Peak memory is measured by
// bench/memory.ts (BENCHMARKS.md), not asserted here.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { emptyObjectFlood, maximalReview, peakRssMiB } from '../../bench/lib/hostile-bodies.ts'
import { startCli } from '../helpers/cli.ts'
import { testCertificates } from '../helpers/tls.ts'

function post(url: string, ca: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(new URL('/validate?timeout=5s', url), { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 30_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

t.test('the costliest bodies do not kill a replica at the shipped memory limit', async (t) => {
  const certs = await testCertificates()
  const dir = await mkdtemp(join(tmpdir(), 'hitless-memory-'))
  await writeFile(join(dir, 'tls.crt'), certs.cert)
  await writeFile(join(dir, 'tls.key'), certs.key)
  const serve = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--cluster', 'off'], (line) => line['msg'] === 'hitless is serving /mutate and /validate', { env: { NODE_OPTIONS: '--max-old-space-size=256' } })
  t.teardown(() => serve.child.kill('SIGKILL'))
  const url = String((await serve.started)['url'])
  t.equal(await post(url, certs.ca, emptyObjectFlood()), 413, 'the flood of empty objects is refused before it is parsed')
  const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => post(url, certs.ca, maximalReview(`burst-${i}`))))
  t.ok(burst.every((s) => s === 200 || s === 503), `every one answered (${burst.join(', ')})`)
  t.ok(burst.includes(200), 'those that fit the budget are judged')
  t.ok(burst.includes(503), 'the rest are shed before their bodies are read')
  t.equal(serve.child.exitCode, null, 'still running')
  t.equal(await new Promise((resolve) => request(new URL('/healthz', url), { ca: certs.ca }, (res) => resolve(res.statusCode)).end()), 200, 'and healthy')
  t.comment(`peak RSS ${peakRssMiB(serve.child.pid!)} MiB`)
})
