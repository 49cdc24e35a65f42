// Keeps one kind in the store in step with the API server: list (paginated) → watch from the list's
// resourceVersion → on a watch that ends, watch again from the last version seen; on 410 Gone (the
// version was compacted away) or a failed list, list again, with jittered exponential back-off.
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from '../log.ts'
import type { KubeObject } from '../engine/types.ts'
import { forget, ingest, replaceKind, toEntry, type Entry } from './ingest.ts'
import { listPages, watchOnce, type WatchEvent } from './kube-client.ts'
import type { ClusterStore } from './store.ts'

export interface ReflectorState {
  kind: string
  synced: boolean
  watching: boolean
  lastSyncAt?: string
  /** Since when the watch has been down (undefined while it works). */
  brokenSince?: number
  lastError?: string
}

export interface ReflectorOptions {
  kc: KubeConfig
  store: ClusterStore
  kind: string
  path: string
  logger: Logger
  pageSize?: number
  backoff?: { initialMs: number; maxMs: number }
}

class Gone extends Error {}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

export class Reflector {
  readonly state: ReflectorState
  private readonly options: ReflectorOptions
  private readonly abort = new AbortController()
  private failures = 0

  constructor(options: ReflectorOptions) {
    this.options = options
    this.state = { kind: options.kind, synced: false, watching: false }
  }

  start(): void {
    void this.run()
  }

  stop(): void {
    this.abort.abort()
  }

  private async list(): Promise<string> {
    const { kc, path, kind, store, pageSize = 500 } = this.options
    const entries: Entry[] = []
    let resourceVersion = ''
    for await (const page of listPages<KubeObject>(kc, path, pageSize)) {
      if (this.abort.signal.aborted) break
      for (const item of page.items ?? []) {
        const entry = toEntry(kind, item)
        if (entry) entries.push(entry)
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion
    }
    replaceKind(store, kind, entries)
    return resourceVersion
  }

  private apply(event: WatchEvent, seen: { resourceVersion: string }): void {
    const { store, kind } = this.options
    if (event.type === 'ERROR') {
      const code = event.object?.['code']
      if (code === 410) throw new Gone(String(event.object?.['message'] ?? 'resource version too old'))
      throw new Error(`watch error: ${event.object?.['message'] ?? JSON.stringify(event.object)}`)
    }
    const version = event.object?.['metadata']?.['resourceVersion']
    if (typeof version === 'string') seen.resourceVersion = version
    if (event.type === 'ADDED' || event.type === 'MODIFIED') ingest(store, kind, event.object as KubeObject)
    else if (event.type === 'DELETED') forget(store, kind, event.object as KubeObject)
  }

  private broken(error: unknown): void {
    this.state.watching = false
    this.state.brokenSince ??= Date.now()
    this.state.lastError = (error as Error).message ?? String(error)
  }

  private async backoff(): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 }
    const ms = Math.min(maxMs, initialMs * 2 ** this.failures++) * (0.5 + Math.random() / 2)
    await sleep(ms, this.abort.signal)
  }

  private async run(): Promise<void> {
    const { logger, kind } = this.options
    const signal = this.abort.signal
    while (!signal.aborted) {
      let seen: { resourceVersion: string }
      try {
        const started = Date.now()
        seen = { resourceVersion: await this.list() }
        Object.assign(this.state, { synced: true, watching: true, lastSyncAt: new Date().toISOString(), brokenSince: undefined })
        this.failures = 0
        logger.info({ kind, resourceVersion: seen.resourceVersion, ms: Date.now() - started }, 'cluster cache listed')
      } catch (error) {
        this.broken(error)
        logger.warn({ kind, err: this.state.lastError }, 'cluster cache list failed; retrying')
        await this.backoff()
        continue
      }
      while (!signal.aborted) {
        try {
          await watchOnce(this.options.kc, this.options.path, seen.resourceVersion, (event) => this.apply(event, seen), signal)
          // A watch that ends cleanly (server timeout) is simply renewed from where it stopped.
          if (!this.state.watching) Object.assign(this.state, { watching: true, brokenSince: undefined })
          this.failures = 0
        } catch (error) {
          if (error instanceof Gone) {
            logger.info({ kind, reason: error.message }, 'cluster cache watch expired; listing again')
            break
          }
          this.broken(error)
          logger.warn({ kind, err: this.state.lastError }, 'cluster cache watch broke; retrying')
          await this.backoff()
          // Watching again from the last version is cheap; a failure that persists ends in a re-list.
          if (this.failures > 3) break
        }
      }
    }
  }
}
