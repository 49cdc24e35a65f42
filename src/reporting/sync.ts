// `serve` with reports.format set: the backlog of every current finding, kept in the cluster as one
// report per namespace (and one cluster-scoped report), where Policy Reporter, kubectl and dashboards
// look. Only the replica holding the Lease scans and writes. A scan goes namespace by namespace (memory
// stays bounded by the largest namespace), judges the live objects exactly as `hitless audit --cluster`
// does, and writes a report only when its results changed, at most writesPerSecond; reports whose
// findings went away are deleted. A missing CRD is reported in /readyz and the log, never a crash.
import type { KubeConfig } from '@kubernetes/client-node'
import { manifestsFromCluster } from '../audit/cluster-source.ts'
import { auditManifests, type AuditFinding } from '../audit/run.ts'
import { KubeHttpError, listPages, requestJson } from '../cluster/kube-client.ts'
import type { Config } from '../config/load.ts'
import type { KubeObject } from '../model/types.ts'
import type { Logger } from '../log/log.ts'
import { buildReports, MANAGED_BY, REPORT_KINDS, RESULTS_HASH, type ReportFormat, type ReportKind, type ReportLimits, type ReportObject } from '../report/policy-report.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { TokenBucket } from './token-bucket.ts'

export interface ReportSyncOptions {
  kc: KubeConfig
  config: Config
  format: ReportFormat
  logger: Logger
  intervalMs: number
  writesPerSecond: number
  limits?: ReportLimits
  /** Whether this replica may write (holds the Lease). */
  leading: () => boolean
  clusterVersion?: () => KubernetesVersion | undefined
  now?: () => Date
}

export interface ReportSyncState {
  format: ReportFormat
  leading: boolean
  /** present: both report kinds are served; missing: the CRDs are not installed (nothing is written). */
  crd: 'unknown' | 'present' | 'missing'
  /** What is wrong, in words, while reports cannot be written. */
  problem?: string
  lastScan?: { at: string; ms: number; namespaces: number; results: number; writes: number; deletes: number }
  lastError?: string
}

export interface ViolationCount {
  rule: string
  namespace: string
  action: string
  count: number
}

interface Existing {
  name: string
  namespace: string
  resourceVersion: string
  hash: string | undefined
}

const selector = Object.entries(MANAGED_BY).map(([k, v]) => `${k}=${v}`).join(',')

