// Keeps one kind in the store in step with the API server: list (paginated) → watch from the list's
// resourceVersion → when the server ends the watch (its timeoutSeconds: routine, every few minutes),
// watch again from the last version seen, at once and without counting it as a failure. Only a watch
// that breaks is a failure (jittered exponential back-off, resumed from the last version); only 410
// Gone (the version was compacted away) or a failed list leads to a list. There are no periodic lists.
// A 403 is RBAC missing a verb: said once with the fix (see forbidden.ts), not once per retry.
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from '../log/log.ts'
import type { KubeObject } from '../model/types.ts'
import { forbiddenMessage } from './forbidden.ts'
import type { Entry } from './entry.ts'
import { forget, ingest, toEntry } from './ingest.ts'
import { KubeHttpError, listTextPages, watchOnce, WatchError, type WatchEvent } from './kube-client.ts'
import { LoopPacer } from './loop-pacer.ts'
import { replaceKindInSlices } from './relist.ts'
import type { ClusterStore } from './store.ts'

/** Where a reflector keeps what it lists and watches: the cluster store (storeTarget), or a holder of its own. */
export interface ReflectorTarget<E = unknown> {
  /** The form kept of a listed object; undefined: not kept. Listed pages are reduced to these as they come. */
  entry(object: KubeObject): E | undefined
  /** Everything of the kind, after a (re)list; may take several turns of the event loop (pacer). */
  replace(entries: E[], pacer: LoopPacer): void | Promise<void>
  upsert(object: KubeObject): void
  remove(object: KubeObject): void
}

/** One kind of the cluster store as a reflector's target (lean records: see ingest.ts). */
export function storeTarget(store: ClusterStore, kind: string): ReflectorTarget {
  return {
    entry: (object) => toEntry(kind, object),
    replace: (entries, pacer) => replaceKindInSlices(store, kind, entries as Entry[], pacer),
    upsert: (object) => ingest(store, kind, object),
    remove: (object) => forget(store, kind, object),
  }
}

export interface ReflectorState {
  kind: string
  synced: boolean
  /** A watch stream is open (the server accepted it). */
  watching: boolean
  lastSyncAt?: string
  /** Since when the watch has been down (undefined while it works). */
  brokenSince?: number
  lastError?: string
  /** When the last event (bookmarks included) arrived, or the watch started. */
  lastEventAt?: number
  /** Watches the server ended on schedule (quiet) and watches that broke (error). */
  restarts: { quiet: number; error: number }
  /** Full lists after the first: only after 410 Gone or a failed list. */
  relists: number
  /** The collection path in use (the first of `paths` the server serves). */
  path?: string
  /** The server serves none of its versions: an optional kind (a CRD not installed) holds nothing. */
  absent?: boolean
  /** Lists and watches refused or broken since the last one that worked. */
  failures: number
  /** The last refusal was a 403: RBAC is missing a verb (lastError says which, and the fix). */
  forbidden?: boolean
}

export interface ReflectorOptions {
  kc: KubeConfig
  target: ReflectorTarget
  kind: string
  /** More query parameters for the list and the watch (a fieldSelector). */
  params?: Record<string, string>
  /** Where to list and watch: the first of these the server serves (newest version first). */
  paths: readonly string[]
  /** A custom resource: when none of `paths` is served, the kind is empty (re-checked every absentRecheckMs). */
  optional?: boolean
  absentRecheckMs?: number
  logger: Logger
  pageSize?: number
  /** Longest run of list work between two turns of the event loop, ms (LoopPacer; 0: yield after every object). */
  sliceMs?: number
  backoff?: { initialMs: number; maxMs: number }
  /** Server-side watch length, seconds; default 240–360, jittered per watch. */
  watchSeconds?: () => number
}

class Gone extends Error {}
/** None of the paths is served, for an optional kind. */
class Absent extends Error {}

