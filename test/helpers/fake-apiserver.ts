// A test API server that speaks the real list/watch protocol over HTTP, so the cache runs through
// @kubernetes/client-node exactly as against kube-apiserver: paginated lists carrying a
// resourceVersion, chunked watch streams of JSON lines from a version, 410 Gone (as an ERROR event)
// for versions compacted away, server-side watch timeouts. Tests drive it: add/modify/remove
// objects, drop watches, compact history, fail requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { CACHED_RESOURCES } from '../../src/contract/registry.ts'
import type { KubeObject } from '../../src/model/types.ts'

interface Collection {
  listKind: string
  apiVersion: string
  objects: Map<string, KubeObject>
  events: { rv: number; type: string; object: KubeObject }[]
  watchers: Set<ServerResponse>
}

// Exactly the collections hitless's cache reads (every version of each), so a kind added there is
// served here too.
const apiVersionOf = (path: string) => (path.startsWith('/apis/') ? path.split('/').slice(2, 4).join('/') : 'v1')
const RESOURCES: Record<string, { kind: string; apiVersion: string }> = Object.fromEntries(
  CACHED_RESOURCES.flatMap(({ kind, paths }) => paths.map((path) => [path, { kind, apiVersion: apiVersionOf(path) }])),
)

const PATH_OF_KIND = Object.fromEntries(CACHED_RESOURCES.map(({ kind, path }) => [kind, path]))
const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`

export class FakeApiServer {
  version = { major: '1', minor: '28', gitVersion: 'v1.28.0' }
  readonly requests: { method: string; path: string; query: Record<string, string> }[] = []
  private rv = 1
  private compactedBelow = 0
  private readonly collections = new Map<string, Collection>()
  private failures: { path: string; status: number; remaining: number; message: string }[] = []
  private paused: ServerResponse[] | undefined
  private server: Server | undefined
  url = ''

  constructor() {
    for (const [path, { kind, apiVersion }] of Object.entries(RESOURCES)) {
      this.collections.set(path, { listKind: `${kind}List`, apiVersion, objects: new Map(), events: [], watchers: new Set() })
    }
  }

  /** Listens on `port` (0: any free one; the same port again to simulate a restart). */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve))
    const address = this.server.address()
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    return this.url
  }

  async stop(): Promise<void> {
    this.dropWatches()
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  /** A kubeconfig file for client-node pointing here, with a bearer token. */
  async writeKubeconfig(path: string): Promise<string> {
    await writeFile(
      path,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // client-node allows plain HTTP only for clusters marked insecure, as kubectl's config would.
        clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'hitless', user: { token: 'test-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'hitless' } }],
        'current-context': 'fake',
      }),
    )
    return path
  }

  /** Collection paths answered with 404, as a server without that version or CRD answers. */
  readonly unserved = new Set<string>()

  private collectionOf(object: KubeObject): Collection {
    // An object of an older version goes to that version's collection (a 1.20 server's policy/v1beta1).
    const versioned = Object.entries(RESOURCES).find(([, r]) => r.kind === object.kind && r.apiVersion === object.apiVersion)?.[0]
    const collection = this.collections.get(versioned ?? PATH_OF_KIND[object.kind ?? ''] ?? '')
    if (!collection) throw new Error(`fake API server does not serve ${object.kind}`)
    return collection
  }

  private record(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    const collection = this.collectionOf(object)
    const rv = ++this.rv
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } }
    if (type === 'DELETED') collection.objects.delete(keyOf(object))
    else collection.objects.set(keyOf(object), stored)
    const event = { rv, type, object: stored }
    collection.events.push(event)
    if (!this.paused) for (const watcher of collection.watchers) watcher.write(JSON.stringify({ type, object: stored }) + '\n')
  }

  /** Loads objects as if they had always been there: no watch events. */
  seed(objects: Iterable<KubeObject>): void {
    for (const object of objects) {
      const rv = ++this.rv
      this.collectionOf(object).objects.set(keyOf(object), { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } })
    }
    this.compactedBelow = this.rv
  }

  /** Replaces everything served by `objects` with no watch events, as if it had changed while nobody watched. */
  reseed(objects: Iterable<KubeObject>): void {
    for (const collection of this.collections.values()) collection.objects.clear()
    this.seed(objects)
  }

  add(object: KubeObject): void {
    this.record(this.collectionOf(object).objects.has(keyOf(object)) ? 'MODIFIED' : 'ADDED', object)
  }

  remove(object: KubeObject): void {
    this.record('DELETED', object)
  }

  /** Ends every open watch, as a restarting API server or a network blip does. */
  dropWatches(): void {
    for (const collection of this.collections.values()) {
      for (const watcher of collection.watchers) watcher.socket?.destroy()
      collection.watchers.clear()
    }
  }

  /**
   * Stops answering without closing anything, as a half-open connection or a frozen server looks:
   * requests are accepted and never answered, open watches get no more bytes (events still queue up).
   */
  pause(): void {
    this.paused = []
  }

  /** Answers again; what was held while paused is cut off (the client retries). */
  resume(): void {
    for (const res of this.paused ?? []) res.socket?.destroy()
    this.paused = undefined
    this.dropWatches()
  }

  /** Forgets history: a watch from any resourceVersion seen so far now gets 410 Gone. */
  compact(): void {
    this.compactedBelow = this.rv + 1
    for (const collection of this.collections.values()) collection.events = []
  }

  /** The next `count` requests to `path` (list or watch) answer `status` (with `message` in the Status). */
  fail(path: string, status: number, count = 1, message = 'injected failure'): void {
    this.failures.push({ path, status, remaining: count, message })
  }
  /** Ends every injected failure of a path: what a test asserted during the failure is over. */
  heal(path: string): void {
    for (const failure of this.failures) if (failure.path === path) failure.remaining = 0
  }


  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake')
    const query = Object.fromEntries(url.searchParams)
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query })
    if (this.paused) return void this.paused.push(res)
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (req.headers.authorization !== 'Bearer test-token') return json(401, { kind: 'Status', code: 401, message: 'Unauthorized' })
    if (url.pathname === '/version') return json(200, this.version)
    const failure = this.failures.find((f) => f.path === url.pathname && f.remaining > 0)
    if (failure) {
      failure.remaining--
      return json(failure.status, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: failure.status, message: failure.message })
    }
    const notFound = () => json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: `not found: ${url.pathname}` })
    const single = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url.pathname)
    if (single) {
      const namespace = this.collections.get('/api/v1/namespaces')!.objects.get(`/${single[1]}`)
      return namespace ? json(200, namespace) : notFound()
    }
    // Namespaced lists: /api/v1/namespaces/NS/pods, /apis/apps/v1/namespaces/NS/deployments
    const scoped = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    const collectionPath = scoped ? `${scoped[1]}/${scoped[3]}` : url.pathname
    const collection = this.unserved.has(collectionPath) ? undefined : this.collections.get(collectionPath)
    if (!collection) return notFound()
    if (query['watch'] === 'true') return this.watch(collection, query, res)
    // The one field selector every kind serves, as kube-apiserver does: metadata.name=NAME.
    const byName = /^metadata\.name=(.+)$/.exec(query['fieldSelector'] ?? '')?.[1]
    const all = [...collection.objects.values()].filter((o) => (!scoped || o.metadata?.namespace === scoped[2]) && (!byName || o.metadata?.name === byName))
    const offset = Number(query['continue'] ?? 0)
    const limit = Number(query['limit'] ?? 0) || all.length
    const items = all.slice(offset, offset + limit)
    const next = offset + limit < all.length ? String(offset + limit) : undefined
    json(200, {
      kind: collection.listKind,
      apiVersion: collection.apiVersion,
      metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next, remainingItemCount: all.length - offset - limit } : {}) },
      items,
    })
  }

  private watch(collection: Collection, query: Record<string, string>, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    // kube-apiserver sends the response head as soon as the watch starts, before any event.
    res.flushHeaders()
    const from = Number(query['resourceVersion'] ?? 0)
    if (from < this.compactedBelow) {
      const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.compactedBelow})`, reason: 'Expired', code: 410 }
      return void res.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n')
    }
    for (const event of collection.events) if (event.rv > from) res.write(JSON.stringify({ type: event.type, object: event.object }) + '\n')
    collection.watchers.add(res)
    const timeout = Number(query['timeoutSeconds'] ?? 0)
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
    res.on('close', () => {
      clearTimeout(timer)
      collection.watchers.delete(res)
    })
  }
}
