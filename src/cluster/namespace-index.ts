// One namespace's share of the cluster cache: its Services, PDBs, HPAs, Ingresses, routes and grants by
// name, and its workloads by kind then name and by label pair, so "which workloads does this selector
// match" looks at the smallest candidate set instead of scanning. Laid out for memory (BENCHMARKS.md): a
// label pair held by one record points at it directly (most pods carry some unique label). alb Ingresses
// and TargetGroupBindings are also grouped by the Service they send to (the load-balancer rules ask for
// one Service's).
import { GroupedByName, NONE } from './grouped-by-name.ts'
import { CONTROLLER_POD_LABEL_KEYS, selectsPods } from './label-selectors.ts'
import type { HpaRecord, PdbRecord } from './disruption-records.ts'
import type { ServicePort, ServiceRecord } from './service-records.ts'
import type { WorkloadRecord } from './records.ts'
import type { GrantRecord, IngressRecord, RouteRecord } from './routes.ts'
import type { TargetGroupBindingRecord } from './load-balancers.ts'
import type { Entry } from './entry.ts'

type Holders = WorkloadRecord | Set<WorkloadRecord>

export class NamespaceIndex {
  readonly services = new Map<string, ServiceRecord>()
  readonly pdbs = new Map<string, PdbRecord>()
  /** Services without a selector (or ExternalName): only their ports; they exist for Ingresses and routes. */
  readonly portsOnly = new Map<string, { ports: readonly ServicePort[]; externalName: boolean }>()
  readonly ingresses = new Map<string, IngressRecord>()
  /** Made with the namespace's first alb Ingress (most namespaces have none: no empty index each). */
  private albIngressesByService?: GroupedByName<IngressRecord>
  /** HTTPRoutes and GRPCRoutes by `Kind/name`. */
  readonly routes = new Map<string, RouteRecord>()
  readonly grants = new Map<string, GrantRecord>()
  readonly targetGroupBindings = new Map<string, TargetGroupBindingRecord>()
  private bindingsByService?: GroupedByName<TargetGroupBindingRecord>
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

  /** Every record of one kind in this namespace, as the store was given it (ClusterStore.entries). */
  *entries(kind: string, namespace: string): Generator<Entry> {
    if (kind === 'Service') {
      for (const record of this.services.values()) yield { kind, record }
      for (const [name, { ports, externalName }] of this.portsOnly) yield { kind: 'ServicePorts', namespace, name, ports, externalName }
    } else if (kind === 'Ingress') for (const record of this.ingresses.values()) yield { kind, record }
    else if (kind === 'HTTPRoute' || kind === 'GRPCRoute') {
      for (const record of this.routes.values()) if (record.kind === kind) yield { kind: 'Route', record }
    } else if (kind === 'ReferenceGrant') for (const record of this.grants.values()) yield { kind, record }
    else if (kind === 'TargetGroupBinding') for (const record of this.targetGroupBindings.values()) yield { kind, record }
    else if (kind === 'PodDisruptionBudget') for (const record of this.pdbs.values()) yield { kind, record }
    else if (kind === 'HorizontalPodAutoscaler') {
      for (const held of this.hpaByTarget.values()) for (const record of Array.isArray(held) ? held : [held]) yield { kind, record }
    } else for (const record of this.workloads.get(kind)?.values() ?? []) yield { kind: 'Workload', record }
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

  get hpas(): number {
    return this.hpaCount
  }

  hpaFor(group: string, kind: string, name: string): HpaRecord | undefined {
    const held = this.hpaByTarget.get(name)
    const matches = (hpa: HpaRecord) => hpa.targetKind === kind && hpa.targetGroup === group
    return held === undefined ? undefined : Array.isArray(held) ? held.find(matches) : matches(held) ? held : undefined
  }

  putIngress(record: IngressRecord): void {
    this.removeIngress(record.name)
    this.ingresses.set(record.name, record)
    for (const service of albServices(record)) (this.albIngressesByService ??= new GroupedByName()).add(service, record)
  }

  removeIngress(name: string): void {
    const old = this.ingresses.get(name)
    if (!old) return
    this.ingresses.delete(name)
    for (const service of albServices(old)) this.albIngressesByService?.remove(service, name)
  }

  /** The Ingresses of class alb that send traffic to `service`, in name order. */
  albIngressesTo(service: string): readonly IngressRecord[] {
    return this.albIngressesByService?.get(service) ?? NONE
  }

  putTargetGroupBinding(record: TargetGroupBindingRecord): void {
    this.removeTargetGroupBinding(record.name)
    this.targetGroupBindings.set(record.name, record)
    ;(this.bindingsByService ??= new GroupedByName()).add(record.service, record)
  }

  removeTargetGroupBinding(name: string): void {
    const old = this.targetGroupBindings.get(name)
    if (!old) return
    this.targetGroupBindings.delete(name)
    this.bindingsByService?.remove(old.service, name)
  }

  /** The TargetGroupBindings whose serviceRef names `service`, in name order. */
  targetGroupBindingsTo(service: string): readonly TargetGroupBindingRecord[] {
    return this.bindingsByService?.get(service) ?? NONE
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

/** The Services an Ingress of class alb sends traffic to (none for other classes). */
function albServices(record: IngressRecord): Set<string> {
  return new Set(record.alb ? record.backends.map((backend) => backend.service) : [])
}
