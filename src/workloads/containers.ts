// Which containers of a pod template take traffic, and which keep running until the pod stops.
import { cond } from '../model/cel.ts'
import type { PathToken } from '../model/json-pointer.ts'
import type { Container, PodTemplate } from './pod-template.ts'

export interface ContainerSlot {
  container: Container
  /** Path tokens from the object root to this container. */
  path: PathToken[]
  /** A native sidecar: an init container with restartPolicy Always. */
  sidecar: boolean
}

/** Regular containers and native sidecars: everything that runs until the pod terminates. */
export function longRunningContainers(template: PodTemplate): ContainerSlot[] {
  const slots: ContainerSlot[] = []
  template.spec.containers?.forEach((container, i) => {
    slots.push({ container, path: [...template.specPath, 'containers', i], sidecar: false })
  })
  template.spec.initContainers?.forEach((container, i) => {
    if (container.restartPolicy === 'Always') {
      slots.push({ container, path: [...template.specPath, 'initContainers', i], sidecar: true })
    }
  })
  return slots
}

/** The CEL twin of longRunningContainers' regular containers, over the pod spec `spec` (a CEL expression). */
export const regularContainersCel = (spec: string) => cond(`has(${spec}.containers)`, `${spec}.containers`, '[]')

/** The CEL twin of longRunningContainers' native sidecars: init containers with restartPolicy Always. */
export const nativeSidecarsCel = (spec: string) =>
  cond(`has(${spec}.initContainers)`, `${spec}.initContainers.filter(c, has(c.restartPolicy) && c.restartPolicy == 'Always')`, '[]')

/**
 * Containers that serve traffic: long-running ones that declare a containerPort, minus known
 * injected proxies (their injector manages their lifecycle, and a patch to them is overwritten).
 */
export function servingContainers(template: PodTemplate, ignore: ReadonlySet<string>): ContainerSlot[] {
  return longRunningContainers(template).filter(
    ({ container }) => (container.ports?.length ?? 0) > 0 && !ignore.has(container.name),
  )
}
