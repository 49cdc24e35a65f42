// CPU per review of `hitless serve --cluster off` (the command a new user runs, decision log at info
// to /dev/null) against a bare node:https server that parses the same body and answers a fixed allow.
// Both servers run for the whole benchmark; rounds alternate between them (the first of a pair
// alternates too) and each server's CPU ticks are read from /proc/<pid>/stat around its block, so a
// neighbour slowing the machine hits both alike. Each round gives one ratio bare / hitless.
//
//   node bench/serve-cpu.ts [--hitless <checkout>]   (default: this checkout)
//
// --hitless points at another checkout (a bisect worktree), whose bin/hitless.js is started with
// this checkout's Node; the last line printed is the median hitless µs per review, for `git bisect run`.
// Bounded: BENCH_ROUNDS × 2 × BENCH_REQUESTS requests plus a warm-up, each block capped at 20 s.
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createCertificateAuthority, issueServingCertificate } from '../src/tls/certificates.ts'
import { deploymentUpdateReview } from './lib/deployment-review.ts'
import { runLoad } from './lib/load.ts'
import { writeResult } from './lib/report.ts'

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8)
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 4_000)
const WARMUP = 2_000
const CONCURRENCY = 8
const MAX_SECONDS = 20
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

const { values } = parseArgs({ options: { hitless: { type: 'string' } } })
const checkout = resolve(values.hitless ?? fileURLToPath(new URL('..', import.meta.url)))

function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime, stime
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))))
    })
  })
}

/** Until the server answers a review (the bare server answers nothing else). */
async function waitServing(port: number, ca: string, body: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const ok = await new Promise<boolean>((answer) => {
      request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume()
        answer(res.statusCode === 200)
      })
        .on('error', () => answer(false))
        .end(body)
    })
    if (ok) return
    await new Promise((wait) => setTimeout(wait, 100))
  }
  throw new Error(`no answer on port ${port} in 20 s`)
}

interface Server {
  name: string
  port: number
  child: ChildProcess
}

async function start(name: string, args: (port: number) => string[], ca: string, body: string): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, args(port), { cwd: checkout, stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] })
  await waitServing(port, ca, body, child)
  return { name, port, child }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const dir = await mkdtemp(join(tmpdir(), 'hitless-serve-cpu-'))
const servers: Server[] = []
try {
  const ca = await createCertificateAuthority('bench CA', 1)
  const serving = await issueServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 1 })
  const [cert, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')]
  await writeFile(cert, serving.cert)
  await writeFile(key, serving.key)
  const bodies = Array.from({ length: 256 }, (_, i) => JSON.stringify(deploymentUpdateReview(`bench-${i}`)))
  const bodyBytes = Buffer.byteLength(bodies[0]!)

  const bareScript = fileURLToPath(new URL('servers/bare-https-server.ts', import.meta.url))
  const bare = await start('bare', (port) => [bareScript, cert, key, String(port)], ca.cert, bodies[0]!)
  servers.push(bare)
  const hitless = await start(
    'hitless',
    (port) => [join(checkout, 'bin/hitless.js'), 'serve', '--cluster', 'off', '--host', '127.0.0.1', '--port', String(port), '--tls-cert', cert, '--tls-key', key, '--log-level', 'info'],
    ca.cert,
    bodies[0]!,
  )
  servers.push(hitless)

  const block = async (server: Server, requests: number) => {
    const before = cpuTicks(server.child.pid!)
    const result = await runLoad({ port: server.port, path: '/validate?timeout=10s', ca: ca.cert, bodies, concurrency: CONCURRENCY, requests, maxSeconds: MAX_SECONDS })
    const ticks = cpuTicks(server.child.pid!) - before
    if (result.errors > 0) throw new Error(`${server.name}: ${result.errors} of ${result.requests} requests failed`)
    return { micros: (ticks * 1_000_000) / TICKS_PER_SECOND / result.requests, requestsPerSecond: result.requestsPerSecond }
  }
  await block(bare, WARMUP)
  await block(hitless, WARMUP)

  const rounds: { bare: number; hitless: number; ratio: number }[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? [bare, hitless] : [hitless, bare]
    const measured = new Map<string, number>()
    for (const server of order) measured.set(server.name, (await block(server, REQUESTS)).micros)
    const row = { bare: measured.get('bare')!, hitless: measured.get('hitless')!, ratio: 0 }
    row.ratio = row.bare / row.hitless
    rounds.push(row)
    console.error(`round ${round}: bare ${row.bare.toFixed(0)} µs, hitless ${row.hitless.toFixed(0)} µs, ratio ${row.ratio.toFixed(2)}`)
  }
  const span = (key: 'bare' | 'hitless' | 'ratio', digits: number) => {
    const all = rounds.map((r) => r[key])
    return `${median(all).toFixed(digits)} (${Math.min(...all).toFixed(digits)}–${Math.max(...all).toFixed(digits)})`
  }
  console.log(`${bodyBytes}-byte Deployment UPDATE review, POST /validate, ${CONCURRENCY} keep-alive connections, ${REQUESTS} requests per server per round, ${ROUNDS} rounds; median (range)`)
  console.log(`checkout: ${checkout}`)
  console.log(`bare node:https CPU µs/review: ${span('bare', 0)}`)
  console.log(`hitless serve --cluster off CPU µs/review: ${span('hitless', 0)}`)
  console.log(`ratio bare / hitless: ${span('ratio', 2)} (goal >= 0.70)`)
  await writeResult('serve-cpu', { checkout, bodyBytes, concurrency: CONCURRENCY, requests: REQUESTS, rounds })
  console.log(median(rounds.map((r) => r.hitless)).toFixed(0))
} finally {
  for (const server of servers) server.child.kill('SIGTERM')
  await rm(dir, { recursive: true, force: true })
}
