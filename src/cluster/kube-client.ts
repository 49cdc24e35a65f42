// The calls the cache and the report writer make, authenticated by @kubernetes/client-node's
// KubeConfig (auth, TLS, in-cluster service account): plain JSON requests (lists, /version, writes)
// and watches read as JSON lines.
// Lists are parsed as plain JSON, not through the generated model classes: the cache keeps a few
// fields of 100k objects and the model layer would cost seconds.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { ListItemSplitter } from './list-items.ts'

export class KubeHttpError extends Error {
  readonly statusCode: number
  /** The message of the API server's Status answer, when it sent one (a 403 names the user and the verb). */
  readonly apiMessage: string | undefined
  constructor(statusCode: number, message: string, body?: string) {
    super(message)
    this.statusCode = statusCode
    this.apiMessage = body === undefined ? undefined : statusMessage(body)
  }
}

function statusMessage(body: string): string | undefined {
  try {
    const status = JSON.parse(body) as { kind?: unknown; message?: unknown }
    return status.kind === 'Status' && typeof status.message === 'string' ? status.message : undefined
  } catch {
    return undefined
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
  const chunks: string[] = []
  return exchange(kc, method, path, body, timeoutMs, { write: (chunk) => chunks.push(chunk), end: () => JSON.parse(chunks.join('')) as T })
}

/** Where a 2xx answer's text goes as it arrives; end() makes the result (and may throw: invalid JSON). */
interface BodySink<T> {
  write(chunk: string): void
  end(): T
}

async function exchange<T>(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, timeoutMs: number, sink: BodySink<T>): Promise<T> {
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
      const status = res.statusCode ?? 0
      const ok = status >= 200 && status <= 299
      let failure: unknown
      let errorText = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (!ok) errorText = (errorText + chunk).slice(0, 64 * 1024)
        else if (failure === undefined) {
          try {
            sink.write(chunk)
          } catch (error) {
            failure = error
          }
        }
      })
      res.on('error', reject)
      res.on('end', () => {
        if (!ok) return reject(new KubeHttpError(status, `${method} ${url.pathname}: HTTP ${status}: ${errorText.slice(0, 200)}`, errorText))
        try {
          if (failure !== undefined) throw failure
          resolve(sink.end())
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

/** A list page whose items are still JSON text: the reader parses them one by one (list-items.ts). */
export interface ListTextPage {
  metadata?: { resourceVersion?: string; continue?: string }
  items: string[]
}

/** Every page of a paginated list as listPages reads them, but split into item texts as the bytes arrive, never parsed whole. */
export async function* listTextPages(kc: KubeConfig, path: string, pageSize = 500, params: Record<string, string> = {}): AsyncGenerator<ListTextPage> {
  let token: string | undefined
  do {
    const query = new URLSearchParams({ ...params, limit: String(pageSize), ...(token ? { continue: token } : {}) })
    const splitter = new ListItemSplitter()
    const { head, items } = await exchange(kc, 'GET', `${path}?${query}`, undefined, 30_000, {
      write: (chunk) => splitter.write(chunk),
      end: () => splitter.end<{ metadata?: ListTextPage['metadata'] }>(),
    })
    yield { ...(head.metadata ? { metadata: head.metadata } : {}), items }
    token = head.metadata?.continue || undefined
  } while (token)
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: Record<string, any>
}

export interface WatchOptions {
  resourceVersion: string
  /** More query parameters (a fieldSelector). */
  params?: Record<string, string>
  /** Asked of the server: it ends the watch cleanly after this many seconds. */
  timeoutSeconds: number
  /**
   * No byte for this long means the connection is dead. Kept above timeoutSeconds: a quiet but healthy
   * watch (servers send bookmarks about once a minute, some never) always ends on the server's side first.
   */
  idleTimeoutMs: number
  onEvent(event: WatchEvent): void
  /** The server accepted the watch (HTTP 200): from here on the stream is live. */
  onStart?(): void
  signal: AbortSignal
}

/** A watch request the server refused (410 Gone among them) or that broke. */
export class WatchError extends KubeHttpError {}

const MAX_LINE = 16 * 1024 * 1024

/**
 * One watch request over the kubeconfig's credentials, read as JSON lines. Resolves 'quiet' when the
 * server ends it (its timeoutSeconds) and 'stopped' when the signal aborts it; rejects when it is
 * refused, breaks, stays silent past idleTimeoutMs, or when onEvent throws.
 *
 * Not client-node's Watch: it aborts any stream that is silent for 30 s (a private setting), while API
 * servers send bookmarks about once a minute, so every quiet watch would end as an error.
 */
export async function watchOnce(kc: KubeConfig, path: string, options: WatchOptions): Promise<'quiet' | 'stopped'> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new Error('kubeconfig has no current cluster')
  const query = new URLSearchParams({
    ...options.params,
    watch: 'true',
    resourceVersion: options.resourceVersion,
    allowWatchBookmarks: 'true',
    timeoutSeconds: String(options.timeoutSeconds),
  })
  const url = new URL(`${path}?${query}`, cluster.server)
  const requestOptions: HttpsRequestOptions = { method: 'GET', headers: { accept: 'application/json' } }
  await kc.applyToHTTPSOptions(requestOptions)
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest
  const { signal } = options
  if (signal.aborted) return 'stopped'
  return new Promise((resolve, reject) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const finish = (error?: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      req.destroy()
      if (signal.aborted) resolve('stopped')
      else if (error) reject(error)
      else resolve('quiet')
    }
    const stop = () => finish()
    const idle = () => {
      clearTimeout(timer)
      timer = setTimeout(() => finish(new WatchError(0, `watch ${url.pathname}: no data for ${options.idleTimeoutMs} ms`)), options.idleTimeoutMs)
    }
    const req = send(url, requestOptions, (res) => {
      res.setEncoding('utf8')
      if (res.statusCode !== 200) {
        let text = ''
        res.on('data', (chunk: string) => (text = (text + chunk).slice(0, 2000)))
        res.on('end', () => finish(new WatchError(res.statusCode ?? 0, `watch ${url.pathname}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`, text)))
        res.on('error', finish)
        return
      }
      options.onStart?.()
      let buffer = ''
      res.on('data', (chunk: string) => {
        idle()
        buffer += chunk
        let newline: number
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim()
          buffer = buffer.slice(newline + 1)
          if (!line) continue
          try {
            const event = JSON.parse(line) as WatchEvent
            options.onEvent(event)
          } catch (error) {
            return finish(error)
          }
        }
        if (buffer.length > MAX_LINE) finish(new WatchError(0, `watch ${url.pathname}: an event longer than ${MAX_LINE} bytes`))
      })
      res.on('error', finish)
      // A complete response is the server ending the watch; anything else is a lost connection.
      res.on('close', () => finish(res.complete ? undefined : new WatchError(0, `watch ${url.pathname}: connection lost`)))
    })
    signal.addEventListener('abort', stop, { once: true })
    req.on('error', finish)
    idle()
    req.end()
  })
}
