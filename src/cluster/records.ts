// The lean records the cache keeps instead of whole objects: only what the rules read. The cache shares
// port lists and Service port lists (few distinct values) between records; label sets are not shared:
// they are mostly unique per object, and an intern table keyed by them would keep a key per label set.
import type { KubeObject } from '../model/types.ts'
import { READINESS_GATE_PREFIX } from './load-balancers.ts'
import { preStopSleepSeconds } from '../workloads/pre-stop-sleep.ts'
import type { ContainerPort, PodSpec } from '../workloads/pod-template.ts'
import type { ServiceRecord } from './service-records.ts'

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
  /**
   * Labels the controller adds to the pods it creates, with the values it gives them ('*': any, such
   * as a hash): a StatefulSet's pod-name and pod-index, a Deployment's pod-template-hash, a Job's
   * job-name. A Service may select on them (per-pod Services of a StatefulSet).
   */
  podLabels?: Readonly<Record<string, readonly string[] | '*'>>
  /** Ports declared by its long-running containers. */
  ports: readonly DeclaredPort[]
  /** The replicas it asks for (spec.replicas, 1 when unset), for kinds with a scale; absent for others. */
  replicas?: number
  /** A StatefulSet's governing Service (spec.serviceName): it exists in the cluster, whether or not a file holds it. */
  serviceName?: string
  /** Its template lists an AWS Load Balancer Controller readiness gate (target-health.elbv2.k8s.aws/…). */
  lbGate?: true
  /** The longest preStop sleep of its long-running containers, in seconds, when one sleeps. */
  preStopSleep?: number
}


const interned = new Map<string, object>()
let internedBytes = 0
// Port lists come from templates and have few distinct values. Only records the cache keeps are shared
// (never those built to judge one review, which would grow the table with every request), and the
// table is bounded in bytes: past it, values are simply not shared.
const MAX_INTERNED_BYTES = 4 * 1024 * 1024

/** One shared, frozen copy per distinct value. */
function intern<T extends object>(value: T): T {
  const key = JSON.stringify(value)
  const known = interned.get(key)
  if (known) return known as T
  Object.freeze(value)
  if (internedBytes + key.length <= MAX_INTERNED_BYTES) {
    interned.set(key, value)
    internedBytes += key.length
  }
  return value
}

/** The record with its port list shared with equal ones: for records the cache keeps. */
export function shared<T extends WorkloadRecord | ServiceRecord>(record: T): T {
  return { ...record, ports: intern(record.ports as object[]) }
}

/** How many distinct port lists are shared, and their size (for tests and benchmarks). */
export function internedSize(): { entries: number; bytes: number } {
  return { entries: interned.size, bytes: internedBytes }
}

export function sortedLabels(labels: Record<string, string> | undefined | null): Record<string, string> {
  const sorted: Record<string, string> = {}
  if (labels) for (const key of Object.keys(labels).sort()) sorted[key] = String(labels[key])
  return sorted
}

export function declaredPorts(spec: PodSpec | undefined): DeclaredPort[] {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')]
  return containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p: ContainerPort) => typeof p.containerPort === 'number')
      .map((p: ContainerPort) => (p.name ? { name: p.name, port: p.containerPort! } : { port: p.containerPort! })),
  )
}

/** Whether a pod spec lists the AWS Load Balancer Controller's readiness gate itself. */
export function hasLoadBalancerGate(spec: PodSpec | undefined): boolean {
  const gates = (spec as { readinessGates?: unknown } | undefined)?.readinessGates
  return Array.isArray(gates) && gates.some((gate) => typeof gate?.conditionType === 'string' && gate.conditionType.startsWith(READINESS_GATE_PREFIX))
}

/** The longest preStop sleep (seconds) of a pod spec's long-running containers; 0 when none sleeps. */
export function longestPreStopSleep(spec: PodSpec | undefined): number {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')]
  return containers.reduce((longest, c) => Math.max(longest, preStopSleepSeconds(c.lifecycle?.preStop) ?? 0), 0)
}

