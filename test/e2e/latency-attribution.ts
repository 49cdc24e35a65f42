// Where a webhook call's milliseconds go, from /metrics scraped before and after a run: hitless's own
// handling (hitless_review_duration_seconds), how late its event loop ran, its GC pauses, how many
// reviews came on new connections, beside the API server's own timing of hitless's webhooks
// (apiserver_admission_webhook_admission_duration_seconds). Several replicas: pass each one's text.
import { delta, histogram, quantile, type Bucket } from './node-cluster.ts'

export interface Scrape {
  /** hitless's /metrics, one text per replica. */
  hitless: string[]
  /** The API server's /metrics. */
  apiserver: string
}

export interface Timing {
  count: number
  p50Ms: number
  p99Ms: number
  /** The upper bound of the highest non-empty bucket: the slowest was at most this (Infinity: above every bound). */
  maxAtMostMs: number
}

export interface Attribution {
  /** hitless's handling of each review, request start to answer. */
  hitless?: Timing
  /** How late hitless's event loop ran (every replica's samples together). */
  loopDelay?: Timing & { maxMs: number }
  /** GC pauses: count, total, the longest (a gauge since start); by kind, the count and a bound on the longest. */
  gc: { pauses: number; totalMs: number; maxMs: number; byKind: Record<string, { pauses: number; maxAtMostMs: number }> }
  connections: { tlsNew: number; tlsResumed: number; reviewsOnNew: number; reviewsOnReused: number }
  /** hitless's webhooks as the API server timed them. */
  apiserver?: Timing
}

const ms = (seconds: number) => Math.round(seconds * 1e6) / 1e3

function timing(buckets: Bucket[]): Timing | undefined {
  const p50 = quantile(buckets, 0.5)
  const p99 = quantile(buckets, 0.99)
  if (!p50 || !p99) return undefined
  let max = 0
  let previous = 0
  for (const bucket of buckets) {
    if (bucket.count > previous) max = bucket.le
    previous = bucket.count
  }
  return { count: p50.count, p50Ms: ms(p50.value), p99Ms: ms(p99.value), maxAtMostMs: max === Infinity ? Infinity : ms(max) }
}

/** The values a label takes on a metric's series in the texts. */
function labelValues(texts: string[], metric: string, label: string): string[] {
  const values = new Set<string>()
  const pattern = new RegExp(`^${metric}_count\\{(?:.*,)?${label}="([^"]*)"`)
  for (const text of texts) for (const line of text.split('\n')) values.add(pattern.exec(line)?.[1] ?? '')
  values.delete('')
  return [...values].sort()
}

/**
 * A plain series' value summed over the texts (a counter, or a gauge's largest when `largest`); with
 * `labels` null, every series of the name whatever its labels.
 */
function series(texts: string[], name: string, labels: string | null = '', largest = false): number {
  let total = 0
  const prefixes = labels === null ? [`${name} `, `${name}{`] : [`${name}${labels ? `{${labels}}` : ''} `]
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!prefixes.some((prefix) => line.startsWith(prefix))) continue
      const value = Number(line.slice(line.lastIndexOf(' ') + 1))
      total = largest ? Math.max(total, value) : total + value
    }
  }
  return total
}

function summed(texts: string[], metric: string, match: (labels: string) => boolean): Bucket[] {
  const sums = new Map<number, number>()
  for (const text of texts) for (const { le, count } of histogram(text, metric, match)) sums.set(le, (sums.get(le) ?? 0) + count)
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }))
}

