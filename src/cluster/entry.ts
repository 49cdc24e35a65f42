// A listed object reduced to what the store keeps (lean records, see ingest.ts): what a re-list holds
// instead of pages, and what the store gives back of one kind (ClusterStore.entries).
import type { NamespaceInfo } from '../model/namespaces.ts'
import type { HpaRecord, PdbRecord } from './disruption-records.ts'
import type { ServiceRecord } from './service-records.ts'
import type { WorkloadRecord } from './records.ts'
import type { NodeRecord } from '../scheduling/node-record.ts'
import type { GrantRecord, IngressRecord, RouteRecord } from './routes.ts'
import type { MonitorRecord } from './monitors.ts'
import type { TargetGroupBindingRecord } from './load-balancers.ts'

export type Entry =
  | { kind: 'Namespace'; info: NamespaceInfo }
  | { kind: 'Service'; record: ServiceRecord }
  | { kind: 'ServicePorts'; namespace: string; name: string; ports: ServiceRecord['ports']; externalName: boolean }
  | { kind: 'Ingress'; record: IngressRecord }
  | { kind: 'Node'; record: NodeRecord }
  | { kind: 'Route'; record: RouteRecord }
  | { kind: 'ReferenceGrant'; record: GrantRecord }
  | { kind: 'TargetGroupBinding'; record: TargetGroupBindingRecord }
  | { kind: 'PodDisruptionBudget'; record: PdbRecord }
  | { kind: 'HorizontalPodAutoscaler'; record: HpaRecord }
  | { kind: 'Monitor'; record: MonitorRecord }
  | { kind: 'Workload'; record: WorkloadRecord }

/** The namespace ('' for cluster-scoped kinds) and name an entry is stored under. */
export function entryKey(entry: Entry): { namespace: string; name: string } {
  if (entry.kind === 'Namespace') return { namespace: '', name: entry.info.name }
  if (entry.kind === 'ServicePorts') return entry
  if (entry.kind === 'Node') return { namespace: '', name: entry.record.name }
  return entry.record
}
