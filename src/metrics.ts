// Prometheus metrics (GET /metrics). Counted from the same Decision the answer is built from. Dry-run
// reviews count in hitless_reviews_total (labelled) but not in the rule and exemption counters, which
// report what happened to real objects.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { HandledReview } from './admission/handle.ts'
import { STDOUT_MAX_WAITING_BYTES } from './log/log.ts'
import { createRuntimeMetrics, type RuntimeMetrics } from './runtime-metrics.ts'

export interface Metrics {
  registry: Registry
  observe(handled: HandledReview, seconds: number): void
  /** The serving certificate's notAfter, set at start and on every reload. */
  certificateExpiry(expiry: Date): void
  /** A request refused before it was read: over the body limit, or no room in the in-flight budget. */
  refused(reason: 'too-large' | 'overloaded' | 'too-complex'): void
  /** Event loop, GC and connections, with the process metrics (a serving replica). */
  runtime?: RuntimeMetrics
  /** A connection closed by hitless: evicted at the connection cap, or idle without a review. */
  connectionClosed(reason: 'evicted' | 'idle'): void
}

export interface CachedKindState {
  kind: string
  synced: boolean
  restarts?: { quiet: number; error: number }
  relists?: number
  lastEventAt?: number
}

export interface MetricsOptions {
  processMetrics?: boolean
  /** Per cached kind: synced, watch restarts by cause, re-lists, last event; read at scrape time. */
  cacheState?: () => CachedKindState[]
  /** Whether the API server answers the liveness probe (undefined before the first probe). */
  apiserverReachable?: () => boolean | undefined
  /** Current findings over the live objects, from the report scan; read at scrape time. */
  violations?: () => { rule: string; namespace: string; action: string; count: number }[]
  /** Log lines dropped because stdout was not read (src/log/log.ts); read at scrape time. */
  logDrops?: () => number
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  if (options.processMetrics) collectDefaultMetrics({ register: registry })
  const runtime = options.processMetrics ? createRuntimeMetrics(registry) : undefined
  const logDrops = options.logDrops
  if (logDrops) {
    new Counter({
      name: 'hitless_log_lines_dropped_total',
      help: `Log lines dropped because ${STDOUT_MAX_WAITING_BYTES / (1024 * 1024)} MiB of lines were already waiting for stdout (its reader stalled).`,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(logDrops())
      },
    })
  }
  const cacheState = options.cacheState
  if (cacheState) {
    new Gauge({
      name: 'hitless_cluster_cache_synced',
      help: 'Whether the cluster cache has listed this kind and is watching it (1) or not (0).',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        for (const { kind, synced } of cacheState()) this.set({ kind }, synced ? 1 : 0)
      },
    })
    // Counted by the reflectors; read (not incremented) here, so the values are theirs.
    new Counter({
      name: 'hitless_cluster_watch_restarts_total',
      help: 'Watches started again, by kind and cause: quiet (the server ended it on schedule) or error (it broke).',
      labelNames: ['kind', 'cause'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const { kind, restarts } of cacheState()) {
          this.inc({ kind, cause: 'quiet' }, restarts?.quiet ?? 0)
          this.inc({ kind, cause: 'error' }, restarts?.error ?? 0)
        }
      },
    })
    new Counter({
      name: 'hitless_cluster_relists_total',
      help: 'Full lists after the first, by kind (only after 410 Gone or a failed list).',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const { kind, relists } of cacheState()) this.inc({ kind }, relists ?? 0)
      },
    })
    new Gauge({
      name: 'hitless_cluster_last_event_age_seconds',
      help: 'Seconds since the last watch event (bookmarks included) or watch start, by kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        this.reset()
        const now = Date.now()
        for (const { kind, lastEventAt } of cacheState()) if (lastEventAt !== undefined) this.set({ kind }, (now - lastEventAt) / 1000)
      },
    })
  }
  const apiserverReachable = options.apiserverReachable
  if (apiserverReachable) {
    new Gauge({
      name: 'hitless_apiserver_reachable',
      help: 'Whether the API server answers the liveness probe (1) or has not answered for the dead-after time (0).',
      registers: [registry],
      collect() {
        const reachable = apiserverReachable()
        if (reachable !== undefined) this.set(reachable ? 1 : 0)
      },
    })
  }
  const violations = options.violations
  if (violations) {
    new Gauge({
      name: 'hitless_violations',
      help: 'Findings over the objects in the cluster at the last report scan, by rule, namespace and what the webhook does with them (deny, would-deny, patch, would-patch, warn, exempt). Exported by the replica that writes the reports.',
      labelNames: ['rule', 'namespace', 'action'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const { rule, namespace, action, count } of violations()) this.set({ rule, namespace, action }, count)
      },
    })
  }
  const expiry = new Gauge({
    name: 'hitless_certificate_expiry_timestamp_seconds',
    help: 'When the serving certificate expires (Unix time).',
    registers: [registry],
  })
  const reviews = new Counter({
    name: 'hitless_reviews_total',
    help: 'Admission reviews answered, by endpoint, operation, kind and decision.',
    labelNames: ['endpoint', 'operation', 'kind', 'decision', 'dry_run'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'hitless_review_duration_seconds',
    help: 'Time from request start to answer, per endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  const ruleResults = new Counter({
    name: 'hitless_rule_results_total',
    help: 'Findings by rule, configured action and what was done (deny, patch, warn, exempt, would-deny, would-patch).',
    labelNames: ['rule', 'action', 'outcome'] as const,
    registers: [registry],
  })
  const exemptions = new Counter({
    name: 'hitless_exemptions_total',
    help: 'Honoured exemptions, by rule and where the annotation was (object or namespace).',
    labelNames: ['rule', 'source'] as const,
    registers: [registry],
  })
  const refusedRequests = new Counter({
    name: 'hitless_requests_refused_total',
    help: 'Requests refused to protect the replica: too-large (over the body limit), too-complex (past the structure limits), overloaded (shed: the in-flight budget was full).',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const closedConnections = new Counter({
    name: 'hitless_connections_closed_total',
    help: 'Connections hitless closed: evicted (at the connection cap, to make room for a new one), idle (no review completed within the short idle timeout).',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  return {
    registry,
    ...(runtime ? { runtime } : {}),
    refused(reason) {
      refusedRequests.inc({ reason })
    },
    connectionClosed(reason) {
      closedConnections.inc({ reason })
    },
    certificateExpiry(notAfter) {
      expiry.set(Math.floor(notAfter.getTime() / 1000))
    },
    observe(handled, seconds) {
      const log = handled.log
      const dryRun = log.dryRun === true
      reviews.inc({ endpoint: log.endpoint, operation: log.operation ?? '', kind: log.kind ?? '', decision: log.decision, dry_run: String(dryRun) })
      duration.observe({ endpoint: log.endpoint }, seconds)
      if (dryRun) return
      for (const fired of log.rules ?? []) ruleResults.inc({ rule: fired.rule, action: fired.action, outcome: fired.outcome })
      for (const exempted of log.exempted ?? []) exemptions.inc({ rule: exempted.rule, source: exempted.source })
    },
  }
}
