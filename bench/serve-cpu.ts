// CPU per review of `hitless serve --cluster off` (the command a new user runs, decision log at info
// to /dev/null) against a bare node:https server that parses the same body and answers a fixed allow.
// Both servers run for the whole benchmark; rounds alternate between them (the first of a pair
// alternates too) and each server's CPU ticks are read from /proc/<pid>/stat around its block, so a
// neighbour slowing the machine hits both alike. Each round gives one ratio bare / hitless.
//
//   node bench/serve-cpu.ts [--hitless <checkout>]...   (default: this checkout)
//
// --hitless points at another checkout (a bisect worktree), whose bin/hitless.js is started with
// this checkout's Node; given several times, every round measures each of them too (before/after in
// one run). The last line printed is the first one's median µs per review, for `git bisect run`.
// --rules-off adds this checkout's server once more with every rule off (a config written for it):
// what the server costs apart from the rules, in the same rounds.
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
import { RULES } from '../src/rules/index.ts'
import { deploymentUpdateReview } from './lib/deployment-review.ts'
import { runLoad } from './lib/load.ts'
import { median } from './lib/median.ts'
import { writeResult } from './lib/report.ts'

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8)
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 4_000)
const WARMUP = 2_000
const CONCURRENCY = 8
const MAX_SECONDS = 20
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

const { values } = parseArgs({ options: { hitless: { type: 'string', multiple: true }, 'rules-off': { type: 'boolean', default: false } } })
const here = fileURLToPath(new URL('..', import.meta.url))
const checkouts = (values.hitless ?? [here]).map((path) => resolve(path))

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
  const deadline = Date.now() + 60_000
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
  throw new Error(`no answer on port ${port} in 60 s`)
}

interface Server {
  name: string
  port: number
  child: ChildProcess
}
const servers: Server[] = []

async function start(name: string, args: (port: number) => string[], ca: string, body: string, cwd = here): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, args(port), { cwd, stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] })
  const server = { name, port, child }
  servers.push(server) // stopped at the end even when it never answers
  await waitServing(port, ca, body, child)
  return server
}

const dir = await mkdtemp(join(tmpdir(), 'hitless-serve-cpu-'))
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
  const hitless: Server[] = []
  const serveArgs = (checkout: string, extra: string[]) => (port: number) =>
    [join(checkout, 'bin/hitless.js'), 'serve', '--cluster', 'off', '--host', '127.0.0.1', '--port', String(port), '--probe-port', '0', '--tls-cert', cert, '--tls-key', key, '--log-level', 'info', ...extra]
  for (const [i, checkout] of checkouts.entries()) {
    hitless.push(await start(checkouts.length > 1 ? `hitless ${i + 1}` : 'hitless', serveArgs(checkout, []), ca.cert, bodies[0]!, checkout))
  }
  let rulesOff: Server | undefined
  if (values['rules-off']) {
    const ids = RULES.map((rule) => rule.id)
    const config = join(dir, 'rules-off.yaml')
    await writeFile(config, `rules:\n${ids.map((id) => `  ${id}:\n    action: "off"\n`).join('')}`)
    rulesOff = await start('rules off', serveArgs(here, ['--config', config]), ca.cert, bodies[0]!, here)
  }

  const block = async (server: Server, requests: number) => {
    const before = cpuTicks(server.child.pid!)
    const result = await runLoad({ port: server.port, path: '/validate?timeout=10s', ca: ca.cert, bodies, concurrency: CONCURRENCY, requests, maxSeconds: MAX_SECONDS })
    const ticks = cpuTicks(server.child.pid!) - before
    if (result.errors > 0) throw new Error(`${server.name}: ${result.errors} of ${result.requests} requests failed`)
    return (ticks * 1_000_000) / TICKS_PER_SECOND / result.requests
  }
  const all = [bare, ...hitless, ...(rulesOff ? [rulesOff] : [])]
  for (const server of all) await block(server, WARMUP)

  // µs per review by server name, one entry per round.
  const rounds: Record<string, number>[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? all : [...all].reverse()
    const row: Record<string, number> = {}
    for (const server of order) row[server.name] = await block(server, REQUESTS)
    rounds.push(row)
    console.error(`round ${round}: ${all.map((server) => `${server.name} ${row[server.name]!.toFixed(0)} µs (ratio ${(row['bare']! / row[server.name]!).toFixed(2)})`).join(', ')}`)
  }
  const span = (values: number[], digits: number) => `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
  console.log(`${bodyBytes}-byte Deployment UPDATE review, POST /validate, ${CONCURRENCY} keep-alive connections, ${REQUESTS} requests per server per round, ${ROUNDS} rounds; median (range)`)
  console.log(`bare node:https CPU µs/review: ${span(rounds.map((r) => r['bare']!), 0)}`)
  for (const [i, server] of hitless.entries()) {
    const of = checkouts.length > 1 ? ` (${checkouts[i]})` : ''
    console.log(`hitless serve --cluster off CPU µs/review${of}: ${span(rounds.map((r) => r[server.name]!), 0)}`)
    console.log(`ratio bare / hitless${of}: ${span(rounds.map((r) => r['bare']! / r[server.name]!), 2)} (goal >= 0.70)`)
  }
  if (rulesOff) {
    console.log(`hitless serve --cluster off, every rule off, CPU µs/review: ${span(rounds.map((r) => r[rulesOff.name]!), 0)}`)
    console.log(`ratio bare / hitless with every rule off: ${span(rounds.map((r) => r['bare']! / r[rulesOff.name]!), 2)}`)
    console.log(`the rules' share of hitless's CPU beyond bare: ${span(rounds.map((r) => (r[hitless[0]!.name]! - r[rulesOff.name]!) / (r[hitless[0]!.name]! - r['bare']!)), 2)}`)
  }
  await writeResult('serve-cpu', { checkouts, bodyBytes, concurrency: CONCURRENCY, requests: REQUESTS, rounds })
  console.log(median(rounds.map((r) => r[hitless[0]!.name]!)).toFixed(0))
} finally {
  for (const server of servers) server.child.kill('SIGTERM')
  await rm(dir, { recursive: true, force: true })
}
