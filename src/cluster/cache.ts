// The webhook's view of the cluster: one reflector per kind feeding one store, and a liveness probe of
// the API server. Not usable until every kind has been listed once; unusable while the API server does
// not answer, while a watch restarted because of that has not resumed, and while any watch has been
// broken for longer than staleAfterMs. All of it shows in /readyz and in the referential rules' answers.
import { KubeConfig } from '@kubernetes/client-node'
import type { NamespaceDirectory, NamespaceInfo } from '../model/namespaces.ts'
import type { Logger } from '../log/log.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { getJson } from './kube-client.ts'
import { ApiServerLiveness, parseVersion, type LivenessOptions, type LivenessState } from './liveness.ts'
import type { HpaRecord, PdbRecord } from './disruption-records.ts'
import type { LabelSelector } from './label-selectors.ts'
import type { ServiceInfo, ServiceRecord } from './service-records.ts'
import type { WorkloadRecord } from './records.ts'
import type { GrantRecord, IngressRecord, RouteRecord } from './routes.ts'
import type { NodeRecord } from '../scheduling/node-record.ts'
import { Reflector, storeTarget, type ReflectorState } from './reflector.ts'
import type { TargetGroupBindingRecord } from './load-balancers.ts'
import { ClusterStore } from './store.ts'
import type { MonitorRecord } from './monitors.ts'
import type { ClusterView } from './view.ts'

export interface ClusterCacheOptions {
  kc: KubeConfig
  /** The kinds to list and watch (derived from the rules: src/contract/registry.ts). */
  resources: readonly { kind: string; paths: readonly string[]; optional?: boolean }[]
  logger: Logger
  staleAfterMs?: number
  pageSize?: number
  /** Longest run of (re-)list work between two turns of the event loop, ms (default 0.5). */
  sliceMs?: number
  backoff?: { initialMs: number; maxMs: number }
  liveness?: Pick<LivenessOptions, 'periodMs' | 'timeoutMs' | 'deadAfterMs' | 'onVersion'>
  watchSeconds?: () => number
}

export interface CacheReadiness {
  /** Listed once and usable now: the webhook's readiness. */
  ready: boolean
  synced: boolean
  reasons: string[]
  kinds: ReflectorState[]
  apiserver: LivenessState
}

export class ClusterCache implements ClusterView, NamespaceDirectory {
  readonly store = new ClusterStore()
  private readonly reflectors: Reflector[]
  private readonly staleAfterMs: number
  private readonly liveness: ApiServerLiveness
  /** Reflectors whose watch was cut because the API server stopped answering, until they resume. */
  private readonly cut = new Set<Reflector>()

