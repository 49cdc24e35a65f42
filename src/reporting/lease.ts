// One writer among the replicas: a coordination.k8s.io/v1 Lease, held and renewed the way client-go's
// leaderelection does it. A replica takes the Lease when it is free or its holder has not renewed it
// for leaseDuration (measured on this replica's clock from when it last saw the record change, so clock
// skew between nodes does not matter); writes use the Lease's resourceVersion, so two replicas can
// never both win. A leader that cannot renew within renewDeadline stops leading before anyone else
// may take over.
import type { KubeConfig } from '@kubernetes/client-node'
import { KubeHttpError, requestJson } from '../cluster/kube-client.ts'
import type { Logger } from '../log/log.ts'

export interface LeaseOptions {
  kc: KubeConfig
  namespace: string
  name: string
  identity: string
  logger: Logger
  leaseDurationMs?: number
  renewDeadlineMs?: number
  retryPeriodMs?: number
  /** Called when this replica starts or stops leading. */
  onChange?: (leading: boolean) => void
}

interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1'
  kind: 'Lease'
  metadata: { name: string; namespace: string; resourceVersion?: string }
  spec?: LeaseSpec
}

/** RFC 3339 with microseconds, as the API server's MicroTime expects (toISOString gives milliseconds). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

export class LeaderLease {
  private readonly options: Required<Omit<LeaseOptions, 'onChange'>> & Pick<LeaseOptions, 'onChange'>
  private leadingSince?: number
  private lastRenew = 0
  private observed?: { record: string; at: number }
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor(options: LeaseOptions) {
    this.options = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options }
  }

  get leading(): boolean {
    return this.leadingSince !== undefined && Date.now() - this.lastRenew < this.options.renewDeadlineMs
  }

  private get path(): string {
    const { namespace, name } = this.options
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`
  }

  private setLeading(leading: boolean): void {
    if (leading === (this.leadingSince !== undefined)) return
    this.leadingSince = leading ? Date.now() : undefined
    this.options.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity, leading }, leading ? 'report writer: leading' : 'report writer: not leading')
    this.options.onChange?.(leading)
  }

  private record(now: Date, previous?: LeaseSpec): LeaseSpec {
    const mine = previous?.holderIdentity === this.options.identity
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      acquireTime: mine && previous?.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (mine ? 0 : 1),
    }
  }

  /** One round: take or renew the Lease if it is ours to have. Never throws. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { kc, namespace, name, identity } = this.options
    const now = new Date()
    try {
      let current: Lease
      try {
        current = await requestJson<Lease>(kc, 'GET', this.path, undefined, 5_000)
      } catch (error) {
        if (!(error instanceof KubeHttpError && error.statusCode === 404)) throw error
        const created: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { ...this.record(now), leaseTransitions: 0 } }
        await requestJson(kc, 'POST', `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`, created, 5_000)
        return this.won()
      }
      const spec = current.spec ?? {}
      const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`
      if (this.observed?.record !== record) this.observed = { record, at: Date.now() }
      const held = spec.holderIdentity && spec.holderIdentity !== identity
      const expired = this.observed.at + (spec.leaseDurationSeconds ?? 15) * 1000 < Date.now()
      if (held && !expired) {
        this.setLeading(false)
        return false
      }
      await requestJson(kc, 'PUT', this.path, { ...current, spec: this.record(now, spec) }, 5_000)
      return this.won()
    } catch (error) {
      // A conflict means another replica wrote first; anything else, we could not renew. Either way we
      // lead only until renewDeadline passes without a renewal.
      if (!(error instanceof KubeHttpError && error.statusCode === 409)) {
        this.options.logger.debug({ err: (error as Error).message }, 'report writer: lease not renewed')
      }
      if (!this.leading) this.setLeading(false)
      return false
    }
  }

  private won(): boolean {
    this.lastRenew = Date.now()
    this.setLeading(true)
    return true
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return
      await this.tryAcquireOrRenew()
      if (!this.stopped) this.timer = setTimeout(loop, this.options.retryPeriodMs * (0.8 + Math.random() * 0.4))
    }
    void loop()
  }

  /** Stops renewing and, if leading, gives the Lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    if (this.leadingSince === undefined) return
    this.setLeading(false)
    try {
      const current = await requestJson<Lease>(this.options.kc, 'GET', this.path, undefined, 2_000)
      if (current.spec?.holderIdentity !== this.options.identity) return
      // Expired at once: a lease duration of 1 s renewed a moment ago.
      await requestJson(this.options.kc, 'PUT', this.path, { ...current, spec: { ...current.spec, leaseDurationSeconds: 1, renewTime: microTime(new Date(0)) } }, 2_000)
    } catch {
      // The next leader takes over when the lease expires.
    }
  }
}
