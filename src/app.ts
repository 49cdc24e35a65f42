// buildApp(deps) → a Fastify instance with every route and no listener, so tests can inject requests
// and server.ts decides about ports, TLS and signals.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type { SecureContextOptions } from 'node:tls'
import { handleAdmission } from './admission/handle.ts'
import type { Endpoint } from './engine/decide.ts'
import type { ReviewEnvironment } from './engine/judge.ts'
import type { Policy } from './engine/policy.ts'
import { AdmissionBudget, type BudgetLimits } from './http/admission-budget.ts'
import { TIMEOUTS } from './http/connections.ts'
import { structureProblem } from './http/json-body.ts'
import { probeAnswer, type Readiness } from './http/probes.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { TLS_SETTINGS } from './tls/policy.ts'

// An AdmissionReview carries the object (the API server takes request bodies up to 3 MiB) and the old
// object (stored, so within etcd's 1.5 MiB), in compact JSON: 6 MiB leaves a third to spare.
export const DEFAULT_BODY_LIMIT = 6 * 1024 * 1024

/**
 * Bodies in flight at once: three maximal reviews (each up to ~50 MiB of heap once parsed within the
 * structure limits) fit the shipped 512 MiB memory limit with room; typical reviews are a few KiB.
 */
export const DEFAULT_BUDGET: BudgetLimits = { maxBytes: 3 * DEFAULT_BODY_LIMIT, maxRequests: 256 }

/** Bodies up to this size are parsed at once; larger ones are counted first (see json-body.ts). */
const SCAN_ABOVE_BYTES = 256 * 1024

export { TIMEOUTS }
export type { Readiness }

export interface AppOptions {
  /** The policy to judge with; a function so a reloaded config takes effect on the next review. */
  policy: () => Policy
  logger?: FastifyBaseLogger
  https?: SecureContextOptions
  bodyLimit?: number
  readiness?: () => Readiness
  /** Namespaces and the clock; without it, no namespace is known. */
  environment?: ReviewEnvironment
  metrics?: Metrics
  budget?: BudgetLimits
  /** While true (shutting down), answers carry Connection: close so clients drop pooled connections. */
  closing?: () => boolean
}

function clientError(error: FastifyError, bodyLimit: number): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body is larger than ${bodyLimit} bytes`
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Content-Type must be application/json'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body is empty: expected an AdmissionReview'
    default:
      return error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? `malformed JSON: ${error.message}`
        : error.message
  }
}

export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const metrics = options.metrics ?? createMetrics()
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    ...(options.https
      ? { https: { ...options.https, ...TLS_SETTINGS, headersTimeout: TIMEOUTS.headersMs, connectionsCheckingInterval: 1000 } }
      : {}),
    bodyLimit,
    requestTimeout: TIMEOUTS.requestMs,
    keepAliveTimeout: TIMEOUTS.keepAliveMs,
    // One decision line per review replaces Fastify's two per-request lines.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: the decision line carries the review's uid, the id that matters.
    childLoggerFactory: (logger) => logger,
    // A request that arrives on an open connection while closing is answered (with Connection: close),
    // not refused: the API server would count a 503 as a failed call.
    return503OnClosing: false,
  }) as unknown as FastifyInstance

  // AdmissionReviews are JSON; anything else is answered 415 rather than parsed as text. The JSON parser
  // is Fastify's own (with its prototype-poisoning guard), behind a count of what the body would build.
  app.removeContentTypeParser(['text/plain', 'application/json'])
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    // Below the threshold a body cannot build enough to matter (two bytes per value at least): the
    // reviews the API server sends every second are never scanned twice.
    const problem = (body as Buffer).length > SCAN_ABOVE_BYTES ? structureProblem(body as Buffer) : undefined
    if (problem) {
      metrics.refused('too-complex')
      return done(Object.assign(new Error(`body too complex: ${problem}`), { statusCode: 413 }), undefined)
    }
    parseJson(request, (body as Buffer).toString('utf8'), done)
  })

  // Shed load before memory runs out (see AdmissionBudget), and refuse bodies over the limit before
  // reading them; the rest of such a body is read and dropped, so the client sees the 413, not a reset.
  const budget = new AdmissionBudget(options.budget ?? DEFAULT_BUDGET)
  // Callback-style hooks: they run on every review, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'POST') return done()
    const declared = Number(request.headers['content-length'])
    if (Number.isFinite(declared) && declared > bodyLimit) {
      metrics.refused('too-large')
      request.raw.resume()
      return reply.code(413).send({ error: `body is larger than ${bodyLimit} bytes` })
    }
    const release = budget.take(Number.isFinite(declared) ? declared : bodyLimit)
    if (!release) {
      metrics.refused('overloaded')
      request.raw.resume()
      request.log.warn({ url: request.url, inFlight: budget.inFlight }, 'shedding load: too many review bytes in flight')
      return reply.code(503).header('retry-after', '1').send({ error: 'hitless is at capacity; retry' })
    }
    // Released when the answer is sent or the connection goes, whichever comes first.
    reply.raw.once('close', release)
    done()
  })
  if (options.closing) {
    const closing = options.closing
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing()) reply.header('connection', 'close')
      done(null, payload)
    })
  }
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode = error.statusCode ?? 500
    if (statusCode >= 500) {
      request.log.error({ err: error, url: request.url }, 'internal error while handling a review')
      return reply.code(500).send({ error: 'internal error; see the hitless log' })
    }
    const message = clientError(error, bodyLimit)
    request.log.warn({ url: request.url, statusCode, error: message }, 'rejected request')
    return reply.code(statusCode).send({ error: message })
  })
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route for ${request.method} ${request.url}` }))

  const review = (endpoint: Endpoint) =>
    app.post(`/${endpoint}`, (request, reply) => {
      const handled = handleAdmission(request.body, endpoint, options.policy(), options.environment)
      const elapsed = reply.elapsedTime
      // The answer first (every hook is callback-style, so it is written to the socket now), then the
      // bookkeeping: the decision line (serialised here, handed to libuv's pool for stdout, decision
      // 0046) and the metrics; the API server need not wait for them (BENCHMARKS.md, Latency attribution).
      reply.code(handled.statusCode).send(handled.body)
      metrics.observe(handled, elapsed / 1000)
      metrics.runtime?.reviewOn(request.raw.socket)
      const level = handled.log.decision === 'bad-request' ? 'warn' : 'info'
      request.log[level]({ ...handled.log, latencyMs: Math.round(elapsed * 1000) / 1000 }, 'admission decision')
    })
  review('mutate')
  review('validate')

  const readiness = options.readiness ?? (() => ({ ready: true, reasons: [] }))
  for (const path of ['/healthz', '/readyz']) {
    app.get(path, async (_request, reply) => {
      const answer = probeAnswer(path, readiness)!
      return reply.code(answer.status).send(answer.body)
    })
  }
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  )
  return app
}
