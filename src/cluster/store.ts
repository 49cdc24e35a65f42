// The cluster cache's indexes: one NamespaceIndex per namespace (namespace-index.ts: records by kind
// then name and by label pair), Nodes by shape, routes that cross namespaces, and what rules ask of
// them (ClusterView). Laid out for memory (BENCHMARKS.md): no composite key strings, and each
// namespace name is stored once.
import type { NamespaceDirectory, NamespaceInfo } from '../model/namespaces.ts'
import { routeBackends, type GrantRecord, type IngressRecord, type RouteRecord } from './routes.ts'
import { watchesNamespace, type MonitorRecord } from './monitors.ts'
import type { NodeRecord } from '../scheduling/node-record.ts'
import { NodeShapes } from '../scheduling/node-shapes.ts'
import { selectorSelects, type LabelSelector } from './label-selectors.ts'
import type { HpaRecord, PdbRecord } from './disruption-records.ts'
import type { ServiceInfo, ServicePort, ServiceRecord } from './service-records.ts'
import type { WorkloadRecord } from './records.ts'
import type { TargetGroupBindingRecord } from './load-balancers.ts'
import type { ClusterView } from './view.ts'
import type { Entry } from './entry.ts'

import { NamespaceIndex } from './namespace-index.ts'
import { NONE } from './grouped-by-name.ts'

/** A complete, trusted view of what it holds; the live cache adds staleness on top. */
export class ClusterStore implements NamespaceDirectory, ClusterView {
  private readonly namespaces = new Map<string, NamespaceIndex>()
  /** Offline sets: the custom resources of each namespace, in file order (an operator may turn them into pods). */
  private readonly customResources = new Map<string, { kind: string; name: string }[]>()
  /** A set of manifests rather than a cluster: it may not hold every maker of pods. */
  readonly offline: boolean

  constructor(options: { offline?: boolean } = {}) {
    this.offline = options.offline === true
  }
  private readonly namespaceInfo = new Map<string, NamespaceInfo>()
  /** One copy of each namespace name, shared by every record in it. */
  private readonly namespaceNames = new Map<string, string>()

  private index(namespace: string): NamespaceIndex {
    let index = this.namespaces.get(namespace)
    if (!index) this.namespaces.set(namespace, (index = new NamespaceIndex()))
    return index
  }

  private canonical(namespace: string): string {
    const known = this.namespaceNames.get(namespace)
    if (known !== undefined) return known
    this.namespaceNames.set(namespace, namespace)
    return namespace
  }

  private tidy(namespace: string): void {
    if (this.namespaces.get(namespace)?.empty) {
      this.namespaces.delete(namespace)
      if (!this.namespaceInfo.has(namespace)) this.namespaceNames.delete(namespace)
    }
  }

  putWorkload(record: WorkloadRecord): void {
    const namespace = this.canonical(record.namespace)
    this.index(namespace).addWorkload({ ...record, namespace })
  }

  deleteWorkload(kind: string, namespace: string, name: string): void {
    this.namespaces.get(namespace)?.removeWorkload(kind, name)
    this.tidy(namespace)
  }

  putService(record: ServiceRecord): void {
    const namespace = this.canonical(record.namespace)
    const index = this.index(namespace)
    index.portsOnly.delete(record.name)
    index.services.set(record.name, { ...record, namespace })
  }

  /** A Service without a selector, or ExternalName: kept for its name and ports only. */
  putServicePorts(namespace: string, name: string, ports: readonly ServicePort[], externalName: boolean): void {
    const index = this.index(this.canonical(namespace))
    index.services.delete(name)
    index.portsOnly.set(name, { ports, externalName })
  }

  deleteService(namespace: string, name: string): void {
    const index = this.namespaces.get(namespace)
    index?.services.delete(name)
    index?.portsOnly.delete(name)
    this.tidy(namespace)
  }

  putIngress(record: IngressRecord): void {
    const namespace = this.canonical(record.namespace)
    this.index(namespace).putIngress({ ...record, namespace })
  }

  deleteIngress(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.removeIngress(name)
    this.tidy(namespace)
  }

  /** Nodes (cluster-scoped): allocatable, labels and taints only. */
  private readonly nodeRecords = new NodeShapes()

  putNode(record: NodeRecord): void {
    this.nodeRecords.put(record)
  }

  deleteNode(name: string): void {
    this.nodeRecords.delete(name)
  }

  /** Every node; also indexed by shape (placement() uses it). */
  nodes(): NodeShapes {
    return this.nodeRecords
  }

  /** ServiceMonitors and PodMonitors by `namespace/Kind/name`: few, and they may look into other namespaces. */
  private readonly monitorRecords = new Map<string, MonitorRecord>()

  putMonitor(record: MonitorRecord): void {
    this.monitorRecords.set(`${record.namespace}/${record.kind}/${record.name}`, record)
  }

  deleteMonitor(kind: string, namespace: string, name: string): void {
    this.monitorRecords.delete(`${namespace}/${kind}/${name}`)
  }

