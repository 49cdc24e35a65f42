// The cluster cache's indexes: by namespace, and within a namespace by label pair, so "which workloads
// does this selector match" looks at the smallest candidate set instead of scanning. Laid out for
// memory (BENCHMARKS.md): records are keyed by kind then name (no composite key strings), a label
// pair held by one record points at it directly (most pods carry some unique label), and each
// namespace name is stored once.
import type { NamespaceDirectory, NamespaceInfo } from '../model/namespaces.ts'
import { routeBackends, type GrantRecord, type IngressRecord, type RouteRecord } from './routes.ts'
import type { NodeRecord } from '../scheduling/nodes.ts'
import type { TargetGroupBindingRecord } from './load-balancers.ts'
import { CONTROLLER_POD_LABEL_KEYS, selectorSelects, selectsPods, type HpaRecord, type LabelSelector, type PdbRecord, type ServiceInfo, type ServicePort, type ServiceRecord, type WorkloadRecord } from './records.ts'
import type { ClusterView } from './view.ts'

type Holders = WorkloadRecord | Set<WorkloadRecord>

class NamespaceIndex {
  readonly services = new Map<string, ServiceRecord>()
  readonly pdbs = new Map<string, PdbRecord>()
  /** Services without a selector (or ExternalName): only their ports; they exist for Ingresses and routes. */
  readonly portsOnly = new Map<string, { ports: readonly ServicePort[]; externalName: boolean }>()
  readonly ingresses = new Map<string, IngressRecord>()
  /** HTTPRoutes and GRPCRoutes by `Kind/name`. */
  readonly routes = new Map<string, RouteRecord>()
  readonly grants = new Map<string, GrantRecord>()
  readonly targetGroupBindings = new Map<string, TargetGroupBindingRecord>()
  /**
   * HPAs by the name of what they scale (the record's own string, no key built): usually one, an array
   * when HPAs scale same-named workloads of different kinds (or, wrongly, the same one).
   */
  private readonly hpaByTarget = new Map<string, HpaRecord | HpaRecord[]>()
  private hpaCount = 0
  /** kind → name → record */
  readonly workloads = new Map<string, Map<string, WorkloadRecord>>()
  private readonly byLabel = new Map<string, Holders>()
  private count = 0

  private link(label: string, record: WorkloadRecord): void {
    const held = this.byLabel.get(label)
    if (held === undefined) this.byLabel.set(label, record)
    else if (held instanceof Set) held.add(record)
    else this.byLabel.set(label, new Set([held, record]))
  }

  private unlink(label: string, record: WorkloadRecord): void {
    const held = this.byLabel.get(label)
    if (held === record) this.byLabel.delete(label)
    else if (held instanceof Set) {
      held.delete(record)
      if (held.size === 1) this.byLabel.set(label, held.values().next().value!)
    }
  }

  addWorkload(record: WorkloadRecord): void {
    this.removeWorkload(record.kind, record.name)
    let byName = this.workloads.get(record.kind)
    if (!byName) this.workloads.set(record.kind, (byName = new Map()))
    byName.set(record.name, record)
    this.count++
    for (const key in record.labels) this.link(`${key}=${record.labels[key]}`, record)
  }

  removeWorkload(kind: string, name: string): void {
    const record = this.workloads.get(kind)?.get(name)
    if (!record) return
    this.workloads.get(kind)!.delete(name)
    this.count--
    for (const key in record.labels) this.unlink(`${key}=${record.labels[key]}`, record)
  }

  clearKind(kind: string): void {
    for (const record of [...(this.workloads.get(kind)?.values() ?? [])]) this.removeWorkload(kind, record.name)
    this.workloads.delete(kind)
  }

  putHpa(record: HpaRecord): void {
    this.deleteHpa(record.name)
    const held = this.hpaByTarget.get(record.targetName)
    this.hpaByTarget.set(record.targetName, held === undefined ? record : [...(Array.isArray(held) ? held : [held]), record])
    this.hpaCount++
  }

  /** Deletes are rare: found by a scan of the namespace's HPAs. */
  deleteHpa(name: string): void {
    for (const [target, held] of this.hpaByTarget) {
      const list = Array.isArray(held) ? held : [held]
      const found = list.find((hpa) => hpa.name === name)
      if (!found) continue
      const rest = list.filter((hpa) => hpa !== found)
      if (rest.length === 0) this.hpaByTarget.delete(target)
      else this.hpaByTarget.set(target, rest.length === 1 ? rest[0]! : rest)
      this.hpaCount--
      return
    }
  }

  clearHpas(): void {
    this.hpaByTarget.clear()
    this.hpaCount = 0
  }

