// A closed-loop HTTPS load generator: `concurrency` keep-alive connections, each sending the next
// request when the last answered, stopping at a request count or a time limit, whichever comes first.
import { Agent, request } from 'node:https'

export interface LoadOptions {
  port: number
  path: string
  ca: string
  bodies: readonly string[]
  concurrency: number
  requests: number
  maxSeconds: number
}

export interface LoadResult {
  requests: number
  errors: number
  seconds: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
}

function post(agent: Agent, options: LoadOptions, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: 'POST',
        agent,
        ca: options.ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const latencies = new Float64Array(options.requests)
  let issued = 0
  let completed = 0
  let errors = 0
  const start = performance.now()
  const deadline = start + options.maxSeconds * 1000
  const worker = async () => {
    while (issued < options.requests && performance.now() < deadline) {
      const body = options.bodies[issued % options.bodies.length]!
      issued++
      const sent = performance.now()
      try {
        const status = await post(agent, options, body)
        if (status !== 200) errors++
      } catch {
        errors++
      }
      latencies[completed++] = performance.now() - sent
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const seconds = (performance.now() - start) / 1000
  agent.destroy()
  const sorted = latencies.slice(0, completed).sort()
  return {
    requests: completed,
    errors,
    seconds,
    requestsPerSecond: completed / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  }
}
