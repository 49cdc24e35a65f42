// The outside world: listen with TLS, answer signals, close gracefully. Everything else is in app.ts.
import { X509Certificate } from 'node:crypto'
import type { Server } from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import { buildApp, type Readiness } from './app.ts'
import type { Policy } from './engine/policy.ts'
import type { ReviewEnvironment } from './engine/judge.ts'
import type { Logger } from './log/log.ts'
import { DEFAULT_CONNECTION_LIMITS, guardConnections, type ConnectionLimits } from './http/connections.ts'
import { listenForProbes, type ProbeListener } from './http/probes.ts'
import { createMetrics, type MetricsOptions } from './metrics.ts'
import { watchCertificates, type CertificateFiles, type CertificateWatcher } from './tls/reload.ts'
import { DEFAULT_WARM_UP, warmUp, type WarmUpLimits, type WarmUpResult } from './warm-up.ts'

export interface ServerOptions {
  host: string
  port: number
  tls: { cert: string; key: string }
  policy: Policy
  logger: Logger
  bodyLimit?: number
  environment?: ReviewEnvironment
  /** More readiness conditions (the cluster cache); shutting down is always one. */
  readiness?: () => Readiness
  /** Where the certificate came from: watched and reloaded when it changes. */
  tlsFiles?: CertificateFiles
  /** Cluster cache state for the metrics. */
  cacheState?: MetricsOptions['cacheState']
  violations?: MetricsOptions['violations']
  logDrops?: MetricsOptions['logDrops']
  apiserverReachable?: MetricsOptions['apiserverReachable']
  /**
   * After SIGTERM, how long to keep answering (with /readyz failing) before closing, so callers that
   * have not yet seen the endpoint go away are still served.
   */
  drainDelayMs?: number
  /** Upper bound for a graceful close before the process gives up on in-flight requests. */
  shutdownTimeoutMs?: number
  maxConnections?: number
  /** The connection guard's other limits (src/http/connections.ts); the defaults are the shipped ones. */
  connectionLimits?: Partial<Omit<ConnectionLimits, 'maxConnections'>>
  /** Told the serving certificate (PEM) at start and after every reload: the install checks. */
  onCertificate?: (cert: string) => void
  /** Plain-HTTP port for /healthz and /readyz only (0 picks a free one); none when undefined. */
  probePort?: number
  /**
   * Judge built-in sample reviews before /readyz passes (src/warm-up.ts): true for the default
   * limits. Off when undefined; `hitless serve` turns it on.
   */
  warmUp?: boolean | WarmUpLimits
}

export interface RunningServer {
  app: FastifyInstance
  /** The certificate watcher, when the certificate came from files. */
  certificates?: CertificateWatcher
  /** The address actually bound (port 0 picks a free one). */
  url: string
  /** The probe listener's address, when there is one. */
  probeUrl?: string
  /** Settles once the warm-up is over and readiness no longer waits for it (undefined: no warm-up, or it failed). */
  warmedUp: Promise<WarmUpResult | undefined>
  close(): Promise<void>
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  let closing = false
  const metrics = createMetrics({
    processMetrics: true,
    ...(options.cacheState ? { cacheState: options.cacheState } : {}),
    ...(options.violations ? { violations: options.violations } : {}),
    ...(options.logDrops ? { logDrops: options.logDrops } : {}),
    ...(options.apiserverReachable ? { apiserverReachable: options.apiserverReachable } : {}),
  })
  // Not ready until warmed up: the API server sends reviews only to ready endpoints.
  let warming = Boolean(options.warmUp)
  const readiness = (): Readiness => {
    const extra = options.readiness?.() ?? { ready: true, reasons: [] }
    if (closing) return { ...extra, ready: false, reasons: ['shutting down', ...extra.reasons] }
    return warming ? { ...extra, ready: false, reasons: ['warming up', ...extra.reasons] } : extra
  }
  const app = buildApp({
    policy: () => options.policy,
    logger: options.logger,
    https: options.tls,
    readiness,
    metrics,
    closing: () => closing,
    ...(options.environment ? { environment: options.environment } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  })
  // Each TLS connection costs tens of KiB: a cap, where a newcomer replaces the least useful connection.
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits, ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}) }
  const guard = guardConnections(app.server, limits, (reason) =>
    metrics.connectionClosed(reason),
  )
  // New TLS connections vs resumed ones: each new one costs the API server a handshake.
  if (metrics.runtime) {
    const runtime = metrics.runtime
    app.server.on('secureConnection', (socket: TLSSocket) => runtime.tlsConnection(socket))
    app.addHook('onClose', (_instance, done) => {
      runtime.stop()
      done()
    })
  }
  const warmUpLimits = options.warmUp === true ? DEFAULT_WARM_UP : options.warmUp || undefined
  const warmedUp = warmUpLimits
    ? warmUp(() => options.policy, options.environment, warmUpLimits).then(
        (result) => {
          options.logger.info(result, 'warmed up')
          return result
        },
        (error: unknown) => {
          options.logger.warn({ err: error }, 'warm-up failed; serving without it')
          return undefined
        },
      ).finally(() => (warming = false))
    : Promise.resolve(undefined)
  let probes: ProbeListener | undefined
  if (options.probePort !== undefined) probes = await listenForProbes(options.host, options.probePort, readiness)
  try {
    await app.listen({ host: options.host, port: options.port })
  } catch (error) {
    await probes?.close()
    throw error
  }
  const installed = (expiry: Date, cert: string) => {
    metrics.certificateExpiry(expiry)
    options.onCertificate?.(cert)
  }
  const certificates = options.tlsFiles ? watchCertificates(options.tlsFiles, app.server as Server, options.logger, installed) : undefined
  if (certificates) await certificates.reload()
  else installed(new Date(new X509Certificate(options.tls.cert).validTo), options.tls.cert)
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    app,
    url: `https://${host}:${port}`,
    ...(probes ? { probeUrl: probes.url } : {}),
    certificates,
    warmedUp,
    async close() {
      if (closing) return
      // From now on every answer says Connection: close, so clients drop their pooled connections one
      // by one after a response instead of finding them reset. After the drain, closing the server
      // stops accepting and closes the connections idle since before the drain; a request that still
      // arrives on an open connection is answered, and a connection that has not sent one yet keeps
      // its short deadline (the guard's sweep). It resolves once the last connection is gone.
      closing = true
      if (options.drainDelayMs) await new Promise((resolve) => setTimeout(resolve, options.drainDelayMs))
      certificates?.close()
      const timeout = options.shutdownTimeoutMs ?? 10_000
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        app.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            options.logger.warn({ timeoutMs: timeout }, 'graceful close timed out; closing remaining connections')
            app.server.closeAllConnections()
            resolve()
          }, timeout)
        }),
      ])
      clearTimeout(timer)
      guard.stop()
      await probes?.close()
    },
  }
}

/** Closes the server on SIGTERM/SIGINT, then exits. */
export function closeOnSignals(server: RunningServer, logger: Logger, beforeExit: () => void = () => {}): void {
  let stopping = false
  const stop = (signal: NodeJS.Signals | 'disconnect') => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    server.close().then(() => beforeExit()).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // Started by a supervisor over an IPC channel (a test runner, a process manager): when it goes away
  // without a signal (it was killed itself), close as on SIGTERM instead of living on as an orphan.
  if (process.channel) process.once('disconnect', () => stop('disconnect'))
}
