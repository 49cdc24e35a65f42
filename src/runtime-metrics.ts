// What the process itself does to a review's latency, for /metrics: how late the event loop runs
// (perf_hooks.monitorEventLoopDelay), garbage-collection pauses, and TLS connections new vs resumed and
// reviews on a new vs a reused connection (each new connection costs the API server a handshake).
// Cumulative since start, so the difference of two scrapes is what happened in between.
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Sampling period of the loop-delay monitor: a timer this often (the delay is how late it fires). */
const LOOP_RESOLUTION_MS = 10
const LOOP_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
const GC_BUCKETS = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1]
/**
 * perf_hooks' GC kinds: minor (a scavenge of the young generation), major (mark-compact of the whole
 * heap), incremental (a step of incremental marking), weakcb (weak callbacks). A long minor pause means
 * many survivors; a long major one, a large heap.
 */
const GC_KINDS = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
])

export interface RuntimeMetrics {
  /** A TLS handshake finished (the server's secureConnection event). */
  tlsConnection(socket: TLSSocket): void
  /** A review arrived on this socket: the first on it, or one more on a kept-alive connection. */
  reviewOn(socket: Socket): void
  stop(): void
}

/**
 * Cumulative buckets of the loop delay from the monitor's percentiles (it keeps an HDR histogram, not
 * buckets): a bucket counts the share of samples whose delay is at most its bound. Each sample is the
 * time between two timer runs, so the delay is that less the resolution.
 */
export function loopDelayBuckets(histogram: Pick<ReturnType<typeof monitorEventLoopDelay>, 'count' | 'percentiles'>, bounds: readonly number[], resolutionMs: number): number[] {
  const points = [...histogram.percentiles.entries()].map(([percentile, nanos]) => ({ share: percentile / 100, seconds: Math.max(0, nanos / 1e9 - resolutionMs / 1000) }))
  return bounds.map((bound) => {
    let share = 0
    for (const point of points) if (point.seconds <= bound && point.share > share) share = point.share
    return Math.round(share * histogram.count)
  })
}

export function createRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  loop.enable()
  // Exposed as a Prometheus histogram built at scrape time from the monitor's own histogram.
  registry.registerMetric({
    name: 'hitless_event_loop_delay_seconds',
    get: async () => {
      const counts = loopDelayBuckets(loop, LOOP_BUCKETS, LOOP_RESOLUTION_MS)
      const count = loop.count
      const sum = count > 0 ? Math.max(0, loop.mean / 1e9 - LOOP_RESOLUTION_MS / 1000) * count : 0
      return {
        name: 'hitless_event_loop_delay_seconds',
        help: `How late the event loop ran a timer due every ${LOOP_RESOLUTION_MS} ms (perf_hooks.monitorEventLoopDelay), since start; buckets from its percentiles.`,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...LOOP_BUCKETS.map((le, i) => ({ metricName: 'hitless_event_loop_delay_seconds_bucket', labels: { le }, value: counts[i]! })),
          { metricName: 'hitless_event_loop_delay_seconds_bucket', labels: { le: '+Inf' }, value: count },
          { metricName: 'hitless_event_loop_delay_seconds_sum', labels: {}, value: sum },
          { metricName: 'hitless_event_loop_delay_seconds_count', labels: {}, value: count },
        ],
      }
    },
    reset: () => loop.reset(),
  } as unknown as Parameters<Registry['registerMetric']>[0])
  new Gauge({
    name: 'hitless_event_loop_delay_max_seconds',
    help: 'The longest the event loop was late since start.',
    registers: [registry],
    collect() {
      this.set(loop.count > 0 ? Math.max(0, loop.max / 1e9 - LOOP_RESOLUTION_MS / 1000) : 0)
    },
  })

  const gcPauses = new Histogram({
    name: 'hitless_gc_pause_seconds',
    help: 'Garbage-collection pauses, by kind: minor (scavenge), major (mark-compact), incremental (marking step), weakcb.',
    labelNames: ['kind'] as const,
    buckets: GC_BUCKETS,
    registers: [registry],
  })
  const gcMax = new Gauge({ name: 'hitless_gc_pause_max_seconds', help: 'The longest garbage-collection pause since start.', registers: [registry] })
  let longest = 0
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      gcPauses.observe({ kind: (kind !== undefined && GC_KINDS.get(kind)) || 'other' }, entry.duration / 1000)
      if (entry.duration > longest) gcMax.set((longest = entry.duration) / 1000)
    }
  })
  gc.observe({ entryTypes: ['gc'] })

  const tls = new Counter({
    name: 'hitless_tls_connections_total',
    help: 'TLS connections accepted, by session: new (a full handshake) or resumed (a session ticket or id).',
    labelNames: ['session'] as const,
    registers: [registry],
  })
  const reviews = new Counter({
    name: 'hitless_review_connections_total',
    help: 'Reviews by connection: new (the first request on its connection) or reused (a kept-alive one).',
    labelNames: ['connection'] as const,
    registers: [registry],
  })
  const seen = new WeakSet<Socket>()
  return {
    tlsConnection(socket) {
      tls.inc({ session: socket.isSessionReused() ? 'resumed' : 'new' })
    },
    reviewOn(socket) {
      if (seen.has(socket)) return reviews.inc({ connection: 'reused' })
      seen.add(socket)
      reviews.inc({ connection: 'new' })
    },
    stop() {
      loop.disable()
      gc.disconnect()
    },
  }
}
