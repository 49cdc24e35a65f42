// A bounded write load against the API server for the installed-hitless e2e: `rate` updates a second for
// `seconds` (a merge patch of an annotation on one of many Deployments, round robin, so that two writes
// rarely race for one object and the API server re-admits a conflicting patch), each through
// hitless's webhooks, each ending as ok or failed with the API server's status and message. Only to the
// test cluster's API server, over kept-alive connections as a controller's client would; every request
// has a timeout, the loop ends after `seconds`.
import { Agent, request } from 'node:https'

export interface WriteOptions {
  apiUrl: string
  ca: string
  token: string
  namespace: string
  deployments: string[]
  rate: number
  seconds: number
  timeoutMs: number
  /** Each called once, `second` seconds after the first write. */
  events?: { second: number; run: () => void | Promise<void> }[]
}

export interface WriteResult {
  writes: number
  ok: number
  failed: number
  /** Failed writes by their message (first 240 characters), with the second each first happened. */
  failures: Record<string, { count: number; firstSecond: number }>
}

function patch(options: WriteOptions, agent: Agent, name: string, value: string): Promise<{ status: number; message: string }> {
  const body = JSON.stringify({ metadata: { annotations: { 'hitless.test/write': value } } })
  return new Promise((resolve) => {
    const req = request(`${options.apiUrl}/apis/apps/v1/namespaces/${options.namespace}/deployments/${name}`, {
      method: 'PATCH',
      ca: options.ca,
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/merge-patch+json', 'content-length': Buffer.byteLength(body) },
      timeout: options.timeoutMs,
      agent,
    }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => {
        let message = ''
        if (res.statusCode !== 200) {
          try {
            message = JSON.parse(text).message ?? text
          } catch {
            message = text
          }
        }
        resolve({ status: res.statusCode ?? 0, message })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.on('error', (error) => resolve({ status: 0, message: error.message }))
    req.end(body)
  })
}

export async function runWrites(options: WriteOptions): Promise<WriteResult> {
  const result: WriteResult = { writes: 0, ok: 0, failed: 0, failures: {} }
  const started = performance.now()
  const total = options.rate * options.seconds
  const pending: Promise<void>[] = []
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  const events = (options.events ?? []).map((event) => new Promise<void>((resolve) => setTimeout(async () => {
    await event.run()
    resolve()
  }, event.second * 1000)))
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / options.rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const second = Math.floor((performance.now() - started) / 1000)
    const name = options.deployments[i % options.deployments.length]!
    pending.push(patch(options, agent, name, String(i)).then(({ status, message }) => {
      result.writes++
      if (status === 200) {
        result.ok++
        return
      }
      result.failed++
      const key = `${status} ${message}`.slice(0, 240)
      const entry = (result.failures[key] ??= { count: 0, firstSecond: second })
      entry.count++
    }))
  }
  await Promise.all([...pending, ...events])
  agent.destroy()
  return result
}