  constructor(options: ClusterCacheOptions) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000
    this.reflectors = options.resources.map(
      ({ kind, paths, optional }) =>
        new Reflector({
          kc: options.kc,
          target: storeTarget(this.store, kind),
          kind,
          paths,
          ...(optional ? { optional } : {}),
          logger: options.logger,
          ...(options.pageSize ? { pageSize: options.pageSize } : {}),
          ...(options.sliceMs !== undefined ? { sliceMs: options.sliceMs } : {}),
          ...(options.backoff ? { backoff: options.backoff } : {}),
          ...(options.watchSeconds ? { watchSeconds: options.watchSeconds } : {}),
        }),
    )
    this.liveness = new ApiServerLiveness({
      kc: options.kc,
      logger: options.logger,
      ...options.liveness,
      onDead: (since, reason) => {
        for (const reflector of this.reflectors) {
          this.cut.add(reflector)
          reflector.restartWatch(reason, since)
        }
      },
    })
  }

  start(): void {
    for (const reflector of this.reflectors) reflector.start()
    this.liveness.start()
  }

  stop(): void {
    for (const reflector of this.reflectors) reflector.stop()
    this.liveness.stop()
  }

  /** The API server's version once it has answered /version. */
  serverVersion(): (KubernetesVersion & { gitVersion: string }) | undefined {
    return this.liveness.state.version
  }

  synced(): boolean {
    return this.reflectors.every((r) => r.state.synced)
  }

  unavailable(): string | undefined {
    const unsynced = this.reflectors.filter((r) => !r.state.synced).map((r) => r.state.kind)
    if (unsynced.length > 0) return `cache not synced yet: ${unsynced.join(', ')}`
    const api = this.liveness.state
    if (api.reachable === false) {
      return `API server not answering for ${Math.round((Date.now() - (api.lastContactAt ?? 0)) / 1000)} s: ${api.lastError ?? 'unknown error'}`
    }
    // A kind the server does not serve has no watch to resume: nothing of it can be missed.
    for (const reflector of this.cut) if (reflector.state.absent || (reflector.state.watching && reflector.state.brokenSince === undefined)) this.cut.delete(reflector)
    const now = Date.now()
    const stale = this.reflectors.filter((r) => this.cut.has(r) || (r.state.brokenSince !== undefined && now - r.state.brokenSince > this.staleAfterMs))
    if (stale.length === 0) return undefined
    const first = stale[0]!.state
    return `watch for ${stale.map((r) => r.state.kind).join(', ')} broken for ${Math.round((now - (first.brokenSince ?? now)) / 1000)} s: ${first.lastError ?? 'resuming'}`
  }

  readiness(): CacheReadiness {
    const reasons: string[] = []
    const unavailable = this.unavailable()
    if (unavailable) reasons.push(unavailable)
    const broken = this.reflectors.filter((r) => r.state.synced && !r.state.watching && !r.state.absent).map((r) => r.state.kind)
    if (broken.length > 0 && !unavailable) reasons.push(`watch reconnecting: ${broken.join(', ')}`)
    // RBAC missing a verb: each refused kind with the fix, whatever else is wrong.
    for (const reflector of this.reflectors) if (reflector.state.forbidden && reflector.state.lastError) reasons.push(reflector.state.lastError)
    return {
      ready: this.synced() && !unavailable,
      synced: this.synced(),
      reasons,
      kinds: this.reflectors.map((r) => ({ ...r.state, restarts: { ...r.state.restarts } })),
      apiserver: { ...this.liveness.state },
    }
  }

  async waitForSync(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.synced() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
    return this.synced()
  }

  get(name: string): NamespaceInfo | undefined {
    return this.store.get(name)
  }

  services(namespace: string): Iterable<ServiceRecord> {
    return this.store.services(namespace)
  }

  workloadsMatching(namespace: string, selector: Readonly<Record<string, string>>): WorkloadRecord[] {
    return this.store.workloadsMatching(namespace, selector)
  }

  workloadsSelectedBy(namespace: string, selector: LabelSelector): WorkloadRecord[] {
    return this.store.workloadsSelectedBy(namespace, selector)
  }

  disruptionBudgets(namespace: string): Iterable<PdbRecord> {
    return this.store.disruptionBudgets(namespace)
  }

  autoscalerFor(namespace: string, target: { group: string; kind: string; name: string }): HpaRecord | undefined {
    return this.store.autoscalerFor(namespace, target)
  }

  workload(namespace: string, kind: string, name: string): WorkloadRecord | undefined {
    return this.store.workload(namespace, kind, name)
  }

  service(namespace: string, name: string): ServiceInfo | undefined {
    return this.store.service(namespace, name)
  }

  serviceNames(namespace: string): string[] {
    return this.store.serviceNames(namespace)
  }

  ingresses(namespace: string): Iterable<IngressRecord> {
    return this.store.ingresses(namespace)
  }

  routesTo(namespace: string): RouteRecord[] {
    return this.store.routesTo(namespace)
  }

  referenceGrants(namespace: string): Iterable<GrantRecord> {
    return this.store.referenceGrants(namespace)
  }

  nodes(): Iterable<NodeRecord> {
    return this.store.nodes()
  }

  monitors(namespace: string): MonitorRecord[] {
    return this.store.monitors(namespace)
  }

  targetGroupBindings(namespace: string): Iterable<TargetGroupBindingRecord> {
    return this.store.targetGroupBindings(namespace)
  }

  targetGroupBindingsTo(namespace: string, service: string): readonly TargetGroupBindingRecord[] {
    return this.store.targetGroupBindingsTo(namespace, service)
  }

  albIngressesTo(namespace: string, service: string): readonly IngressRecord[] {
    return this.store.albIngressesTo(namespace, service)
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.store.get(name)
  }
}

/** The API server's version from GET /version ("28+" style minors included), or undefined. */
export async function readServerVersion(kc: KubeConfig): Promise<KubernetesVersion | undefined> {
  const version = parseVersion(await getJson<{ major?: string; minor?: string; gitVersion?: string }>(kc, '/version', 10_000))
  return version ? { major: version.major, minor: version.minor } : undefined
}

/** A KubeConfig from --kubeconfig/KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig()
  if (path) kc.loadFromFile(path)
  else kc.loadFromDefault()
  if (!kc.getCurrentCluster()) throw new Error('no cluster in the kubeconfig (use --kubeconfig, KUBECONFIG, or run in a cluster)')
  return kc
}
