// The lean records the cache keeps instead of whole objects: only what the rules read. Port lists and
// Service port lists (few distinct values) are interned; label sets are not: they are mostly unique
// per object, and an intern table keyed by them would keep a key per label set ever seen.
import type { KubeObject } from '../engine/types.ts'
import type { ContainerPort, PodSpec } from '../workloads/pod-template.ts'

export interface DeclaredPort {
  name?: string
  port: number
}

export interface WorkloadRecord {
  kind: string
  namespace: string
  name: string
  /** Pod-template labels (a Pod's own labels). */
  labels: Readonly<Record<string, string>>
  /** Ports declared by its long-running containers. */
  ports: readonly DeclaredPort[]
}

export interface ServicePort {
  name?: string
  port: number
  targetPort: string | number
}

export interface ServiceRecord {
  namespace: string
  name: string
  selector: Readonly<Record<string, string>>
  ports: readonly ServicePort[]
}

const interned = new Map<string, object>()
// Port lists come from templates and have few distinct values; the bound keeps a pathological cluster
// from growing the table without limit (past it, values are simply not shared).
const MAX_INTERNED = 50_000

/** One shared, frozen copy per distinct value. */
function intern<T extends object>(value: T): T {
  const key = JSON.stringify(value)
  const known = interned.get(key)
  if (known) return known as T
  Object.freeze(value)
  if (interned.size < MAX_INTERNED) interned.set(key, value)
  return value
}

function sortedLabels(labels: Record<string, string> | undefined | null): Record<string, string> {
  const keys = Object.keys(labels ?? {}).sort()
  return Object.fromEntries(keys.map((k) => [k, String(labels![k])]))
}

export function declaredPorts(spec: PodSpec | undefined): DeclaredPort[] {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')]
  return containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p: ContainerPort) => typeof p.containerPort === 'number')
      .map((p: ContainerPort) => (p.name ? { name: p.name, port: p.containerPort! } : { port: p.containerPort! })),
  )
}

/** Workload kinds whose Pods the cache leaves out: their template already stands for them. */
const TEMPLATE_OWNERS = new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet', 'ReplicationController'])

/** The record for a workload or Pod, or undefined when its owner already represents it. */
export function workloadRecord(kind: string, object: KubeObject): WorkloadRecord | undefined {
  const meta = object.metadata ?? {}
  const owner = meta.ownerReferences?.find((ref) => ref.controller === true)
  if (kind === 'Pod' && owner && TEMPLATE_OWNERS.has(owner.kind ?? '')) return undefined
  if (kind === 'ReplicaSet' && owner?.kind === 'Deployment') return undefined
  const template = kind === 'Pod' ? { metadata: meta, spec: object.spec as PodSpec } : (object.spec?.['template'] as { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } | undefined)
  return {
    kind,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    labels: Object.freeze(sortedLabels(template?.metadata?.labels)),
    ports: intern(declaredPorts(template?.spec)),
  }
}

/** The record for a Service with a selector; undefined for selector-less and ExternalName Services. */
export function serviceRecord(object: KubeObject): ServiceRecord | undefined {
  const spec = (object.spec ?? {}) as { selector?: Record<string, string>; type?: string; ports?: { name?: string; port?: number; targetPort?: string | number }[] }
  if (spec.type === 'ExternalName' || !spec.selector || Object.keys(spec.selector).length === 0) return undefined
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    selector: Object.freeze(sortedLabels(spec.selector)),
    ports: intern(
      (spec.ports ?? []).map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: p.port ?? 0,
        targetPort: p.targetPort ?? p.port ?? 0,
      })),
    ),
  }
}

export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false
  return true
}
