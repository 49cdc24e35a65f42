// The lean records the cache keeps instead of whole objects: only what the rules read. The cache shares
// port lists and Service port lists (few distinct values) between records; label sets are not shared:
// they are mostly unique per object, and an intern table keyed by them would keep a key per label set.
import type { KubeObject } from '../model/types.ts'
import { awsServiceAnnotations, READINESS_GATE_PREFIX, type AwsServiceAnnotations } from './load-balancers.ts'
import { preStopSleepSeconds } from '../workloads/pre-stop-sleep.ts'
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
  /** Its template lists an AWS Load Balancer Controller readiness gate (target-health.elbv2.k8s.aws/…). */
  lbGate?: true
  /** The longest preStop sleep of its long-running containers, in seconds, when one sleeps. */
  preStopSleep?: number
}

/**
 * A PodDisruptionBudget (policy/v1 or v1beta1): what it selects and what it keeps available. The
 * record is its own selector (matchLabels, matchExpressions), one object less per PDB; read it
 * through selectorOf(), which also knows the PDBs that select nothing.
 */
export interface PdbRecord extends LabelSelector {
  namespace: string
  name: string
  /** It selects no pods at all (no selector; or an empty one in policy/v1beta1). */
  selectsNothing?: true
  minAvailable?: number | string
  maxUnavailable?: number | string
}

/** What a PDB selects, or undefined when it selects no pods at all. */
export function selectorOf(pdb: PdbRecord): LabelSelector | undefined {
  return pdb.selectsNothing ? undefined : pdb
}

/** A HorizontalPodAutoscaler (autoscaling/v2, v2beta2): what it scales and within which bounds (flat: one object per HPA). */
export interface HpaRecord {
  namespace: string
  name: string
  targetGroup: string
  targetKind: string
  targetName: string
  minReplicas: number
  maxReplicas: number
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
  /** The AWS Load Balancer Controller's annotations, when it has any (load-balancers.ts). */
  aws?: AwsServiceAnnotations
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
  const sleep = longestPreStopSleep(template?.spec)
  return {
    kind,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    labels: Object.freeze(sortedLabels(template?.metadata?.labels)),
    ...(podLabels ? { podLabels } : {}),
    ports: Object.freeze(declaredPorts(template?.spec)),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(hasLoadBalancerGate(template?.spec) ? { lbGate: true as const } : {}),
    ...(sleep > 0 ? { preStopSleep: sleep } : {}),
  }
}

/** The API group of an apiVersion ("apps/v1" → "apps", "v1" → ""). */
const groupOfApiVersion = (apiVersion: unknown) => (typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0]! : '')

const intOrPercent = (value: unknown): number | string | undefined =>
  (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && value !== '') ? value : undefined

/**
 * The record for a PodDisruptionBudget. policy/v1beta1 and v1 differ on one thing: an empty selector
 * selects nothing in v1beta1 and every pod of the namespace in v1 (the API server converts a v1beta1
 * empty selector into one that matches nothing, so a v1 read of it still selects nothing).
 */
export function pdbRecord(object: KubeObject): PdbRecord {
  const spec = (object.spec ?? {}) as { selector?: LabelSelector | null; minAvailable?: unknown; maxUnavailable?: unknown }
  const v1beta1 = object.apiVersion === 'policy/v1beta1'
  const selector = spec.selector && typeof spec.selector === 'object' ? spec.selector : undefined
  const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  const minAvailable = intOrPercent(spec.minAvailable)
  const maxUnavailable = intOrPercent(spec.maxUnavailable)
  const selects = selector && !(empty && v1beta1)
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    ...(!selects ? { selectsNothing: true as const } : {}),
    ...(selects && selector.matchLabels ? { matchLabels: Object.freeze(sortedLabels(selector.matchLabels)) } : {}),
    ...(selects && selector.matchExpressions ? { matchExpressions: selector.matchExpressions } : {}),
    ...(minAvailable !== undefined ? { minAvailable } : {}),
    ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
  }
}