/** Workload kinds whose Pods the cache leaves out: their template already stands for them. */
const TEMPLATE_OWNERS = new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet', 'ReplicationController'])

// Ordinals spelled out up to this many replicas; a larger StatefulSet matches any ordinal.
const MAX_ORDINALS = 1000

/** Kinds with a scale subresource: their replicas are what a PDB and a rollout count on. */
const SCALED_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'Rollout'])

/** spec.replicas of a scaled kind, 1 when unset (as the API server defaults it); undefined for other kinds. */
export function replicasOf(kind: string, spec: Record<string, unknown> | undefined): number | undefined {
  if (!SCALED_KINDS.has(kind)) return undefined
  const replicas = spec?.['replicas']
  return typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0 ? replicas : 1
}

/** What the controller of `kind` adds to its pods' labels (see WorkloadRecord.podLabels). */
function controllerPodLabels(kind: string, name: string, spec: Record<string, unknown> | undefined): WorkloadRecord['podLabels'] {
  switch (kind) {
    case 'StatefulSet': {
      const replicas = spec?.['replicas']
      const count = typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0 && replicas <= MAX_ORDINALS ? replicas : undefined
      const ordinals = count === undefined ? undefined : Array.from({ length: count }, (_, i) => i)
      return {
        'statefulset.kubernetes.io/pod-name': ordinals ? ordinals.map((i) => `${name}-${i}`) : '*',
        'apps.kubernetes.io/pod-index': ordinals ? ordinals.map(String) : '*',
        'controller-revision-hash': '*',
      }
    }
    case 'Deployment':
      return { 'pod-template-hash': '*' }
    case 'Rollout':
      return { 'rollouts-pod-template-hash': '*' }
    case 'DaemonSet':
      return { 'controller-revision-hash': '*', 'pod-template-generation': '*' }
    case 'Job':
      return { 'job-name': [name], 'batch.kubernetes.io/job-name': [name], 'controller-uid': '*', 'batch.kubernetes.io/controller-uid': '*' }
    case 'CronJob':
      return { 'job-name': '*', 'batch.kubernetes.io/job-name': '*', 'controller-uid': '*', 'batch.kubernetes.io/controller-uid': '*' }
    default:
      return undefined
  }
}

type Template = { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } | undefined

/** The pod template of a workload kind (a CronJob's is one level down, in its jobTemplate). */
function templateOf(kind: string, object: KubeObject): Template {
  if (kind === 'CronJob') return ((object.spec?.['jobTemplate'] as { spec?: { template?: Template } } | undefined)?.spec?.template) as Template
  return object.spec?.['template'] as Template
}

/** The record for a workload or Pod, or undefined when its owner already represents it. */
export function workloadRecord(kind: string, object: KubeObject): WorkloadRecord | undefined {
  const meta = object.metadata ?? {}
  const owner = meta.ownerReferences?.find((ref) => ref.controller === true)
  if (kind === 'Pod' && owner && TEMPLATE_OWNERS.has(owner.kind ?? '')) return undefined
  if (kind === 'ReplicaSet' && owner?.kind === 'Deployment') return undefined
  const template: Template = kind === 'Pod' ? { metadata: meta, spec: object.spec as PodSpec } : templateOf(kind, object)
  const podLabels = controllerPodLabels(kind, meta.name ?? '', object.spec)
  const replicas = replicasOf(kind, object.spec)
  const serviceName = kind === 'StatefulSet' ? object.spec?.['serviceName'] : undefined
  const sleep = longestPreStopSleep(template?.spec)
  return {
    kind,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    labels: Object.freeze(sortedLabels(template?.metadata?.labels)),
    ...(podLabels ? { podLabels } : {}),
    ports: Object.freeze(declaredPorts(template?.spec)),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(typeof serviceName === 'string' && serviceName !== '' ? { serviceName } : {}),
    ...(hasLoadBalancerGate(template?.spec) ? { lbGate: true as const } : {}),
    ...(sleep > 0 ? { preStopSleep: sleep } : {}),
  }
}
