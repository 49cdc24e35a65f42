// The one registry of the Kubernetes kinds hitless knows: what rules judge and read, what the cache
// watches, what RBAC grants and which resources the webhook configurations name all come from here
// (through the rules' declarations, src/contract/derive.ts). Plain data, imported by everything.

export interface KindInfo {
  group: string
  version: string
  /** The plural resource name in URLs, RBAC and webhook rules. */
  resource: string
  namespaced: boolean
  /**
   * Older versions an API server may serve instead (policy/v1beta1 PDBs before 1.21, autoscaling/v2beta2
   * HPAs before 1.23): judged the same, named in the webhook rules, and listed when `version` is not.
   */
  olderVersions?: readonly string[]
  /** A custom resource: a cluster without its CRD simply has none (the cache holds nothing, not broken). */
  optional?: boolean
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
  Rollout: { group: 'argoproj.io', version: 'v1alpha1', resource: 'rollouts', namespaced: true, optional: true },
  PodDisruptionBudget: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespaced: true, olderVersions: ['v1beta1'] },
  HorizontalPodAutoscaler: { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', namespaced: true, olderVersions: ['v2beta2'] },
  Ingress: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespaced: true },
  HTTPRoute: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes', namespaced: true, olderVersions: ['v1beta1'], optional: true },
  GRPCRoute: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'grpcroutes', namespaced: true, optional: true },
  ReferenceGrant: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'referencegrants', namespaced: true, olderVersions: ['v1beta1'], optional: true },
  ServiceMonitor: { group: 'monitoring.coreos.com', version: 'v1', resource: 'servicemonitors', namespaced: true, optional: true },
  PodMonitor: { group: 'monitoring.coreos.com', version: 'v1', resource: 'podmonitors', namespaced: true, optional: true },
  TargetGroupBinding: { group: 'elbv2.k8s.aws', version: 'v1beta1', resource: 'targetgroupbindings', namespaced: true, olderVersions: ['v1alpha1'], optional: true },
  Node: { group: '', version: 'v1', resource: 'nodes', namespaced: false },
} as const satisfies Record<string, KindInfo>

export type KindName = keyof typeof KINDS

export const KIND_NAMES = Object.keys(KINDS) as KindName[]

/** The kinds with a pod template the pod-spec rules judge (a bare Pod's spec is its own template). */
export const POD_TEMPLATE_KINDS: readonly KindName[] = ['Pod', 'ReplicationController', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Rollout']

/** The collection URL path of a kind, cluster-wide: /api/v1/services, /apis/apps/v1/deployments. */
export function listPath(kind: KindName, version: string = KINDS[kind].version): string {
  const { group, resource } = KINDS[kind]
  return group === '' ? `/api/${version}/${resource}` : `/apis/${group}/${version}/${resource}`
}

/** The API group of a kind the registry knows (undefined for others: Job, CronJob…). */
export function groupOfKind(kind: string): string | undefined {
  return (KINDS as Record<string, KindInfo | undefined>)[kind]?.group
}

/** Every version of a kind hitless judges alike, the current one first. */
export function versionsOf(kind: KindName): readonly string[] {
  const info: KindInfo = KINDS[kind]
  return [info.version, ...(info.olderVersions ?? [])]
}
