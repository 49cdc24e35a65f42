// hitless's HTTPS admission path against a bare node:https server that parses the same body and
// returns a fixed allow, in the same run and process tree. Each round runs both back to back and
// yields one ratio, so drift on the machine hits both alike; the median round is reported.
// Bounded: ROUNDS × 2 × (WARMUP + REQUESTS) requests, each phase capped at MAX_SECONDS.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCertificateAuthority, issueServingCertificate } from '../src/tls/certificates.ts'
import { startChildServer } from './lib/child.ts'
import { deploymentReview } from './lib/deployment-review.ts'
import { runLoad, type LoadResult } from './lib/load.ts'
import { writeResult } from './lib/report.ts'

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5)
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 12_000)
const WARMUP = 1_500
const CONCURRENCY = 16
const MAX_SECONDS = 20

interface Measured extends LoadResult {
  cpuMicrosPerRequest: number
}

const SERVERS = {
  bare: fileURLToPath(new URL('servers/bare-https-server.ts', import.meta.url)),
  hitless: fileURLToPath(new URL('servers/hitless-server.ts', import.meta.url)),
}

async function measure(script: string, tls: string[], ca: string, bodies: string[]): Promise<Measured> {
  const server = await startChildServer(script, tls)
  try {
    const load = { port: server.port, path: '/validate?timeout=5s', ca, bodies, concurrency: CONCURRENCY, maxSeconds: MAX_SECONDS }
    await runLoad({ ...load, requests: WARMUP })
    const cpuBefore = await server.cpuMicros()
    const result = await runLoad({ ...load, requests: REQUESTS })
    const cpu = (await server.cpuMicros()) - cpuBefore
    return { ...result, cpuMicrosPerRequest: cpu / result.requests }
  } finally {
    await server.stop()
  }
}

function middle<T>(values: T[], key: (value: T) => number): T {
  return [...values].sort((a, b) => key(a) - key(b))[Math.floor(values.length / 2)]!
}

const dir = await mkdtemp(join(tmpdir(), 'hitless-bench-'))
try {
  const ca = await createCertificateAuthority('bench CA', 1)
  const serving = await issueServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 1 })
  const tls = [join(dir, 'tls.crt'), join(dir, 'tls.key')]
  await writeFile(tls[0]!, serving.cert)
  await writeFile(tls[1]!, serving.key)
  const bodies = Array.from({ length: 256 }, (_, i) => JSON.stringify(deploymentReview(`bench-${i}`)))
  const bodyBytes = Buffer.byteLength(bodies[0]!)

  const rounds: { bare: Measured; hitless: Measured; ratio: number }[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const bare = await measure(SERVERS.bare, tls, ca.cert, bodies)
    const hitless = await measure(SERVERS.hitless, tls, ca.cert, bodies)
    const ratio = hitless.requestsPerSecond / bare.requestsPerSecond
    rounds.push({ bare, hitless, ratio })
    const line = (r: Measured) => `${r.requestsPerSecond.toFixed(0)} req/s, ${r.cpuMicrosPerRequest.toFixed(0)} µs CPU/req, errors ${r.errors}`
    console.error(`round ${round}: bare ${line(bare)} | hitless ${line(hitless)} | ratio ${(ratio * 100).toFixed(1)} %`)
  }

  const { bare, hitless, ratio } = middle(rounds, (r) => r.ratio)
  const cpuRatio = middle(rounds, (r) => r.bare.cpuMicrosPerRequest / r.hitless.cpuMicrosPerRequest)
  const cpuShare = cpuRatio.bare.cpuMicrosPerRequest / cpuRatio.hitless.cpuMicrosPerRequest
  const row = (name: string, r: Measured) =>
    `| ${name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.cpuMicrosPerRequest.toFixed(0)} | ${r.errors} |`
  console.log(`${bodyBytes}-byte Deployment review, POST /validate, ${CONCURRENCY} keep-alive connections, ${REQUESTS} requests per server per round; median of ${ROUNDS} paired rounds`)
  console.log('| server | req/s | p50 ms | p99 ms | server CPU µs/req | errors |')
  console.log('|---|---|---|---|---|---|')
  console.log(row('bare node:https', bare))
  console.log(row('hitless', hitless))
  console.log(`throughput: hitless / bare = ${(ratio * 100).toFixed(1)} % (goal >= 70 %)`)
  console.log(`CPU per request: bare / hitless = ${(cpuShare * 100).toFixed(1)} %`)
  await writeResult('admission-throughput', { bodyBytes, concurrency: CONCURRENCY, requests: REQUESTS, rounds, ratio, cpuShare })
} finally {
  await rm(dir, { recursive: true, force: true })
}