/** The record for a HorizontalPodAutoscaler (minReplicas defaults to 1, as the API server sets it). */
export function hpaRecord(object: KubeObject): HpaRecord | undefined {
  const spec = (object.spec ?? {}) as { scaleTargetRef?: { apiVersion?: unknown; kind?: unknown; name?: unknown }; minReplicas?: unknown; maxReplicas?: unknown }
  const ref = spec.scaleTargetRef
  if (!ref || typeof ref.kind !== 'string' || typeof ref.name !== 'string') return undefined
  const min = typeof spec.minReplicas === 'number' && Number.isInteger(spec.minReplicas) && spec.minReplicas >= 0 ? spec.minReplicas : 1
  const max = typeof spec.maxReplicas === 'number' && Number.isInteger(spec.maxReplicas) ? spec.maxReplicas : min
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    targetGroup: groupOfApiVersion(ref.apiVersion),
    targetKind: ref.kind,
    targetName: ref.name,
    minReplicas: min,
    maxReplicas: max,
  }
}

/** Whether `selector` selects the pods of `record`, counting the labels its controller adds. */
export function selectsPods(selector: Readonly<Record<string, string>>, record: Pick<WorkloadRecord, 'labels' | 'podLabels'>): boolean {
  for (const key in selector) {
    if (record.labels[key] === selector[key]) continue
    const added = record.podLabels?.[key]
    if (added === '*' || added?.includes(selector[key]!)) continue
    return false
  }
  return true
}

/** A Kubernetes LabelSelector: matchLabels AND every matchExpression (PDBs, workloads, NetworkPolicies). */
export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>> | null
  matchExpressions?: readonly { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: readonly string[] | null }[] | null
}

/** The values a pod of `record` can carry for `key`: its template's, or what its controller adds. */
function labelValues(record: Pick<WorkloadRecord, 'labels' | 'podLabels'>, key: string): readonly string[] | '*' | undefined {
  const own = record.labels[key]
  if (own !== undefined) return [own]
  return record.podLabels?.[key]
}

/**
 * Whether `selector` selects the pods of `record`, as the API server's labels.Selector does: every
 * matchLabels pair and every expression must hold (an empty selector selects everything). Labels a
 * controller adds count (see podLabels); a '*' value (a hash) may be anything, so only Exists and
 * DoesNotExist decide on it.
 */
export function selectorSelects(selector: LabelSelector, record: Pick<WorkloadRecord, 'labels' | 'podLabels'>): boolean {
  if (selector.matchLabels && !selectsPods(selector.matchLabels, record)) return false
  for (const expression of selector.matchExpressions ?? []) {
    const values = labelValues(record, expression.key)
    const wanted = expression.values ?? []
    switch (expression.operator) {
      case 'Exists':
        if (values === undefined) return false
        break
      case 'DoesNotExist':
        if (values !== undefined) return false
        break
      case 'In':
        if (values === undefined || (values !== '*' && !values.some((v) => wanted.includes(v)))) return false
        break
      case 'NotIn':
        // A pod whose value is unknown ('*') or one of several may still be outside the set.
        if (values !== undefined && values !== '*' && values.every((v) => wanted.includes(v))) return false
        break
      default:
        return false
    }
  }
  return true
}

/** Label keys controllers add to pods: a selector on them cannot use the template-label index. */
export const CONTROLLER_POD_LABEL_KEYS = new Set([
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-revision-hash',
  'pod-template-hash',
  'rollouts-pod-template-hash',
  'pod-template-generation',
  'job-name',
  'batch.kubernetes.io/job-name',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
])

type ServiceSpec = { selector?: Record<string, string>; type?: string; ports?: { name?: string; port?: number; targetPort?: string | number }[] }

/** A Service's ports (its own numbers and names, and what they target). */
export function servicePorts(object: KubeObject): readonly ServicePort[] {
  const spec = (object.spec ?? {}) as ServiceSpec
  return Object.freeze(
    (spec.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port ?? 0,
      targetPort: p.targetPort ?? p.port ?? 0,
    })),
  )
}

/** The record for a Service with a selector; undefined for selector-less and ExternalName Services. */
export function serviceRecord(object: KubeObject): ServiceRecord | undefined {
  const spec = (object.spec ?? {}) as ServiceSpec
  if (spec.type === 'ExternalName' || !spec.selector || Object.keys(spec.selector).length === 0) return undefined
  const aws = awsServiceAnnotations(object)
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    selector: Object.freeze(sortedLabels(spec.selector)),
    ports: servicePorts(object),
    ...(aws ? { aws } : {}),
  }
}

/** What the traffic-path rules need of any Service, with a selector or not. */
export interface ServiceInfo {
  namespace: string
  name: string
  ports: readonly ServicePort[]
  /** Undefined for a Service without a selector (its endpoints are managed by hand) or ExternalName. */
  selector?: Readonly<Record<string, string>>
  externalName?: boolean
}

export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false
  return true
}
