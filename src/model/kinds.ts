// The one registry of the Kubernetes kinds hitless knows: what rules judge and read, what the cache
// watches, what RBAC grants and which resources the webhook configurations name all come from here
// (through the rules' declarations, src/contract/derive.ts). Plain data, imported by everything.

export interface KindInfo {
  group: string
  version: string
  /** The plural resource name in URLs, RBAC and webhook rules. */
  resource: string
  namespaced: boolean
}

// In this order in every derived list (webhook rules, RBAC, the cache).
export const KINDS = {
  Namespace: { group: '', version: 'v1', resource: 'namespaces', namespaced: false },
  Service: { group: '', version: 'v1', resource: 'services', namespaced: true },
  Pod: { group: '', version: 'v1', resource: 'pods', namespaced: true },
  ReplicationController: { group: '', version: 'v1', resource: 'replicationcontrollers', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true },
  PodDisruptionBudget: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespaced: true },
  HorizontalPodAutoscaler: { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', namespaced: true },
} as const satisfies Record<string, KindInfo>

export type KindName = keyof typeof KINDS

export const KIND_NAMES = Object.keys(KINDS) as KindName[]

/** The kinds with a pod template the pod-spec rules judge (a bare Pod's spec is its own template). */
export const POD_TEMPLATE_KINDS: readonly KindName[] = ['Pod', 'ReplicationController', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']

/** The collection URL path of a kind, cluster-wide: /api/v1/services, /apis/apps/v1/deployments. */
export function listPath(kind: KindName): string {
  const { group, version, resource } = KINDS[kind]
  return group === '' ? `/api/${version}/${resource}` : `/apis/${group}/${version}/${resource}`
}
