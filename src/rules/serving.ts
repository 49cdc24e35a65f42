// Which containers the pod-spec rules treat as serving. A declared containerPort says so; with cluster
// state, a Service selecting the pods says so too, even when no container declares a port (ports are
// informational, many manifests omit them).
import { servicesSelecting } from '../cluster/view.ts'
import type { KubeObject, ReviewInput } from '../engine/types.ts'
import { longRunningContainers, servingContainers, type ContainerSlot } from '../workloads/containers.ts'
import type { PodTemplate } from '../workloads/pod-template.ts'
import { namespaceOf } from './referential.ts'
import type { RuleSettings } from './rule.ts'

export function servingSlots(review: ReviewInput & { object: KubeObject }, template: PodTemplate, settings: RuleSettings): ContainerSlot[] {
  const byPort = servingContainers(template, settings.ignoreContainers)
  const cluster = settings.cluster
  if (byPort.length > 0 || !cluster || cluster.unavailable()) return byPort
  if (servicesSelecting(cluster, namespaceOf(review, review.object), template.labels).length === 0) return byPort
  // Selected, yet no port declared anywhere: any regular container may be the one that serves.
  return longRunningContainers(template).filter(({ container, sidecar }) => !sidecar && !settings.ignoreContainers.has(container.name))
}