  get hpas(): number {
    return this.hpaCount
  }

  hpaFor(group: string, kind: string, name: string): HpaRecord | undefined {
    const held = this.hpaByTarget.get(name)
    const matches = (hpa: HpaRecord) => hpa.targetKind === kind && hpa.targetGroup === group
    return held === undefined ? undefined : Array.isArray(held) ? held.find(matches) : matches(held) ? held : undefined
  }

  matching(selector: Readonly<Record<string, string>>): WorkloadRecord[] {
    let smallest: Holders | undefined
    for (const key in selector) {
      // Labels controllers add to pods are not in templates (and not indexed): filter on them below.
      if (CONTROLLER_POD_LABEL_KEYS.has(key)) continue
      const held = this.byLabel.get(`${key}=${selector[key]}`)
      if (held === undefined) return []
      if (!(held instanceof Set)) return selectsPods(selector, held) ? [held] : []
      if (smallest === undefined || (smallest as Set<WorkloadRecord>).size > held.size) smallest = held
    }
    if (smallest === undefined) return this.all().filter((record) => selectsPods(selector, record))
    return smallest instanceof Set ? [...smallest].filter((record) => selectsPods(selector, record)) : []
  }

  private all(): WorkloadRecord[] {
    return [...this.workloads.values()].flatMap((byName) => [...byName.values()])
  }

  get workloadCount(): number {
    return this.count
  }

  get empty(): boolean {
    return this.services.size === 0 && this.count === 0 && this.pdbs.size === 0 && this.hpaCount === 0 && this.portsOnly.size === 0 && this.ingresses.size === 0 && this.routes.size === 0 && this.grants.size === 0 && this.targetGroupBindings.size === 0
  }
}

/** A complete, trusted view of what it holds; the live cache adds staleness on top. */
export class ClusterStore implements NamespaceDirectory, ClusterView {
  private readonly namespaces = new Map<string, NamespaceIndex>()
  private readonly customResources = new Map<string, string>()
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
    this.index(namespace).ingresses.set(record.name, { ...record, namespace })
  }

  deleteIngress(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.ingresses.delete(name)
    this.tidy(namespace)
  }

  /** Nodes (cluster-scoped): allocatable, labels and taints only. */
  private readonly nodeRecords = new Map<string, NodeRecord>()

  putNode(record: NodeRecord): void {
    this.nodeRecords.set(record.name, record)
  }

  deleteNode(name: string): void {
    this.nodeRecords.delete(name)
  }

  nodes(): Iterable<NodeRecord> {
    return this.nodeRecords.values()
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
    this.index(namespace).targetGroupBindings.set(record.name, { ...record, namespace })
  }

  deleteTargetGroupBinding(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.targetGroupBindings.delete(name)
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

  /** Drops every record of one kind ('Service', 'Namespace' or a workload kind) before a re-list. */
  clearKind(kind: string): void {
    if (kind === 'Namespace') return this.namespaceInfo.clear()
    if (kind === 'Node') return this.nodeRecords.clear()
    if (kind === 'HTTPRoute' || kind === 'GRPCRoute') for (const [key, route] of this.crossNamespaceRoutes) if (route.kind === kind) this.crossNamespaceRoutes.delete(key)
    for (const [name, index] of this.namespaces) {
      if (kind === 'Service') {
        index.services.clear()
        index.portsOnly.clear()
      } else if (kind === 'Ingress') index.ingresses.clear()
      else if (kind === 'HTTPRoute' || kind === 'GRPCRoute') {
        for (const [key, route] of index.routes) if (route.kind === kind) index.routes.delete(key)
      } else if (kind === 'ReferenceGrant') index.grants.clear()
      else if (kind === 'TargetGroupBinding') index.targetGroupBindings.clear()
      else if (kind === 'PodDisruptionBudget') index.pdbs.clear()
      else if (kind === 'HorizontalPodAutoscaler') index.clearHpas()
      else index.clearKind(kind)
      if (index.empty) this.namespaces.delete(name)
    }
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
  noteCustomResource(namespace: string, kind: string): void {
    if (!this.customResources.has(namespace)) this.customResources.set(namespace, kind)
  }

  /** Offline sets only (see ClusterView.podMakersUnknown); a live store never notes anything. */
  podMakersUnknown(namespace: string): string | undefined {
    if (!this.offline) return undefined
    const custom = this.customResources.get(namespace)
    if (custom) return `the files hold a ${custom} in ${namespace}, and an operator may create its pods`
    if ((this.namespaces.get(namespace)?.workloadCount ?? 0) === 0) return `the files hold no workload of namespace ${namespace}`
    return undefined
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
