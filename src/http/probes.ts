// /healthz and /readyz on a plain-HTTP listener of their own (as kube-apiserver and controller-runtime
// serve theirs), so the kubelet's probes never queue behind admission connections: whatever a client
// does to the HTTPS port, the probes are answered. It serves nothing else, reads no body and holds few
// connections (the kubelet opens one per probe and closes it).
import { createServer, type Server } from 'node:http'
import { guardConnections, TIMEOUTS, type ConnectionGuard } from './connections.ts'

export interface Readiness {
  ready: boolean
  reasons: string[]
  /** Details worth seeing when something is off (cluster cache state per kind). */
  detail?: Record<string, unknown>
}

/** The answer to a probe, the same on either listener. */
export function probeAnswer(path: string, readiness: () => Readiness): { status: number; body: unknown } | undefined {
  if (path === '/healthz') return { status: 200, body: { ok: true } }
  if (path === '/readyz') {
    const state = readiness()
    return { status: state.ready ? 200 : 503, body: state }
  }
  return undefined
}

export interface ProbeListener {
  server: Server
  guard: ConnectionGuard
  url: string
  close(): Promise<void>
}

/**
 * The kubelet opens one connection per probe and sends at once: few connections, each closed 2 s
 * after its answer. The deadlines to send a request are the admission port's: a replica busy with
 * TLS handshakes may read the probe's headers late, and that must not fail the probe.
 */
const PROBE_LIMITS = { maxConnections: 64, idleWithoutReviewMs: 2_000, graceMs: 1_000 }

export async function listenForProbes(host: string, port: number, readiness: () => Readiness): Promise<ProbeListener> {
  const server = createServer({ headersTimeout: TIMEOUTS.headersMs, requestTimeout: TIMEOUTS.requestMs, keepAliveTimeout: 2_000, connectionsCheckingInterval: 1_000 }, (request, response) => {
    const path = (request.url ?? '').split('?')[0]!
    const answer = request.method === 'GET' || request.method === 'HEAD' ? probeAnswer(path, readiness) : undefined
    const { status, body } = answer ?? { status: 404, body: { error: `only GET /healthz and /readyz here; ${request.method} ${path} is not` } }
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    response.end(JSON.stringify(body))
    request.resume()
  })
  const guard = guardConnections(server, PROBE_LIMITS)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  return {
    server,
    guard,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        guard.stop()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
