// buildApp(deps) → a Fastify instance with every route and no listener, so tests can inject requests
// and server.ts decides about ports, TLS and signals.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type { SecureContextOptions } from 'node:tls'
import { handleAdmission } from './admission/handle.ts'
import type { Endpoint } from './engine/decide.ts'
import type { ReviewEnvironment } from './engine/judge.ts'
import type { Policy } from './engine/policy.ts'
import { createMetrics, type Metrics } from './metrics.ts'

// An AdmissionReview carries the object and the old object, each up to etcd's 1.5 MiB limit, plus
// managedFields; the API server itself accepts 3 MiB request bodies.
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024

export interface Readiness {
  ready: boolean
  reasons: string[]
  /** Details worth seeing when something is off (cluster cache state per kind). */
  detail?: Record<string, unknown>
}

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
    ...(options.https ? { https: { ...options.https, minVersion: 'TLSv1.2' as const } } : {}),
    bodyLimit,
    // One decision line per review replaces Fastify's two per-request lines.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: the decision line carries the review's uid, the id that matters.
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
  }) as unknown as FastifyInstance

  // AdmissionReviews are JSON; anything else is answered 415 rather than parsed as text.
  app.removeContentTypeParser('text/plain')
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
    app.post(`/${endpoint}`, async (request, reply) => {
      const handled = handleAdmission(request.body, endpoint, options.policy(), options.environment)
      const latencyMs = Math.round(reply.elapsedTime * 1000) / 1000
      metrics.observe(handled, reply.elapsedTime / 1000)
      const level = handled.log.decision === 'bad-request' ? 'warn' : 'info'
      request.log[level]({ ...handled.log, latencyMs }, 'admission decision')
      return reply.code(handled.statusCode).send(handled.body)
    })
  review('mutate')
  review('validate')

  app.get('/healthz', async () => ({ ok: true }))
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  )
  app.get('/readyz', async (_request, reply) => {
    const state = options.readiness?.() ?? { ready: true, reasons: [] }
    return reply.code(state.ready ? 200 : 503).send(state)
  })
  return app
}