/** Webhooks named like hitless's (mutate.hitless.dev, validate.hitless.dev), unless told otherwise. */
export const isHitlessWebhook = (labels: string) => /(?:^|,)name="[^"]*hitless[^"]*"/.test(labels)

/**
 * The attribution row for what happened between `before` and `after` (with no `before`: since the
 * processes started). Maxima of the loop and GC are since start (gauges); the rest is the difference.
 */
export function attribution(after: Scrape, before?: Scrape, webhook: (labels: string) => boolean = isHitlessWebhook): Attribution {
  const between = (metric: string, texts: (s: Scrape) => string[], match: (labels: string) => boolean = () => true) =>
    before ? delta(summed(texts(after), metric, match), summed(texts(before), metric, match)) : summed(texts(after), metric, match)
  const counter = (name: string, labels: string | null = '') => series(after.hitless, name, labels) - (before ? series(before.hitless, name, labels) : 0)
  const byKind: Attribution['gc']['byKind'] = {}
  for (const kind of labelValues(after.hitless, 'hitless_gc_pause_seconds', 'kind')) {
    const pauses = between('hitless_gc_pause_seconds', (s) => s.hitless, (labels) => labels.includes(`kind="${kind}"`))
    const kindTiming = timing(pauses)
    if (kindTiming) byKind[kind] = { pauses: kindTiming.count, maxAtMostMs: kindTiming.maxAtMostMs }
  }
  const hitless = timing(between('hitless_review_duration_seconds', (s) => s.hitless))
  const loop = timing(between('hitless_event_loop_delay_seconds', (s) => s.hitless))
  const apiserver = timing(between('apiserver_admission_webhook_admission_duration_seconds', (s) => [s.apiserver], webhook))
  return {
    ...(hitless ? { hitless } : {}),
    ...(loop ? { loopDelay: { ...loop, maxMs: ms(series(after.hitless, 'hitless_event_loop_delay_max_seconds', '', true)) } } : {}),
    gc: {
      pauses: counter('hitless_gc_pause_seconds_count', null),
      totalMs: ms(counter('hitless_gc_pause_seconds_sum', null)),
      maxMs: ms(series(after.hitless, 'hitless_gc_pause_max_seconds', '', true)),
      byKind,
    },
    connections: {
      tlsNew: counter('hitless_tls_connections_total', 'session="new"'),
      tlsResumed: counter('hitless_tls_connections_total', 'session="resumed"'),
      reviewsOnNew: counter('hitless_review_connections_total', 'connection="new"'),
      reviewsOnReused: counter('hitless_review_connections_total', 'connection="reused"'),
    },
    ...(apiserver ? { apiserver } : {}),
  }
}

const cell = (t: Timing | undefined) => (t ? `${t.p50Ms} / ${t.p99Ms} ms` : '–')

/** One Markdown table row: run | API server p50 / p99 | hitless p50 / p99 / max ≤ | loop delay p99 / max | GC total / max | reviews on new / reused connections | TLS new / resumed. */
export function attributionRow(run: string, row: Attribution): string {
  const own = row.hitless ? `${row.hitless.p50Ms} / ${row.hitless.p99Ms} / ≤ ${row.hitless.maxAtMostMs} ms` : '–'
  const loop = row.loopDelay ? `${row.loopDelay.p99Ms} / ${row.loopDelay.maxMs} ms` : '–'
  const { tlsNew, tlsResumed, reviewsOnNew, reviewsOnReused } = row.connections
  const kinds = Object.entries(row.gc.byKind).map(([kind, { pauses, maxAtMostMs }]) => `${pauses} ${kind} ≤ ${maxAtMostMs} ms`)
  const gc = `${row.gc.pauses}: ${row.gc.totalMs} / ${row.gc.maxMs} ms${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`
  return `| ${run} | ${row.apiserver?.count ?? 0} | ${cell(row.apiserver)} | ${own} | ${loop} | ${gc} | ${reviewsOnNew} / ${reviewsOnReused} | ${tlsNew} / ${tlsResumed} |`
}

export const ATTRIBUTION_HEADER = [
  '| run | calls | API server p50 / p99 | hitless p50 / p99 / max | loop delay p99 / max | GC pauses: total / max (by kind: count, longest at most) | reviews on new / reused connections | TLS handshakes new / resumed |',
  '|---|---|---|---|---|---|---|---|',
].join('\n')