  /** The monitors that look in `namespace` (their own, and others' with a namespaceSelector naming it). */
  monitors(namespace: string): MonitorRecord[] {
    return [...this.monitorRecords.values()].filter((monitor) => watchesNamespace(monitor, namespace))
  }

  /** Routes that send traffic into another namespace, by `namespace/Kind/name` (few; scanned on a Service change). */
  private readonly crossNamespaceRoutes = new Map<string, RouteRecord>()

  putRoute(record: RouteRecord): void {
    const namespace = this.canonical(record.namespace)
    const key = `${record.kind}/${record.name}`
    this.index(namespace).routes.set(key, { ...record, namespace })
    if (routeBackends(record).some((b) => b.namespace !== namespace)) this.crossNamespaceRoutes.set(`${namespace}/${key}`, record)
    else this.crossNamespaceRoutes.delete(`${namespace}/${key}`)
  }

  deleteRoute(kind: string, namespace: string, name: string): void {
    this.namespaces.get(namespace)?.routes.delete(`${kind}/${name}`)
    this.crossNamespaceRoutes.delete(`${namespace}/${kind}/${name}`)
    this.tidy(namespace)
  }

  putGrant(record: GrantRecord): void {
    const namespace = this.canonical(record.namespace)
    this.index(namespace).grants.set(record.name, { ...record, namespace })
  }

  deleteGrant(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.grants.delete(name)
    this.tidy(namespace)
  }

  putTargetGroupBinding(record: TargetGroupBindingRecord): void {
    const namespace = this.canonical(record.namespace)
    this.index(namespace).putTargetGroupBinding({ ...record, namespace })
  }

  deleteTargetGroupBinding(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.removeTargetGroupBinding(name)
    this.tidy(namespace)
  }

  putPdb(record: PdbRecord): void {
    const namespace = this.canonical(record.namespace)
    this.index(namespace).pdbs.set(record.name, { ...record, namespace })
  }

  deletePdb(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.pdbs.delete(name)
    this.tidy(namespace)
  }

  putHpa(record: HpaRecord): void {
    const namespace = this.canonical(record.namespace)
    this.index(namespace).putHpa({ ...record, namespace })
  }

  deleteHpa(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.deleteHpa(name)
    this.tidy(namespace)
  }

  putNamespace(info: NamespaceInfo): void {
    this.namespaceInfo.set(this.canonical(info.name), info)
  }

  deleteNamespace(name: string): void {
    this.namespaceInfo.delete(name)
  }

  /**
   * Every record of one kind ('Service', 'Namespace', 'Node', a workload kind…) as the store was given
   * it: a re-list deletes those it no longer lists. Safe to iterate across awaits while records come and go.
   */
  *entries(kind: string): Generator<Entry> {
    if (kind === 'Namespace') for (const info of this.namespaceInfo.values()) yield { kind, info }
    else if (kind === 'Node') for (const record of this.nodeRecords) yield { kind, record }
    else if (kind === 'ServiceMonitor' || kind === 'PodMonitor') {
      for (const record of this.monitorRecords.values()) if (record.kind === kind) yield { kind: 'Monitor', record }
    } else for (const [namespace, index] of this.namespaces) yield* index.entries(kind, namespace)
  }

  unavailable(): string | undefined {
    return undefined
  }

  get(name: string): NamespaceInfo | undefined {
    return this.namespaceInfo.get(name)
  }

  services(namespace: string): Iterable<ServiceRecord> {
    return this.namespaces.get(namespace)?.services.values() ?? []
  }

  service(namespace: string, name: string): ServiceInfo | undefined {
    const index = this.namespaces.get(namespace)
    const selected = index?.services.get(name)
    if (selected) return selected
    const other = index?.portsOnly.get(name)
    return other ? { namespace, name, ports: other.ports, ...(other.externalName ? { externalName: true } : {}) } : undefined
  }

  serviceNames(namespace: string): string[] {
    const index = this.namespaces.get(namespace)
    return index ? [...index.services.keys(), ...index.portsOnly.keys()] : []
  }

  ingresses(namespace: string): Iterable<IngressRecord> {
    return this.namespaces.get(namespace)?.ingresses.values() ?? []
  }

  /** The routes that send traffic to Services of `namespace`: its own, and those of other namespaces naming it. */
  routesTo(namespace: string): RouteRecord[] {
    const own = [...(this.namespaces.get(namespace)?.routes.values() ?? [])]
    for (const route of this.crossNamespaceRoutes.values()) if (route.namespace !== namespace && routeBackends(route).some((b) => b.namespace === namespace)) own.push(route)
    return own
  }

  referenceGrants(namespace: string): Iterable<GrantRecord> {
    return this.namespaces.get(namespace)?.grants.values() ?? []
  }

  targetGroupBindings(namespace: string): Iterable<TargetGroupBindingRecord> {
    return this.namespaces.get(namespace)?.targetGroupBindings.values() ?? []
  }

