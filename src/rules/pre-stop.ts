// pre-stop: when a pod is deleted, the kubelet's SIGTERM and the endpoint removal race. A container
// that exits at once still gets requests from load balancers that have not heard yet: 502/503 on every
// rollout (seed 001 §2.2). A short preStop sleep lets the endpoint removal win. An existing hook is the
// owner's choice and is left alone.
import { pointer } from '../engine/json-pointer.ts'
import { podTemplateOf, type Handler } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { servingSlots } from './serving.ts'
import type { KubernetesVersion, Rule } from './rule.ts'

export type PreStopStyle = 'auto' | 'sleep' | 'exec'

export interface PreStopOptions {
  sleepSeconds: number
  style: PreStopStyle
}

/** The native sleep action is on by default from Kubernetes 1.30 (PodLifecycleSleepAction beta). */
export function supportsNativeSleep(version: KubernetesVersion): boolean {
  return version.major > 1 || (version.major === 1 && version.minor >= 30)
}

/**
 * The hook to inject. `auto` without cluster access uses the native sleep; with cluster access it uses
 * it only when the API server is known to be >= 1.30, so an older one is never sent a patch it rejects.
 */
export function preStopHandler(options: PreStopOptions, clusterVersion?: KubernetesVersion, clusterAccess = false): Handler {
  const autoNative = clusterVersion ? supportsNativeSleep(clusterVersion) : !clusterAccess
  const native = options.style === 'sleep' || (options.style === 'auto' && autoNative)
  return native
    ? { sleep: { seconds: options.sleepSeconds } }
    : { exec: { command: ['sleep', String(options.sleepSeconds)] } }
}

export const preStop: Rule<PreStopOptions> = {
  id: 'pre-stop',
  summary: 'Every serving container has a preStop hook that gives endpoints time to drain.',
  why: 'without one, the container stops while load balancers still send it requests (502/503 on rollouts)',
  fixable: true,
  check({ review, options, settings }) {
    const template = podTemplateOf(review)
    if (!template) return []
    const handler = preStopHandler(options, settings.clusterVersion, settings.liveCluster === true)
    return servingSlots(review, template, settings)
      .filter(({ container }) => !container.lifecycle?.preStop)
      .map(({ container, path }) => {
        const hasLifecycle = typeof container.lifecycle === 'object' && container.lifecycle !== null
        return {
          container: container.name,
          message: `container "${container.name}" has no preStop hook`,
          fix: containerFixSnippet(path, container.name, { lifecycle: { preStop: handler } }),
          patch: hasLifecycle
            ? [{ op: 'add', path: pointer([...path, 'lifecycle', 'preStop']), value: handler }]
            : [{ op: 'add', path: pointer([...path, 'lifecycle']), value: { preStop: handler } }],
          patchSummary: `added a ${options.sleepSeconds}s preStop sleep to container "${container.name}"`,
        }
      })
  },
}