function collectionPath(kind: ReportKind, namespace?: string): string {
  const base = `/apis/${kind.group}/${kind.version}`
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}` : `${base}/${kind.plural}`
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

class LostLease extends Error {}

export class ReportSync {
  readonly state: ReportSyncState
  private readonly options: ReportSyncOptions
  private readonly abort = new AbortController()
  private readonly writes: TokenBucket
  private violations: ViolationCount[] = []
  private wake?: () => void

  constructor(options: ReportSyncOptions) {
    this.options = options
    this.state = { format: options.format, leading: false, crd: 'unknown' }
    this.writes = new TokenBucket(options.writesPerSecond, Math.max(1, options.writesPerSecond))
  }

  /** hitless_violations: by rule, namespace and what the webhook does with it, from the last scan. */
  violationCounts(): ViolationCount[] {
    return this.options.leading() ? this.violations : []
  }

  start(): void {
    void this.run()
  }

  stop(): void {
    this.abort.abort()
  }

  /** Scan now instead of at the end of the interval (on becoming leader). */
  poke(): void {
    this.wake?.()
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal
    while (!signal.aborted) {
      this.state.leading = this.options.leading()
      if (this.state.leading) {
        try {
          await this.scan()
          this.state.lastError = undefined
        } catch (error) {
          if (!(error instanceof LostLease)) {
            this.state.lastError = (error as Error).message
            this.options.logger.warn({ err: this.state.lastError }, 'report scan failed; retrying at the next interval')
          }
        }
      }
      await Promise.race([sleep(this.state.leading ? this.options.intervalMs : 2_000, signal), new Promise<void>((resolve) => (this.wake = resolve))])
    }
  }

  /** Whether the API server serves both report kinds of the format (a discovery GET). */
  private async crdPresent(): Promise<boolean> {
    const [namespaced, cluster] = REPORT_KINDS[this.options.format]
    try {
      const list = await requestJson<{ resources?: { name: string }[] }>(this.options.kc, 'GET', `/apis/${namespaced.group}/${namespaced.version}`, undefined, 10_000)
      const served = new Set((list.resources ?? []).map((r) => r.name))
      return served.has(namespaced.plural) && served.has(cluster.plural)
    } catch (error) {
      if (error instanceof KubeHttpError && error.statusCode === 404) return false
      throw error
    }
  }

  private async listExisting(kind: ReportKind): Promise<Existing[]> {
    const out: Existing[] = []
    for await (const page of listPages<KubeObject>(this.options.kc, collectionPath(kind), 500, { labelSelector: selector })) {
      for (const item of page.items ?? []) {
        const meta = item.metadata ?? {}
        out.push({ name: meta.name ?? '', namespace: meta.namespace ?? '', resourceVersion: meta.resourceVersion ?? '', hash: meta.annotations?.[RESULTS_HASH] })
      }
    }
    return out
  }

  private async write(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<boolean> {
    await this.writes.take(this.abort.signal)
    if (!this.options.leading()) throw new LostLease()
    try {
      await requestJson(this.options.kc, method, path, body, 10_000)
      return true
    } catch (error) {
      // Someone else changed or removed it since we listed: the next scan sees the new state.
      if (error instanceof KubeHttpError && (error.statusCode === 409 || error.statusCode === 404)) return false
      throw error
    }
  }

  /** Makes the reports of one namespace ('' = cluster-scoped) exactly `desired`; returns writes, deletes. */
  private async reconcile(kind: ReportKind, namespace: string, desired: ReportObject[], existing: Existing[]): Promise<[number, number]> {
    let writes = 0
    let deletes = 0
    const have = new Map(existing.map((e) => [e.name, e]))
    const collection = collectionPath(kind, namespace || undefined)
    for (const report of desired) {
      const current = have.get(report.metadata.name)
      have.delete(report.metadata.name)
      if (current?.hash === report.metadata.annotations[RESULTS_HASH]) continue
      const ok = current
        ? await this.write('PUT', `${collection}/${encodeURIComponent(report.metadata.name)}`, { ...report, metadata: { ...report.metadata, resourceVersion: current.resourceVersion } })
        : await this.write('POST', collection, report)
      if (ok) writes++
    }
    for (const stale of have.values()) {
      if (await this.write('DELETE', `${collection}/${encodeURIComponent(stale.name)}`)) deletes++
    }
    return [writes, deletes]
  }

  async scan(): Promise<void> {
    const { kc, config, format, logger } = this.options
    const started = Date.now()
    const present = await this.crdPresent()
    if (!present) {
      const [namespaced, cluster] = REPORT_KINDS[format]
      const problem = `reports.format is ${format} but the API server does not serve ${namespaced.kind} and ${cluster.kind} (${namespaced.group}/${namespaced.version}): install the CRDs (manifests/overlays/reports); admission is not affected`
      if (this.state.crd !== 'missing') logger.warn({ format }, problem)
      Object.assign(this.state, { crd: 'missing', problem })
      this.violations = []
      return
    }
    this.state.crd = 'present'
    this.state.problem = undefined
    const [namespacedKind, clusterKind] = REPORT_KINDS[format]
    const existing = new Map<string, Existing[]>()
    for (const report of await this.listExisting(namespacedKind)) existing.set(report.namespace, [...(existing.get(report.namespace) ?? []), report])
    const namespaces: string[] = []
    for await (const page of listPages<KubeObject>(kc, '/api/v1/namespaces')) for (const ns of page.items ?? []) if (ns.metadata?.name) namespaces.push(ns.metadata.name)

    const now = this.options.now?.() ?? new Date()
    const version = this.options.clusterVersion?.()
    const counts = new Map<string, ViolationCount>()
    const clusterScoped: AuditFinding[] = []
    let results = 0
    let writes = 0
    let deletes = 0
    for (const namespace of namespaces) {
      if (this.abort.signal.aborted) return
      if (!this.options.leading()) throw new LostLease()
      let findings: AuditFinding[]
      try {
        const manifests = await manifestsFromCluster(kc, namespace)
        findings = auditManifests(manifests, config, { defaultNamespace: namespace, now, liveSet: true, ...(version ? { clusterVersion: version } : {}) }).findings
      } catch (error) {
        // A namespace deleted during the scan: its reports go with it.
        if (error instanceof KubeHttpError && error.statusCode === 404) continue
        throw error
      }
      const own = findings.filter((f) => f.object.namespace === namespace)
      clusterScoped.push(...findings.filter((f) => !f.object.namespace))
      for (const finding of own) {
        const key = `${finding.rule}\u0000${namespace}\u0000${finding.outcome}`
        const count = counts.get(key) ?? { rule: finding.rule, namespace, action: finding.outcome, count: 0 }
        count.count++
        counts.set(key, count)
      }
      results += own.length
      const desired = buildReports(own, format, { now, ...(this.options.limits ? { limits: this.options.limits } : {}) }).get(namespace) ?? []
      const [w, d] = await this.reconcile(namespacedKind, namespace, desired, existing.get(namespace) ?? [])
      existing.delete(namespace)
      writes += w
      deletes += d
    }
    // Reports left in namespaces the scan did not see (deleted meanwhile) are removed with them; try anyway.
    for (const [namespace, reports] of existing) {
      const [, d] = await this.reconcile(namespacedKind, namespace, [], reports)
      deletes += d
    }
    const clusterDesired = buildReports(clusterScoped, format, { now }).get('') ?? []
    const [w, d] = await this.reconcile(clusterKind, '', clusterDesired, await this.listExisting(clusterKind))
    writes += w
    deletes += d
    results += clusterScoped.length
    this.violations = [...counts.values()]
    this.state.lastScan = { at: new Date().toISOString(), ms: Date.now() - started, namespaces: namespaces.length, results, writes, deletes }
    logger.info({ format, ...this.state.lastScan }, 'reports scanned')
  }
}
