// A replica at the shipped memory limit (512Mi: Node's heap capped at 400 MiB here) survives the
// costliest bodies a client can send within the body limit: one flood of empty objects (refused by
// the structure count before parsing), then ten maximal reviews at once (the in-flight budget admits
// what fits and sheds the rest with 503). It answers /healthz afterwards. Peak memory is measured by
// bench/memory.ts (BENCHMARKS.md), not asserted here.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { Writable } from 'node:stream'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { emptyObjectFlood, maximalReview, peakRssMiB } from '../../bench/lib/hostile-bodies.ts'
import { storeFrom } from '../../src/cluster/ingest.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { buildApp } from '../../src/app.ts'
import { createLogger } from '../../src/log/log.ts'
import { startCli } from '../helpers/cli.ts'
import { admissionReview, configFrom, loadYaml } from '../helpers/objects.ts'
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

// Many distinct reviews leave nothing behind: Service reviews with distinct names and port lists, judged
// with the Service rules on (a cluster view with a Deployment for them to look at); the heap after a
// full collection grows no further from N to 4N reviews than a small allowance. A retention of even
// 300 bytes per review (the issue measured 1.7 KiB) fails it; timing plays no part.
const gc: () => void = (setFlagsFromString('--expose-gc'), runInNewContext('gc'))

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

t.test('distinct Service reviews: the heap does not grow with their number', async (t) => {
  const deployment = loadYaml('readiness-probe/passes-has-probe.yaml')
  const policy = buildPolicy(configFrom(), { cluster: storeFrom([deployment]) })
  // A logger that keeps nothing (test/helpers/app.ts keeps every line, which would be the growth measured).
  const app = buildApp({ policy: () => policy, logger: createLogger('info', new Writable({ write: (_c, _e, done) => done() })) })
  const service = (i: number) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'default' },
    spec: { selector: { app: `a${i % 97}` }, ports: [{ name: `p${i}`, port: 1 + (i % 65535), targetPort: `t${i}` }, { port: 1 + ((i * 7) % 65535), targetPort: 1 + ((i * 13) % 65535) }] },
  })
  let next = 0
  const review = async (count: number) => {
    for (const end = next + count; next < end; next++) {
      const answer = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(admissionReview(service(next) as KubeObject)) })
      if (answer.statusCode !== 200) throw new Error(`HTTP ${answer.statusCode}: ${answer.body}`)
    }
  }
  const N = 2_500
  await review(1_000) // warm-up: code compiled, caches of fixed size filled
  await review(N)
  const atN = heapAfterGc()
  await review(3 * N)
  const at4N = heapAfterGc()
  const perReview = (at4N - atN) / (3 * N)
  t.ok(perReview < 300, `heap ${(atN / 2 ** 20).toFixed(1)} MiB after ${N} reviews, ${(at4N / 2 ** 20).toFixed(1)} MiB after ${4 * N}: ${perReview.toFixed(0)} bytes per review`)
})
