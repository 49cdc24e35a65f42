// Whether the API server answers, asked directly: a cheap GET /version every second with a short
// timeout. A watch cannot tell: a quiet watch and a dead (half-open) connection both send nothing for
// minutes. When the API server has not answered for deadAfterMs (well inside the 5 s budget a webhook
// has), the cache is unusable (verdicts say "cannot check" instead of coming from stale state) and its
// watches are restarted, so they resume from the last version as soon as the server is back.
// The first answer also gives the server's version, without holding up start-up.
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from '../log/log.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { getJson, KubeHttpError } from './kube-client.ts'

export interface LivenessState {
  /** undefined until the first answer or the first deadline passes. */
  reachable?: boolean
  lastContactAt?: number
  lastError?: string
  /** As /version says it: gitVersion (v1.20.2) and the parsed major.minor. */
  version?: KubernetesVersion & { gitVersion: string }
}

export interface LivenessOptions {
  kc: KubeConfig
  logger: Logger
  periodMs?: number
  timeoutMs?: number
  deadAfterMs?: number
  /** The server stopped answering; `since` is the last time it did. */
  onDead?: (since: number, reason: string) => void
  onVersion?: (version: KubernetesVersion & { gitVersion: string }) => void
}

/** major.minor from /version ("28+" style minors included), or undefined. */
export function parseVersion(version: { major?: string; minor?: string; gitVersion?: string }): (KubernetesVersion & { gitVersion: string }) | undefined {
  const major = Number.parseInt(version.major ?? '', 10)
  const minor = Number.parseInt(version.minor ?? '', 10)
  if (!Number.isInteger(major) || !Number.isInteger(minor)) return undefined
  return { major, minor, gitVersion: version.gitVersion || `v${major}.${minor}` }
}

export class ApiServerLiveness {
  readonly state: LivenessState = {}
  private readonly options: Required<Pick<LivenessOptions, 'periodMs' | 'timeoutMs' | 'deadAfterMs'>> & LivenessOptions
  private readonly startedAt = Date.now()
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor(options: LivenessOptions) {
    this.options = { periodMs: 1000, timeoutMs: 2000, deadAfterMs: 4000, ...options }
  }

  start(): void {
    void this.probe()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  private async probe(): Promise<void> {
    if (this.stopped) return
    const { kc, logger, timeoutMs, deadAfterMs } = this.options
    try {
      // Any HTTP answer (a 403 where /version is locked down, a 500 while it starts) proves the server
      // is there; only silence (timeouts, refused or reset connections) counts against it.
      const answer = await getJson<{ major?: string; minor?: string; gitVersion?: string }>(kc, '/version', timeoutMs).catch((error: unknown) => {
        if (error instanceof KubeHttpError) return {}
        throw error
      })
      const wasDown = this.state.reachable === false
      Object.assign(this.state, { reachable: true, lastContactAt: Date.now(), lastError: undefined })
      if (wasDown) logger.info('API server answers again')
      if (!this.state.version) {
        const version = parseVersion(answer)
        if (version) {
          this.state.version = version
          logger.info({ version: version.gitVersion }, 'API server version')
          this.options.onVersion?.(version)
        }
      }
    } catch (error) {
      this.state.lastError = (error as Error).message
      const since = this.state.lastContactAt ?? this.startedAt
      if (Date.now() - since >= deadAfterMs && this.state.reachable !== false) {
        this.state.reachable = false
        logger.warn({ err: this.state.lastError, silentMs: Date.now() - since }, 'API server does not answer; cluster state is unusable until it does')
        this.options.onDead?.(since, `API server did not answer for ${Math.round((Date.now() - since) / 1000)} s: ${this.state.lastError}`)
      }
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.probe(), this.options.periodMs)
  }
}
