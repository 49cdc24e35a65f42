// Puts whole objects into the store as lean records (and takes them out). The reflector feeds it from
// list/watch; CLI audits and tests feed it from manifests.
import { apiGroupOf } from '../model/api-group.ts'
import type { KubeObject } from '../model/types.ts'
import { namespaceInfo } from '../model/namespaces.ts'
import type { Entry } from './entry.ts'
import { hpaRecord, pdbRecord } from './disruption-records.ts'
import { servicePorts, serviceRecord } from './service-records.ts'
import { shared, workloadRecord } from './records.ts'
import { nodeRecord } from '../scheduling/node-record.ts'
import { grantRecord, ingressRecord, routeRecord } from './routes.ts'
import { ClusterStore } from './store.ts'
import { monitorRecord } from './monitors.ts'
import { targetGroupBindingRecord } from './load-balancers.ts'
import { KIND_NAMES, KINDS } from '../model/kinds.ts'

/** The kinds the cache can hold, with the API group each belongs to (the kind registry's). */
export const CACHED_KINDS: Record<string, string> = Object.fromEntries(KIND_NAMES.map((kind) => [kind, KINDS[kind].group]))

/** Other kinds whose pod templates make pods a Service can select (in manifest sets; not watched). */
export const OTHER_POD_OWNERS: Record<string, string> = { Job: 'batch', CronJob: 'batch' }

/** Puts `object` into the store as its lean record, or takes it out when it has none (a Pod its owner stands for). */
export function ingest(store: ClusterStore, kind: string, object: KubeObject): void {
  const entry = toEntry(kind, object)
  if (entry) putEntry(store, entry)
  else forget(store, kind, object)
}

export function forget(store: ClusterStore, kind: string, object: KubeObject): void {
  forgetKey(store, kind, object.metadata?.namespace ?? '', object.metadata?.name ?? '')
}

/** Takes the record of `kind` stored under `namespace` ('' for cluster-scoped kinds) and `name` out of the store. */
export function forgetKey(store: ClusterStore, kind: string, namespace: string, name: string): void {
  if (kind === 'Namespace') store.deleteNamespace(name)
  else if (kind === 'Service') store.deleteService(namespace, name)
  else if (kind === 'Node') store.deleteNode(name)
  else if (kind === 'Ingress') store.deleteIngress(namespace, name)
  else if (kind === 'HTTPRoute' || kind === 'GRPCRoute') store.deleteRoute(kind, namespace, name)
  else if (kind === 'ReferenceGrant') store.deleteGrant(namespace, name)
  else if (kind === 'TargetGroupBinding') store.deleteTargetGroupBinding(namespace, name)
  else if (kind === 'PodDisruptionBudget') store.deletePdb(namespace, name)
  else if (kind === 'HorizontalPodAutoscaler') store.deleteHpa(namespace, name)
  else if (kind === 'ServiceMonitor' || kind === 'PodMonitor') store.deleteMonitor(kind, namespace, name)
  else store.deleteWorkload(kind, namespace, name)
}

/** A store holding the cacheable objects among `objects`; others are ignored. */
export function storeFrom(objects: Iterable<KubeObject>, defaultNamespace = 'default'): ClusterStore {
  const store = new ClusterStore()
  for (const object of objects) {
    const kind = object.kind ?? ''
    if (CACHED_KINDS[kind] !== apiGroupOf(object) && OTHER_POD_OWNERS[kind] !== apiGroupOf(object)) continue
    const namespaced = kind === 'Namespace' ? object : { ...object, metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? defaultNamespace } }
    ingest(store, kind, namespaced)
  }
  return store
}

export function toEntry(kind: string, object: KubeObject): Entry | undefined {
  if (kind === 'Namespace') return { kind, info: namespaceInfo(object) }
  if (kind === 'Service') {
    const record = serviceRecord(object)
    return record
      ? { kind, record: shared(record) }
      : { kind: 'ServicePorts', namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '', ports: servicePorts(object), externalName: object.spec?.['type'] === 'ExternalName' }
  }
  if (kind === 'Node') return { kind, record: nodeRecord(object) }
  if (kind === 'Ingress') return { kind, record: ingressRecord(object) }
  if (kind === 'HTTPRoute' || kind === 'GRPCRoute') return { kind: 'Route', record: routeRecord(kind, object) }
  if (kind === 'ReferenceGrant') return { kind, record: grantRecord(object) }
  if (kind === 'TargetGroupBinding') return { kind, record: targetGroupBindingRecord(object) }
  if (kind === 'PodDisruptionBudget') return { kind, record: pdbRecord(object) }
  if (kind === 'HorizontalPodAutoscaler') {
    const record = hpaRecord(object)
    return record ? { kind, record } : undefined
  }
  if (kind === 'ServiceMonitor' || kind === 'PodMonitor') return { kind: 'Monitor', record: monitorRecord(kind, object) }
  const record = workloadRecord(kind, object)
  return record ? { kind: 'Workload', record: shared(record) } : undefined
}

/** Stores one entry, replacing the record of the same kind and name. */
export function putEntry(store: ClusterStore, entry: Entry): void {
  if (entry.kind === 'Namespace') store.putNamespace(entry.info)
  else if (entry.kind === 'Service') store.putService(entry.record)
  else if (entry.kind === 'ServicePorts') store.putServicePorts(entry.namespace, entry.name, entry.ports, entry.externalName)
  else if (entry.kind === 'Node') store.putNode(entry.record)
  else if (entry.kind === 'Ingress') store.putIngress(entry.record)
  else if (entry.kind === 'Route') store.putRoute(entry.record)
  else if (entry.kind === 'ReferenceGrant') store.putGrant(entry.record)
  else if (entry.kind === 'TargetGroupBinding') store.putTargetGroupBinding(entry.record)
  else if (entry.kind === 'PodDisruptionBudget') store.putPdb(entry.record)
  else if (entry.kind === 'HorizontalPodAutoscaler') store.putHpa(entry.record)
  else if (entry.kind === 'Monitor') store.putMonitor(entry.record)
  else store.putWorkload(entry.record)
}
