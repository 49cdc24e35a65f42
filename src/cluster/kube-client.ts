// The two calls the cache makes, both through @kubernetes/client-node's KubeConfig (auth, TLS,
// in-cluster service account): plain JSON requests (lists, /version, the report writer's writes) and
// its Watch for event streams.
// Lists are parsed as plain JSON, not through the generated model classes: the cache keeps a few
// fields of 100k objects and the model layer would cost seconds.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https'
import { KubeConfig, Watch } from '@kubernetes/client-node'

export class KubeHttpError extends Error {
  readonly statusCode: number
  constructor(statusCode: number, message: string) {
    super(message)
    this.statusCode = statusCode
  }
}

export async function getJson<T>(kc: KubeConfig, path: string, timeoutMs = 30_000): Promise<T> {
  return requestJson<T>(kc, 'GET', path, undefined, timeoutMs)
}

/**
 * One JSON request to the API server with the kubeconfig's credentials; rejects with KubeHttpError on
 * any status but 2xx (409 Conflict, 404 Not Found… are the caller's to handle).
 */
export async function requestJson<T>(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new Error('kubeconfig has no current cluster')
  const url = new URL(path, cluster.server)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers: Record<string, string | number> = { accept: 'application/json' }
  if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
  const options: HttpsRequestOptions = { method, headers, timeout: timeoutMs }
  await kc.applyToHTTPSOptions(options)
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest
  return new Promise<T>((resolve, reject) => {
    const req = send(url, options, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const status = res.statusCode ?? 0
        if (status < 200 || status > 299) return reject(new KubeHttpError(status, `${method} ${url.pathname}: HTTP ${status}: ${text.slice(0, 200)}`))
        try {
          resolve(JSON.parse(text) as T)
        } catch (error) {
          reject(new Error(`${method} ${url.pathname}: invalid JSON: ${(error as Error).message}`))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out after ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(payload)
  })
}

export interface ListPage<T> {
  metadata?: { resourceVersion?: string; continue?: string }
  items?: T[]
}

/** Every page of a paginated list (limit/continue), in order; the last carries the list's resourceVersion. */
export async function* listPages<T>(kc: KubeConfig, path: string, pageSize = 500, params: Record<string, string> = {}): AsyncGenerator<ListPage<T>> {
  let token: string | undefined
  do {
    const query = new URLSearchParams({ ...params, limit: String(pageSize), ...(token ? { continue: token } : {}) })
    const page = await getJson<ListPage<T>>(kc, `${path}?${query}`)
    yield page
    token = page.metadata?.continue || undefined
  } while (token)
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: Record<string, any>
}

/**
 * One watch request; resolves when it ends cleanly (server timeout), rejects when it breaks or when
 * onEvent throws (client-node's Watch swallows errors thrown in its callback, so they are caught here
 * and end the stream instead).
 */
export function watchOnce(
  kc: KubeConfig,
  path: string,
  resourceVersion: string,
  onEvent: (event: WatchEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: unknown
    let controller: AbortController | undefined
    const stop = () => controller?.abort()
    signal.addEventListener('abort', stop, { once: true })
    const finish = (error: unknown) => {
      signal.removeEventListener('abort', stop)
      if (failure !== undefined) reject(failure)
      else if (error && !signal.aborted) reject(error)
      else resolve()
    }
    const params = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 240 + Math.floor(Math.random() * 120) }
    const onLine = (type: string, object: Record<string, any>) => {
      if (failure !== undefined) return
      try {
        onEvent({ type: type as WatchEvent['type'], object })
      } catch (error) {
        failure = error
        controller?.abort()
      }
    }
    new Watch(kc).watch(path, params, onLine, finish).then((started) => {
      controller = started
      if (failure !== undefined || signal.aborted) started.abort()
    }, finish)
  })
}
