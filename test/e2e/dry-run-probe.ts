// What a write costs as a client of the API server sees it, with millisecond resolution: K server-side
// dry-run writes (`?dryRun=All`) one after another over one kept-alive connection, spaced like real
// writes. The API server calls every webhook whose sideEffects are None on a dry-run (hitless's are), so
// the same probe with no webhook, with hitless and with the allow-all baseline registered says what each
// webhook adds to a write: p50(with) − p50(none). The API server's own histogram has buckets of 5, 25,
// 100 ms and cannot say that. Each write changes only an annotation of an existing Deployment, which
// hitless judges (every rule on Deployments) and admits.
import { Agent, request } from 'node:https'
import { performance } from 'node:perf_hooks'

export interface ProbeTarget {
  /** The API server's URL, CA (PEM) and a bearer token allowed to patch Deployments. */
  url: string
  ca: string
  token: string
  namespace: string
  deployment: string
}

export interface ProbeResult {
  calls: number
  /** HTTP status → count (200: the dry-run write was admitted). */
  statuses: Record<string, number>
  p50Ms: number
  p90Ms: number
  maxMs: number
  /** Every call's client-side time, in order. */
  latenciesMs: number[]
  /** Wall-clock start and end (ms since the epoch), to find the calls in hitless's decision log. */
  startedAt: number
  endedAt: number
}

export const PROBE_ANNOTATION = 'example.com/latency-probe'

const round = (ms: number) => Math.round(ms * 100) / 100

/** The nearest-rank quantile of unsorted numbers (0 for none). */
export function rank(values: number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

function call(agent: Agent, target: ProbeTarget, method: string, path: string, body?: string): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now()
    const headers: Record<string, string> = { authorization: `Bearer ${target.token}`, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/merge-patch+json'
    const req = request(`${target.url}${path}`, { method, agent, ca: target.ca, headers, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
    })
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    req.on('timeout', () => req.destroy())
    req.end(body)
  })
}

/**
 * `count` dry-run PATCHes of the Deployment's annotation, each `spacingMs` after the last answer, on
 * one kept-alive connection opened first by a GET (so no call pays the client's TLS handshake).
 */
export async function dryRunProbe(target: ProbeTarget, count = 50, spacingMs = 50): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const path = `/apis/apps/v1/namespaces/${target.namespace}/deployments/${target.deployment}`
  try {
    await call(agent, target, 'GET', path)
    const latencies: number[] = []
    const statuses: Record<string, number> = {}
    const startedAt = Date.now()
    for (let i = 0; i < count; i++) {
      const patch = JSON.stringify({ metadata: { annotations: { [PROBE_ANNOTATION]: String(i) } } })
      const { status, ms } = await call(agent, target, 'PATCH', `${path}?dryRun=All`, patch)
      latencies.push(round(ms))
      statuses[status] = (statuses[status] ?? 0) + 1
      await new Promise((resolve) => setTimeout(resolve, spacingMs))
    }
    return { calls: count, statuses, p50Ms: rank(latencies, 0.5), p90Ms: rank(latencies, 0.9), maxMs: Math.max(...latencies), latenciesMs: latencies, startedAt, endedAt: Date.now() }
  } finally {
    agent.destroy()
  }
}

/** "p50 / p90 / max ms (n calls, statuses)" */
export function probeCell(result: ProbeResult): string {
  const statuses = Object.entries(result.statuses).map(([status, n]) => `${n}× ${status}`).join(', ')
  return `${result.p50Ms} / ${result.p90Ms} / ${result.maxMs} ms (${statuses})`
}
