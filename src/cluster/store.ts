// The cluster cache's indexes: by namespace, and within a namespace by label pair, so "which workloads
// does this selector match" looks at the smallest candidate set instead of scanning.
import type { NamespaceDirectory, NamespaceInfo } from '../engine/namespaces.ts'
import type { ClusterView } from './view.ts'
import { selects, type ServiceRecord, type WorkloadRecord } from './records.ts'

class NamespaceIndex {
  readonly services = new Map<string, ServiceRecord>()
  readonly workloads = new Map<string, WorkloadRecord>()
  private readonly byLabel = new Map<string, Set<WorkloadRecord>>()

  addWorkload(key: string, record: WorkloadRecord): void {
    this.removeWorkload(key)
    this.workloads.set(key, record)
    for (const pair of Object.entries(record.labels)) {
      const label = `${pair[0]}=${pair[1]}`
      let set = this.byLabel.get(label)
      if (!set) this.byLabel.set(label, (set = new Set()))
      set.add(record)
    }
  }

  removeWorkload(key: string): void {
    const record = this.workloads.get(key)
    if (!record) return
    this.workloads.delete(key)
    for (const pair of Object.entries(record.labels)) {
      const label = `${pair[0]}=${pair[1]}`
      const set = this.byLabel.get(label)
      set?.delete(record)
      if (set?.size === 0) this.byLabel.delete(label)
    }
  }

  matching(selector: Readonly<Record<string, string>>): WorkloadRecord[] {
    let smallest: Set<WorkloadRecord> | undefined
    for (const key in selector) {
      const set = this.byLabel.get(`${key}=${selector[key]}`)
      if (!set) return []
      if (!smallest || set.size < smallest.size) smallest = set
    }
    return smallest ? [...smallest].filter((record) => selects(selector, record.labels)) : []
  }

  get empty(): boolean {
    return this.services.size === 0 && this.workloads.size === 0
  }
}

export const workloadKey = (kind: string, name: string) => `${kind}/${name}`

/** A complete, trusted view of what it holds; the live cache adds staleness on top. */
export class ClusterStore implements NamespaceDirectory, ClusterView {
  private readonly namespaces = new Map<string, NamespaceIndex>()
  private readonly namespaceInfo = new Map<string, NamespaceInfo>()

  private index(namespace: string): NamespaceIndex {
    let index = this.namespaces.get(namespace)
    if (!index) this.namespaces.set(namespace, (index = new NamespaceIndex()))
    return index
  }

  private tidy(namespace: string): void {
    if (this.namespaces.get(namespace)?.empty) this.namespaces.delete(namespace)
  }

  putWorkload(record: WorkloadRecord): void {
    this.index(record.namespace).addWorkload(workloadKey(record.kind, record.name), record)
  }

  deleteWorkload(kind: string, namespace: string, name: string): void {
    this.namespaces.get(namespace)?.removeWorkload(workloadKey(kind, name))
    this.tidy(namespace)
  }

  putService(record: ServiceRecord): void {
    this.index(record.namespace).services.set(record.name, record)
  }

  deleteService(namespace: string, name: string): void {
    this.namespaces.get(namespace)?.services.delete(name)
    this.tidy(namespace)
  }

  putNamespace(info: NamespaceInfo): void {
    this.namespaceInfo.set(info.name, info)
  }

  deleteNamespace(name: string): void {
    this.namespaceInfo.delete(name)
  }

  /** Drops every record of one kind ('Service', 'Namespace' or a workload kind) before a re-list. */
  clearKind(kind: string): void {
    if (kind === 'Namespace') return this.namespaceInfo.clear()
    for (const [name, index] of this.namespaces) {
      if (kind === 'Service') index.services.clear()
      else for (const [key, record] of index.workloads) if (record.kind === kind) index.removeWorkload(key)
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

  workloadsMatching(namespace: string, selector: Readonly<Record<string, string>>): WorkloadRecord[] {
    return this.namespaces.get(namespace)?.matching(selector) ?? []
  }

  counts(): { namespaces: number; services: number; workloads: number } {
    let services = 0
    let workloads = 0
    for (const index of this.namespaces.values()) {
      services += index.services.size
      workloads += index.workloads.size
    }
    return { namespaces: this.namespaceInfo.size, services, workloads }
  }
}
