// A bounded HTTP load generator for the rollout proof: `rate` requests a second for `seconds`, each on a
// new TCP connection (as a client behind an ingress would reach a Service), to one address on this
// machine that the test created: a Service ClusterIP or pod IP in the ranges it is given, or loopback.
// Every request ends as ok or as one failure kind, counted per second of its start:
//   refused      the connection was refused (RST to the SYN: nothing listens, or no endpoint)
//   reset        the connection was reset after it was made
//   timeout      no answer within timeoutMs (SYNs to a pod that is gone, a stalled reply)
//   unreachable  the kernel gave up on the address (no neighbour answers ARP for a pod that is gone)
//   http         an answer, but not a complete 200
import { connect } from 'node:net'
import { isIPv4 } from 'node:net'

export type FailureKind = 'refused' | 'reset' | 'timeout' | 'unreachable' | 'http'
export const FAILURE_KINDS: readonly FailureKind[] = ['refused', 'reset', 'timeout', 'unreachable', 'http']

export interface LoadOptions {
  host: string
  port: number
  /** CIDRs the host must be in (besides 127.0.0.0/8): the pod and Service ranges of the test cluster. */
  allowed: string[]
  rate: number
  seconds: number
  timeoutMs: number
  path?: string
  /** Each called once, `second` seconds after the first request (the rollout restarts). */
  events?: { second: number; run: () => void | Promise<void> }[]
}

export interface SecondCounts {
  second: number
  ok: number
  failed: number
  byKind: Record<FailureKind, number>
}

export interface LoadResult {
  requests: number
  ok: number
  failed: number
  byKind: Record<FailureKind, number>
  perSecond: SecondCounts[]
  /** Answers by the body's first line (the app writes its pod name there). */
  backends: Record<string, number>
  /** Error codes that were classified, with their counts (for the report). */
  codes: Record<string, number>
  /** Latency of the requests that succeeded, in ms: median, p99, max; and how many took over a second. */
  latency: { p50: number; p99: number; max: number; overOneSecond: number }
  elapsedMs: number
}

const MAX_RATE = 1000
const MAX_SECONDS = 600

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)
}

/** Whether an IPv4 address is in one of the CIDRs, or loopback. */
export function inRanges(ip: string, cidrs: readonly string[]): boolean {
  if (!isIPv4(ip)) return false
  return ['127.0.0.0/8', ...cidrs].some((cidr) => {
    const [base, bits] = cidr.split('/')
    const prefix = Number(bits)
    if (!base || !isIPv4(base) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`)
    const size = 2 ** (32 - prefix)
    return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size)
  })
}

const emptyKinds = (): Record<FailureKind, number> => ({ refused: 0, reset: 0, timeout: 0, unreachable: 0, http: 0 })

function classify(code: string | undefined): FailureKind {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused'
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable'
    case 'ETIMEDOUT':
      return 'timeout'
    default:
      return 'http'
  }
}

type Outcome = { ok: true; backend: string } | { ok: false; kind: FailureKind; code: string }

function oneRequest(host: string, port: number, path: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false
    let data = ''
    const socket = connect({ host, port })
    const finish = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ ok: false, kind: 'timeout', code: 'timeout' }), timeoutMs)
    socket.setNoDelay(true)
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))
    socket.on('data', (chunk) => (data += chunk.toString('latin1')))
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, kind: classify(error.code), code: error.code ?? error.message }))
    socket.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n', 2)
      if (/^HTTP\/1\.[01] 200 /.test(head)) finish({ ok: true, backend: body.split('\n')[0]!.trim() || '?' })
      else finish({ ok: false, kind: data === '' ? 'reset' : 'http', code: data === '' ? 'closed without an answer' : head.split('\r\n')[0]! })
    })
  })
}

/** Runs the load; resolves when every request has ended (at most seconds + timeout after the start). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { host, port, rate, seconds, timeoutMs } = options
  if (!inRanges(host, options.allowed)) throw new Error(`load target ${host} is not loopback nor in ${options.allowed.join(', ')}: refusing`)
  if (!(rate > 0 && rate <= MAX_RATE) || !(seconds > 0 && seconds <= MAX_SECONDS)) throw new Error(`load bounds out of range: ${rate}/s for ${seconds}s`)
  if (!(timeoutMs > 0 && timeoutMs <= 30_000)) throw new Error(`request timeout out of range: ${timeoutMs} ms`)
  const total = Math.round(rate * seconds)
  const perSecond: SecondCounts[] = Array.from({ length: Math.ceil(seconds) }, (_, second) => ({ second, ok: 0, failed: 0, byKind: emptyKinds() }))
  const result: LoadResult = { requests: 0, ok: 0, failed: 0, byKind: emptyKinds(), perSecond, backends: {}, codes: {}, latency: { p50: 0, p99: 0, max: 0, overOneSecond: 0 }, elapsedMs: 0 }
  const latencies: number[] = []
  const pending: Promise<void>[] = []
  const start = performance.now()
  let sent = 0
  const events = [...(options.events ?? [])].sort((a, b) => a.second - b.second)
  await new Promise<void>((done) => {
    const tick = () => {
      const elapsed = performance.now() - start
      while (events.length > 0 && elapsed >= events[0]!.second * 1000) pending.push(Promise.resolve(events.shift()!.run()))
      const due = Math.min(total, Math.floor((elapsed / 1000) * rate) + 1)
      while (sent < due) {
        const second = Math.min(perSecond.length - 1, Math.floor(sent / rate))
        sent++
        result.requests++
        const sentAt = performance.now()
        pending.push(
          oneRequest(host, port, options.path ?? '/', timeoutMs).then((outcome) => {
            const bucket = perSecond[second]!
            if (outcome.ok) {
              latencies.push(performance.now() - sentAt)
              result.ok++
              bucket.ok++
              result.backends[outcome.backend] = (result.backends[outcome.backend] ?? 0) + 1
            } else {
              result.failed++
              bucket.failed++
              result.byKind[outcome.kind]++
              bucket.byKind[outcome.kind]++
              result.codes[outcome.code] = (result.codes[outcome.code] ?? 0) + 1
            }
          }),
        )
      }
      if (sent >= total) return done()
      setTimeout(tick, 2)
    }
    tick()
  })
  await Promise.all(pending)
  latencies.sort((a, b) => a - b)
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0)
  result.latency = { p50: at(0.5), p99: at(0.99), max: Math.round(latencies.at(-1) ?? 0), overOneSecond: latencies.filter((ms) => ms > 1000).length }
  result.elapsedMs = Math.round(performance.now() - start)
  return result
}

/** "3 s: 12 refused, 1 timeout" lines for the seconds that had failures. */
export function failureTimeline(result: LoadResult): string[] {
  return result.perSecond
    .filter((s) => s.failed > 0)
    .map((s) => `${s.second} s: ${FAILURE_KINDS.filter((k) => s.byKind[k] > 0).map((k) => `${s.byKind[k]} ${k}`).join(', ')} (of ${s.ok + s.failed})`)
}
