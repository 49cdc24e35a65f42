// A pod's effective resource request, as kube-scheduler's NodeResourcesFit plugin computes it
// (k8s.io/component-helpers/resource PodRequests, then preFilterState.SetMaxResource):
//
//   for each resource: max( Σ regular containers + Σ native sidecars,
//                           max over init containers i of InitContainerUse(i) )   + spec.overhead
//   InitContainerUse(i) = its request + Σ sidecars declared before it             (a plain init container)
//                       = Σ sidecars declared up to and including it               (a sidecar: never the max)
//
// A native sidecar is an init container with `restartPolicy: Always` (KEP-753). Each container's request
// for a resource is its `resources.requests` entry, or its `resources.limits` entry when the request is
// absent (the API server's defaulting of a Pod, SetDefaults_Pod). Pod-level resources (spec.resources,
// KEP-2837, on by default since 1.34) replace the containers' sum for cpu, memory and hugepages-*: an
// explicit pod-level request, or the pod-level limit when neither the pod nor (for cpu and memory) any
// container requests that resource.
//
// Amounts are summed exactly in milli-units, then given as the integers the scheduler compares
// (src/model/quantity.ts): `cpu` in millicores, every other resource in whole units rounded up (bytes for
// memory, ephemeral-storage and hugepages-*, a count for extended resources such as nvidia.com/gpu).
//
// Not counted (each only ever raises the real request, so leaving them out never invents a problem):
// LimitRange defaults added at admission, RuntimeClass overhead when the template names a runtimeClassName
// but carries no `overhead` (the RuntimeClass admission plugin fills it in), DRA claims, and the pod-level
// hugepages limits the API server derives from the containers'. Invalid quantities are skipped (the API
// server refuses them anyway). Malformed input never throws.
import type { Container, PodSpec } from '../workloads/pod-template.ts'
import { milliToSchedulerUnits, quantityMilli } from '../model/quantity.ts'

/** The fields this module reads beyond pod-template's types. */
interface ResourceRequirements {
  requests?: Record<string, unknown>
  limits?: Record<string, unknown>
}
type ResourcedContainer = Container & { resources?: ResourceRequirements }
type ResourcedPodSpec = PodSpec & { overhead?: Record<string, unknown>; resources?: ResourceRequirements }

type MilliList = Map<string, bigint>

export interface RequestOptions {
  /** Honour pod-level resources (spec.resources). Default true; false for API servers before 1.34 with the gate off (they drop the field). */
  podLevelResources?: boolean
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : [])

/** Requests with absent entries filled from limits (SetDefaults_Pod), in milli-units; invalid values skipped. */
function withDefaults(resources: unknown): MilliList {
  const result: MilliList = new Map()
  if (!isRecord(resources)) return result
  const requests = isRecord(resources['requests']) ? resources['requests'] : {}
  const limits = isRecord(resources['limits']) ? resources['limits'] : {}
  for (const [name, value] of Object.entries(limits)) {
    if (Object.hasOwn(requests, name)) continue
    const milli = quantityMilli(value)
    if (milli !== undefined) result.set(name, milli)
  }
  for (const [name, value] of Object.entries(requests)) {
    const milli = quantityMilli(value)
    if (milli !== undefined) result.set(name, milli)
  }
  return result
}

function add(into: MilliList, from: MilliList): void {
  for (const [name, value] of from) into.set(name, (into.get(name) ?? 0n) + value)
}

function max(into: MilliList, from: MilliList): void {
  for (const [name, value] of from) {
    const current = into.get(name)
    if (current === undefined || value > current) into.set(name, value)
  }
}

const isPodLevelResource = (name: string) => name === 'cpu' || name === 'memory' || name.startsWith('hugepages-')

/** The containers' aggregate (AggregateContainerRequests), exact, in milli-units. */
function aggregateContainers(spec: ResourcedPodSpec): MilliList {
  const result: MilliList = new Map()
  for (const container of list<ResourcedContainer>(spec.containers)) add(result, withDefaults(container?.resources))
  const sidecars: MilliList = new Map()
  const initUse: MilliList = new Map()
  for (const container of list<ResourcedContainer>(spec.initContainers)) {
    const own = withDefaults(container?.resources)
    if (container?.restartPolicy === 'Always') {
      add(result, own)
      add(sidecars, own)
      max(initUse, sidecars)
    } else {
      const use: MilliList = new Map()
      add(use, own)
      add(use, sidecars)
      max(initUse, use)
    }
  }
  max(result, initUse)
  return result
}

/** The pod's effective request per resource, in scheduler units (cpu: millicores; others: whole units). */
export function effectiveRequests(spec: PodSpec, options: RequestOptions = {}): Record<string, number> {
  const pod = (isRecord(spec) ? spec : {}) as ResourcedPodSpec
  const total = aggregateContainers(pod)

  if (options.podLevelResources !== false && isRecord(pod.resources)) {
    const requests = isRecord(pod.resources.requests) ? pod.resources.requests : {}
    const limits = isRecord(pod.resources.limits) ? pod.resources.limits : {}
    const podLevel: MilliList = new Map()
    for (const [name, value] of Object.entries(limits)) {
      if (!isPodLevelResource(name) || Object.hasOwn(requests, name)) continue
      // defaultPodRequests: cpu and memory default to the containers' aggregate when a container asks for them.
      if ((name === 'cpu' || name === 'memory') && total.has(name)) continue
      const milli = quantityMilli(value)
      if (milli !== undefined) podLevel.set(name, milli)
    }
    for (const [name, value] of Object.entries(requests)) {
      const milli = isPodLevelResource(name) ? quantityMilli(value) : undefined
      if (milli !== undefined) podLevel.set(name, milli)
    }
    for (const [name, value] of podLevel) total.set(name, value)
  }

  if (isRecord(pod.overhead)) {
    const overhead: MilliList = new Map()
    for (const [name, value] of Object.entries(pod.overhead)) {
      const milli = quantityMilli(value)
      if (milli !== undefined) overhead.set(name, milli)
    }
    add(total, overhead)
  }

  const result: Record<string, number> = {}
  for (const [name, milli] of total) result[name] = milliToSchedulerUnits(name, milli)
  return result
}
