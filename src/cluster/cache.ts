// The webhook's view of the cluster: one reflector per kind feeding one store. Not usable until every
// kind has been listed once; stale (and so unusable) while a watch has been broken for longer than
// staleAfterMs. Both show in /readyz and in the referential rules' answers.
import { KubeConfig } from '@kubernetes/client-node'
import type { NamespaceDirectory, NamespaceInfo } from '../engine/namespaces.ts'
import type { Logger } from '../log.ts'
import type { KubernetesVersion } from '../rules/rule.ts'
import { getJson } from './kube-client.ts'
import type { ServiceRecord, WorkloadRecord } from './records.ts'
import { Reflector, type ReflectorState } from './reflector.ts'
import { ClusterStore } from './store.ts'
import type { ClusterView } from './view.ts'

export const CACHED_RESOURCES: readonly { kind: string; path: string }[] = [
  { kind: 'Namespace', path: '/api/v1/namespaces' },
  { kind: 'Service', path: '/api/v1/services' },
  { kind: 'Pod', path: '/api/v1/pods' },
  { kind: 'ReplicationController', path: '/api/v1/replicationcontrollers' },
  { kind: 'Deployment', path: '/apis/apps/v1/deployments' },
  { kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets' },
  { kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets' },
  { kind: 'ReplicaSet', path: '/apis/apps/v1/replicasets' },
]

export interface ClusterCacheOptions {
  kc: KubeConfig
  logger: Logger
  staleAfterMs?: number
  pageSize?: number
  backoff?: { initialMs: number; maxMs: number }
}

export interface CacheReadiness {
  synced: boolean
  reasons: string[]
  kinds: ReflectorState[]
}

export class ClusterCache implements ClusterView, NamespaceDirectory {
  readonly store = new ClusterStore()
  private readonly reflectors: Reflector[]
  private readonly staleAfterMs: number

  constructor(options: ClusterCacheOptions) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000
    this.reflectors = CACHED_RESOURCES.map(
      ({ kind, path }) =>
        new Reflector({
          kc: options.kc,
          store: this.store,
          kind,
          path,
          logger: options.logger,
          ...(options.pageSize ? { pageSize: options.pageSize } : {}),
          ...(options.backoff ? { backoff: options.backoff } : {}),
        }),
    )
  }

  start(): void {
    for (const reflector of this.reflectors) reflector.start()
  }

  stop(): void {
    for (const reflector of this.reflectors) reflector.stop()
  }

  synced(): boolean {
    return this.reflectors.every((r) => r.state.synced)
  }

  unavailable(): string | undefined {
    const unsynced = this.reflectors.filter((r) => !r.state.synced).map((r) => r.state.kind)
    if (unsynced.length > 0) return `cache not synced yet: ${unsynced.join(', ')}`
    const now = Date.now()
    const stale = this.reflectors.filter((r) => r.state.brokenSince !== undefined && now - r.state.brokenSince > this.staleAfterMs)
    if (stale.length === 0) return undefined
    const first = stale[0]!.state
    return `watch for ${stale.map((r) => r.state.kind).join(', ')} broken for ${Math.round((now - first.brokenSince!) / 1000)} s: ${first.lastError ?? 'unknown error'}`
  }

  readiness(): CacheReadiness {
    const reasons: string[] = []
    const unavailable = this.unavailable()
    if (unavailable) reasons.push(unavailable)
    const broken = this.reflectors.filter((r) => r.state.synced && !r.state.watching).map((r) => r.state.kind)
    if (broken.length > 0 && !unavailable) reasons.push(`watch reconnecting: ${broken.join(', ')}`)
    return { synced: this.synced(), reasons, kinds: this.reflectors.map((r) => ({ ...r.state })) }
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
}

/** The API server's version from GET /version ("28+" style minors included), or undefined. */
export async function readServerVersion(kc: KubeConfig): Promise<KubernetesVersion | undefined> {
  const version = await getJson<{ major?: string; minor?: string }>(kc, '/version', 10_000)
  const major = Number.parseInt(version.major ?? '', 10)
  const minor = Number.parseInt(version.minor ?? '', 10)
  return Number.isInteger(major) && Number.isInteger(minor) ? { major, minor } : undefined
}

/** A KubeConfig from --kubeconfig/KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig()
  if (path) kc.loadFromFile(path)
  else kc.loadFromDefault()
  if (!kc.getCurrentCluster()) throw new Error('no cluster in the kubeconfig (use --kubeconfig, KUBECONFIG, or run in a cluster)')
  return kc
}
