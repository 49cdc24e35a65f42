// What rules may ask about the rest of the cluster. The webhook answers from its watch-fed cache; the
// CLI answers from the manifest set; with --cluster off there is no view and referential rules see
// only the object under review.
import { selects, type LabelSelector } from './label-selectors.ts'
import type { HpaRecord, PdbRecord } from './disruption-records.ts'
import type { ServiceInfo, ServiceRecord } from './service-records.ts'
import type { WorkloadRecord } from './records.ts'
import type { GrantRecord, IngressRecord, RouteRecord } from './routes.ts'
import type { NodeRecord } from '../scheduling/node-record.ts'
import type { MonitorRecord } from './monitors.ts'
import type { TargetGroupBindingRecord } from './load-balancers.ts'
import type { NamespaceInfo } from '../model/namespaces.ts'

export interface ClusterView {
  /** Why the state cannot be trusted right now (not synced, watch broken), or undefined. */
  unavailable(): string | undefined
  services(namespace: string): Iterable<ServiceRecord>
  workloadsMatching(namespace: string, selector: Readonly<Record<string, string>>): WorkloadRecord[]
  /** With full LabelSelector semantics (matchLabels AND matchExpressions). */
  workloadsSelectedBy(namespace: string, selector: LabelSelector): WorkloadRecord[]
  /** The PodDisruptionBudgets of a namespace. */
  disruptionBudgets(namespace: string): Iterable<PdbRecord>
  /** The HorizontalPodAutoscaler that scales a workload, if one does. */
  autoscalerFor(namespace: string, target: { group: string; kind: string; name: string }): HpaRecord | undefined
  /** One workload (or unowned Pod) by kind and name. */
  workload(namespace: string, kind: string, name: string): WorkloadRecord | undefined
  /** Any Service by name (with a selector or not), for the traffic-path rules. */
  service(namespace: string, name: string): ServiceInfo | undefined
  serviceNames(namespace: string): string[]
  ingresses(namespace: string): Iterable<IngressRecord>
  /** Routes that send traffic to Services of the namespace (its own and other namespaces'). */
  routesTo(namespace: string): RouteRecord[]
  referenceGrants(namespace: string): Iterable<GrantRecord>
  /** The ServiceMonitors and PodMonitors that look in a namespace (what Prometheus scrapes there). */
  monitors(namespace: string): MonitorRecord[]
  /** The AWS Load Balancer Controller's TargetGroupBindings of a namespace. */
  targetGroupBindings(namespace: string): Iterable<TargetGroupBindingRecord>
  /** The TargetGroupBindings of a namespace whose serviceRef names `service`, in name order (indexed). */
  targetGroupBindingsTo(namespace: string, service: string): readonly TargetGroupBindingRecord[]
  /** The Ingresses of class alb of a namespace that send traffic to `service`, in name order (indexed). */
  albIngressesTo(namespace: string, service: string): readonly IngressRecord[]
  /** A Namespace's labels and annotations (in an audit: only Namespaces among the files). */
  namespace(name: string): NamespaceInfo | undefined
  /** The cluster's Nodes (in an audit: the Node objects among the files, usually none). */
  nodes(): Iterable<NodeRecord>
  /**
   * Why this view cannot know every maker of pods in the namespace (an audited file set with a custom
   * resource an operator turns into pods, or with no workload of that namespace at all), or undefined
   * when it can (a live cluster sees the pods themselves).
   */
  podMakersUnknown?(namespace: string, podLabels?: Readonly<Record<string, string>>): string | undefined
  /**
   * Offline sets: why an object the files lack may still exist (`what`, made by an operator from a
   * custom resource the files hold in the namespace), or undefined.
   */
  operatorMayCreate?(namespace: string, what: string): string | undefined
}

export function servicesSelecting(view: ClusterView, namespace: string, labels: Readonly<Record<string, string>>): ServiceRecord[] {
  const found: ServiceRecord[] = []
  for (const service of view.services(namespace)) if (selects(service.selector, labels)) found.push(service)
  return found
}

export function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`)
  return pairs.length > 0 ? pairs.join(',') : '(none)'
}
