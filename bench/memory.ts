// Peak memory of a `hitless serve` replica (real TLS, Node's heap capped at 400 MiB as in a 512Mi
// container) for the costliest bodies within the body limit, each scenario in a fresh process:
// idle; one flood of empty objects; one maximal review; ten maximal reviews at once.
// Run: npm run bench:memory. Bounded: at most 12 requests per scenario.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCertificateAuthority, issueServingCertificate } from '../src/tls/certificates.ts'
import { emptyObjectFlood, maximalReview, peakRssMiB } from './lib/hostile-bodies.ts'
import { writeResult } from './lib/report.ts'

const BIN = fileURLToPath(new URL('../bin/hitless.js', import.meta.url))

function post(url: string, ca: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(new URL('/validate', url), { method: 'POST', ca, headers: { 'content-type': 'application/json' }, timeout: 30_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

async function scenario(name: string, dir: string, ca: string, send: (url: string) => Promise<number[]>) {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--cluster', 'off'], {
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve) => {
    let buffer = ''
    child.stdout!.on('data', (d) => {
      buffer += d
      const match = /"url":"([^"]+)".*"msg":"hitless is serving/.exec(buffer)
      if (match) resolve(match[1]!)
    })
  })
  const statuses = await send(url)
  await new Promise((r) => setTimeout(r, 200))
  const peak = peakRssMiB(child.pid!)
  const alive = child.exitCode === null
  child.kill('SIGKILL')
  return { scenario: name, peakRssMiB: peak, alive, statuses: statuses.join(' ') }
}

const ca = await createCertificateAuthority('bench CA', 1)
const serving = await issueServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 1 })
const dir = await mkdtemp(join(tmpdir(), 'hitless-bench-memory-'))
await writeFile(join(dir, 'tls.crt'), serving.cert)
await writeFile(join(dir, 'tls.key'), serving.key)
const flood = emptyObjectFlood()
const results = [
  await scenario('idle', dir, ca.cert, async () => []),
  await scenario('one flood of empty objects (6 MiB)', dir, ca.cert, async (url) => [await post(url, ca.cert, flood)]),
  await scenario('one maximal review (6 MiB)', dir, ca.cert, async (url) => [await post(url, ca.cert, maximalReview('one'))]),
  await scenario('ten maximal reviews at once', dir, ca.cert, (url) => Promise.all(Array.from({ length: 10 }, (_, i) => post(url, ca.cert, maximalReview(`b${i}`))))),
  await scenario('ten maximal reviews at once, bodies built first', dir, ca.cert, (url) => {
    const bodies = Array.from({ length: 10 }, (_, i) => maximalReview(`c${i}`))
    return Promise.all(bodies.map((body) => post(url, ca.cert, body)))
  }),
]
await rm(dir, { recursive: true, force: true })
console.table(results)
await writeResult('memory', { results })