  albIngressesTo(namespace: string, service: string): readonly IngressRecord[] {
    return this.namespaces.get(namespace)?.albIngressesTo(service) ?? NONE
  }

  targetGroupBindingsTo(namespace: string, service: string): readonly TargetGroupBindingRecord[] {
    return this.namespaces.get(namespace)?.targetGroupBindingsTo(service) ?? NONE
  }

  namespace(name: string): NamespaceInfo | undefined {
    return this.namespaceInfo.get(name)
  }

  disruptionBudgets(namespace: string): Iterable<PdbRecord> {
    return this.namespaces.get(namespace)?.pdbs.values() ?? []
  }

  autoscalerFor(namespace: string, target: { group: string; kind: string; name: string }): HpaRecord | undefined {
    return this.namespaces.get(namespace)?.hpaFor(target.group, target.kind, target.name)
  }

  workload(namespace: string, kind: string, name: string): WorkloadRecord | undefined {
    return this.namespaces.get(namespace)?.workloads.get(kind)?.get(name)
  }

  /** Offline sets: a custom resource seen in a namespace (an operator may turn it into pods). */
  noteCustomResource(namespace: string, kind: string, name = ''): void {
    const known = this.customResources.get(namespace)
    if (known) known.push({ kind, name })
    else this.customResources.set(namespace, [{ kind, name }])
  }

  /**
   * Offline sets only (see ClusterView.podMakersUnknown); a live store never notes anything. With the
   * labels of the pods in question, the custom resource they point at is named (an operator labels its
   * pods with its kind or the resource's name: `prometheus: k8s`, `app.kubernetes.io/name: alertmanager`).
   */
  podMakersUnknown(namespace: string, podLabels?: Readonly<Record<string, string>>): string | undefined {
    if (!this.offline) return undefined
    const custom = this.customResourceText(namespace, podLabels)
    if (custom) return `${custom.text}, and an operator may create ${custom.one ? 'its' : 'their'} pods`
    if ((this.namespaces.get(namespace)?.workloadCount ?? 0) === 0) return `the files hold no workload of namespace ${namespace}`
    return undefined
  }

  operatorMayCreate(namespace: string, what: string): string | undefined {
    const custom = this.offline ? this.customResourceText(namespace) : undefined
    return custom ? `${custom.text}, and an operator may create ${what}` : undefined
  }

  /** `the files hold an Alertmanager in monitoring`: the custom resource the pod labels point at, or all of them. */
  private customResourceText(namespace: string, podLabels?: Readonly<Record<string, string>>): { text: string; one: boolean } | undefined {
    const custom = this.customResources.get(namespace)
    if (!custom) return undefined
    const resource = podLabels ? pointedAt(custom, podLabels) : undefined
    const kinds = [...new Set(custom.map((c) => c.kind))]
    if (!resource && kinds.length > 1) return { text: `the files hold custom resources (${kinds.join(', ')}) in ${namespace}`, one: false }
    const kind = resource?.kind ?? kinds[0]!
    return { text: `the files hold ${article(kind)} ${kind} in ${namespace}`, one: true }
  }

  workloadsMatching(namespace: string, selector: Readonly<Record<string, string>>): WorkloadRecord[] {
    return this.namespaces.get(namespace)?.matching(selector) ?? []
  }

  /**
   * The workloads (and unowned Pods) a full LabelSelector selects: candidates from the label index by
   * matchLabels and single-valued In expressions, then every term checked (selectorSelects).
   */
  workloadsSelectedBy(namespace: string, selector: LabelSelector): WorkloadRecord[] {
    const index = this.namespaces.get(namespace)
    if (!index) return []
    const equalities: Record<string, string> = { ...(selector.matchLabels ?? {}) }
    for (const expression of selector.matchExpressions ?? []) {
      if (expression.operator === 'In' && expression.values?.length === 1 && !(expression.key in equalities)) equalities[expression.key] = expression.values[0]!
    }
    return index.matching(equalities).filter((record) => selectorSelects(selector, record))
  }

  counts(): { namespaces: number; services: number; workloads: number; pdbs: number; hpas: number } {
    let services = 0
    let workloads = 0
    let pdbs = 0
    let hpas = 0
    for (const index of this.namespaces.values()) {
      services += index.services.size
      workloads += index.workloadCount
      pdbs += index.pdbs.size
      hpas += index.hpas
    }
    return { namespaces: this.namespaceInfo.size, services, workloads, pdbs, hpas }
  }
}

/** "an" before a vowel: an Alertmanager, a Prometheus. */
const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a')

/** The custom resource whose kind the labels name (as a key or a value), else the one whose name they hold. */
function pointedAt(resources: readonly { kind: string; name: string }[], labels: Readonly<Record<string, string>>) {
  const words = new Set(Object.entries(labels).flatMap(([key, value]) => [key.split('/').pop()!.toLowerCase(), value.toLowerCase()]))
  return resources.find((r) => words.has(r.kind.toLowerCase())) ?? resources.find((r) => r.name !== '' && words.has(r.name.toLowerCase()))
}
