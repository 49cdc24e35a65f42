// The rollout proof's baseline webhook: allows every AdmissionReview and does nothing else. It runs in
// hitless's own image (its node, mounted from a ConfigMap as a .mts file) in place of hitless, with the
// shipped Deployment's environment, Service, probes and webhook configurations, so that the API server's
// timing of it is what the node, the Service path and TLS cost without any of hitless's work.
// Only node: built-ins and erasable syntax: the image runs it by type stripping, outside the repo.
import { readFileSync } from 'node:fs'
import { createServer as createHttp } from 'node:http'
import { createServer as createHttps } from 'node:https'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const env = (name: string, fallback: string) => process.env[name] ?? fallback
const tls = { cert: readFileSync(env('HITLESS_TLS_CERT', '/etc/hitless/tls/tls.crt')), key: readFileSync(env('HITLESS_TLS_KEY', '/etc/hitless/tls/tls.key')) }
const LIMIT = 3 * 1024 * 1024
let reviews = 0
// How late its event loop runs, sampled as hitless samples its own (a timer every 10 ms): what the
// node's CPU share does to a process that has nothing else to do.
const RESOLUTION_MS = 10
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
loop.enable()
const lateMs = (nanos: number) => Math.round(Math.max(0, nanos / 1e6 - RESOLUTION_MS) * 1000) / 1000

/** The loop delay since the last call, then a fresh start. */
function loopSinceLast(): string {
  const since = { count: loop.count, p50Ms: lateMs(loop.percentile(50)), p99Ms: lateMs(loop.percentile(99)), maxMs: lateMs(loop.max) }
  loop.reset()
  return JSON.stringify(since)
}

const server = createHttps({ ...tls, minVersion: 'TLSv1.2', keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size <= LIMIT) chunks.push(chunk)
  })
  req.on('end', () => {
    let uid: unknown
    try {
      uid = size <= LIMIT ? JSON.parse(Buffer.concat(chunks).toString('utf8'))?.request?.uid : undefined
    } catch {}
    if (req.method !== 'POST' || typeof uid !== 'string') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('an AdmissionReview with request.uid, by POST\n')
      return
    }
    reviews++
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  })
})

// /healthz and /readyz on the plain-HTTP probe port, as hitless answers them; /reviews: how many it
// allowed; /loop: its loop delay since the last /loop.
const probes = createHttp((req, res) => {
  const answer = req.url === '/healthz' || req.url === '/readyz' ? 'ok' : req.url === '/reviews' ? String(reviews) : req.url === '/loop' ? loopSinceLast() : undefined
  res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(`${answer ?? 'not found'}\n`)
})

server.listen(Number(env('HITLESS_PORT', '8443')), () => console.log(JSON.stringify({ msg: 'allow-all webhook listening', port: Number(env('HITLESS_PORT', '8443')) })))
probes.listen(Number(env('HITLESS_PROBE_PORT', '8081')))
process.on('SIGTERM', () => {
  probes.close()
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