function parseItem(text: string, path: string): KubeObject {
  try {
    return JSON.parse(text) as KubeObject
  } catch (error) {
    throw new Error(`GET ${path}: invalid JSON in a list item: ${(error as Error).message}`)
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

export class Reflector {
  readonly state: ReflectorState
  private readonly options: ReflectorOptions
  private readonly abort = new AbortController()
  private current?: AbortController
  private lists = 0
  /** The refusal last logged at warn level: the same one again is logged at debug. */
  private reported?: string

  constructor(options: ReflectorOptions) {
    this.options = options
    this.state = { kind: options.kind, synced: false, watching: false, restarts: { quiet: 0, error: 0 }, relists: 0, failures: 0 }
  }

  start(): void {
    void this.run()
  }

  stop(): void {
    this.abort.abort()
  }

  /**
   * Ends the open watch as broken (the API server stopped answering: the connection may be half-open
   * and would stay silent). It is resumed from the last version seen, with back-off.
   */
  restartWatch(reason: string, brokenSince: number): void {
    if (!this.current) return
    this.state.brokenSince = Math.min(this.state.brokenSince ?? brokenSince, brokenSince)
    this.current.abort(new WatchError(0, reason))
  }

  /**
   * Lists the first of the paths the server serves (404 on a version it does not have: the next). An
   * optional kind none of whose versions is served is emptied and reported Absent.
   */
  private async list(): Promise<string> {
    const { paths, target, optional } = this.options
    for (const path of paths) {
      try {
        const version = await this.listFrom(path)
        this.state.path = path
        this.state.absent = false
        return version
      } catch (error) {
        if (!(error instanceof KubeHttpError && error.statusCode === 404)) throw error
      }
    }
    if (!optional) throw new Error(`the API server serves none of ${paths.join(', ')}`)
    await target.replace([], new LoopPacer(this.options.sliceMs))
    this.state.path = undefined
    this.state.absent = true
    throw new Absent(`not served: ${paths.join(', ')}`)
  }

  private async listFrom(path: string): Promise<string> {
    const { kc, target, pageSize = 500, params } = this.options
    const entries: unknown[] = []
    let resourceVersion = ''
    // Pages arrive as item texts: each object is parsed and reduced on its own, in slices (loop-pacer.ts).
    const pacer = new LoopPacer(this.options.sliceMs)
    try {
      for await (const page of listTextPages(kc, path, pageSize, params)) {
        if (this.abort.signal.aborted) break
        for (const text of page.items) {
          if (pacer.due()) await pacer.pause()
          const entry = target.entry(parseItem(text, path))
          if (entry !== undefined) entries.push(entry)
        }
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion
      }
    } catch (error) {
      throw error instanceof KubeHttpError && error.statusCode === 403 ? new KubeHttpError(403, forbiddenMessage('list', path, error.apiMessage)) : error
    }
    await target.replace(entries, pacer)
    if (this.lists++ > 0) this.state.relists++
    return resourceVersion
  }

  private apply(event: WatchEvent, seen: { resourceVersion: string }): void {
    const { target } = this.options
    this.state.lastEventAt = Date.now()
    if (event.type === 'ERROR') {
      const code = event.object?.['code']
      if (code === 410) throw new Gone(String(event.object?.['message'] ?? 'resource version too old'))
      throw new WatchError(typeof code === 'number' ? code : 0, `watch error: ${event.object?.['message'] ?? JSON.stringify(event.object)}`)
    }
    const version = event.object?.['metadata']?.['resourceVersion']
    if (typeof version === 'string') seen.resourceVersion = version
    if (event.type === 'ADDED' || event.type === 'MODIFIED') target.upsert(event.object as KubeObject)
    else if (event.type === 'DELETED') target.remove(event.object as KubeObject)
  }

  private broken(error: unknown): void {
    this.state.watching = false
    this.state.brokenSince ??= Date.now()
    this.state.lastError = (error as Error).message ?? String(error)
    this.state.forbidden = error instanceof KubeHttpError && error.statusCode === 403
  }

  /** Logs a failed list or watch: at warn when it is new, at debug when it repeats the last one. */
  private report(message: string): void {
    const { logger, kind } = this.options
    const err = this.state.lastError
    if (err === this.reported) return logger.debug({ kind, err, failures: this.state.failures }, message)
    this.reported = err
    logger.warn({ kind, err }, this.state.forbidden ? 'cluster cache refused by RBAC; retrying' : message)
  }

  /** A list or watch worked: back-off starts again, and the next refusal is news. */
  private recovered(): void {
    if (this.state.forbidden) this.options.logger.info({ kind: this.options.kind }, 'cluster cache: RBAC allows it now')
    Object.assign(this.state, { failures: 0, forbidden: undefined })
    this.reported = undefined
  }

  private async backoff(): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 }
    const ms = Math.min(maxMs, initialMs * 2 ** this.state.failures++) * (0.5 + Math.random() / 2)
    await sleep(ms, this.abort.signal)
  }

  /** One watch from `seen`: 'quiet' when the server ended it, 'stopped' on stop(), else it throws. */
  private async watch(seen: { resourceVersion: string }): Promise<'quiet' | 'stopped'> {
    const { kc } = this.options
    const path = this.state.path!
    const current = new AbortController()
    this.current = current
    const stopAll = () => current.abort()
    this.abort.signal.addEventListener('abort', stopAll, { once: true })
    const timeoutSeconds = this.options.watchSeconds?.() ?? 240 + Math.floor(Math.random() * 120)
    try {
      const end = await watchOnce(kc, path, {
        resourceVersion: seen.resourceVersion,
        timeoutSeconds,
        idleTimeoutMs: (timeoutSeconds + 30) * 1000,
        ...(this.options.params ? { params: this.options.params } : {}),
        signal: current.signal,
        onStart: () => {
          Object.assign(this.state, { watching: true, brokenSince: undefined, lastError: undefined, lastEventAt: Date.now() })
          this.recovered()
        },
        onEvent: (event) => this.apply(event, seen),
      })
      // restartWatch() aborts with a reason: that is a broken watch, not a stop.
      if (end === 'stopped' && !this.abort.signal.aborted && current.signal.reason instanceof WatchError) throw current.signal.reason
      return end
    } catch (error) {
      throw error instanceof KubeHttpError && error.statusCode === 403 ? new WatchError(403, forbiddenMessage('watch', path, error.apiMessage)) : error
    } finally {
      this.abort.signal.removeEventListener('abort', stopAll)
      this.current = undefined
    }
  }

  private async run(): Promise<void> {
    const { logger, kind } = this.options
    const signal = this.abort.signal
    while (!signal.aborted) {
      let seen: { resourceVersion: string }
      try {
        const started = Date.now()
        seen = { resourceVersion: await this.list() }
        Object.assign(this.state, { synced: true, lastSyncAt: new Date().toISOString() })
        this.recovered()
        logger.info({ kind, resourceVersion: seen.resourceVersion, ms: Date.now() - started }, 'cluster cache listed')
      } catch (error) {
        if (error instanceof Absent) {
          // Nothing of this kind can exist until its CRD is installed: synced, empty, looked for again later.
          Object.assign(this.state, { synced: true, watching: false, brokenSince: undefined, lastError: undefined, lastSyncAt: new Date().toISOString() })
          this.recovered()
          logger.info({ kind, reason: error.message }, 'cluster cache: kind not served; holding none')
          await sleep(this.options.absentRecheckMs ?? 30_000, signal)
          continue
        }
        this.broken(error)
        this.report('cluster cache list failed; retrying')
        await this.backoff()
        continue
      }
      while (!signal.aborted) {
        try {
          const end = await this.watch(seen)
          if (end === 'stopped') return
          // The server ended the watch on schedule: watch again from where it stopped, at once.
          this.state.restarts.quiet++
          logger.debug({ kind, resourceVersion: seen.resourceVersion }, 'cluster cache watch ended quietly; resuming')
        } catch (error) {
          if (error instanceof Gone || (error instanceof WatchError && error.statusCode === 410)) {
            logger.info({ kind, reason: error.message }, 'cluster cache watch expired; listing again')
            break
          }
          this.state.restarts.error++
          this.broken(error)
          this.report('cluster cache watch broke; resuming from the last version')
          await this.backoff()
        }
      }
    }
  }
}
