// pre-stop: when a pod is deleted, the kubelet's SIGTERM and the endpoint removal race. A container
// that exits at once still gets requests from load balancers that have not heard yet: 502/503 on every
// rollout (seed 001 §2.2). A short preStop sleep lets the endpoint removal win. An existing hook is the
// owner's choice and is left alone, and when the owner adds one beside the sleep hitless injected
// earlier (kubectl apply, Helm and Argo CD keep fields their manifest does not name), the injected
// handler is taken out: the API server accepts one handler type per hook, and the owner's wins.
import { pointer } from '../model/json-pointer.ts'
import { podTemplateOf, type Handler } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { longRunningContainers } from '../workloads/containers.ts'
import { POD_SPEC_SCOPE, servingSlots } from './serving.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { defineRule } from './rule.ts'

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

/** The handler types of a LifecycleHandler; the API server accepts exactly one per hook. */
const HANDLER_TYPES = ['exec', 'httpGet', 'tcpSocket', 'sleep'] as const
type HandlerType = (typeof HANDLER_TYPES)[number]

/** Whether a handler has the shape hitless injects: `sleep: {seconds: N}` or `exec: [sleep, "N"]`, any N. */
function injectedShape(type: HandlerType, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const fields = value as Record<string, unknown>
  const keys = Object.keys(fields)
  if (type === 'sleep') return keys.length === 1 && Number.isInteger(fields['seconds'])
  if (type !== 'exec' || keys.length !== 1) return false
  const command = fields['command']
  return Array.isArray(command) && command.length === 2 && command[0] === 'sleep' && typeof command[1] === 'string' && /^\d+$/.test(command[1])
}

/**
 * The handler types to take out of a preStop that holds more than one, so the owner's hook is the one
 * left: every sleep of the shape hitless injects beside a hook of another kind; between two sleeps of
 * that shape (native and exec), the one of the style hitless injects now.
 */
export function injectedBesideOwner(preStop: Handler, injectedNow: Handler): HandlerType[] {
  const present = HANDLER_TYPES.filter((type) => preStop[type] !== undefined && preStop[type] !== null)
  if (present.length < 2) return []
  const injected = present.filter((type) => injectedShape(type, preStop[type]))
  if (injected.length < present.length) return injected
  const style = HANDLER_TYPES.find((type) => injectedNow[type] !== undefined)
  return injected.filter((type) => type === style).slice(0, present.length - 1)
}

export const preStop = defineRule<PreStopOptions>({
  id: 'pre-stop',
  summary: 'Every serving container has a preStop hook that gives endpoints time to drain.',
  why: 'without one, the container stops while load balancers still send it requests (502/503 on rollouts)',
  fixable: true,
  remedy: "a sleep of `sleepSeconds` (5); the owner's own hook wins over an injected one",
  defaultAction: 'mutate',
  ...POD_SPEC_SCOPE,
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['sleepSeconds', 'style'],
    properties: {
      sleepSeconds: {
        description: 'Seconds the injected preStop hook sleeps so endpoints are removed before SIGTERM.',
        type: 'integer',
        minimum: 1,
        maximum: 300,
        default: 5,
      },
      style: {
        description: 'auto: the native sleep action when the API server is known to be >= 1.30, exec sleep when it is older or its version is not known yet (native without a cluster); sleep or exec: always that.',
        type: 'string',
        enum: ['auto', 'sleep', 'exec'],
        default: 'auto',
      },
    },
  },
  check({ review, options, settings }) {
    const template = podTemplateOf(review)
    if (!template) return []
    const handler = preStopHandler(options, settings.clusterVersion, settings.liveCluster === true)
    const conflicts = longRunningContainers(template).flatMap(({ container, path }) => {
      const hook = container.lifecycle?.preStop
      const extra = hook && typeof hook === 'object' ? injectedBesideOwner(hook, handler) : []
      if (extra.length === 0) return []
      const kept = HANDLER_TYPES.filter((type) => hook![type] !== undefined && !extra.includes(type))
      return [
        {
          container: container.name,
          message: `container "${container.name}" has a preStop ${kept.join(' and ')} hook and the ${extra.join(' and ')} hitless injected earlier: the API server accepts one handler per hook`,
          fix: containerFixSnippet(path, container.name, { lifecycle: { preStop: Object.fromEntries(kept.map((type) => [type, hook![type]])) } }),
          patch: extra.map((type) => ({ op: 'remove' as const, path: pointer([...path, 'lifecycle', 'preStop', type]) })),
          patchSummary: `removed the injected preStop ${extra.join(' and ')} of container "${container.name}": its own ${kept.join(' and ')} hook replaces it`,
        },
      ]
    })
    const missing = servingSlots(review, template, settings)
      .filter(({ container }) => !container.lifecycle?.preStop)
      .map(({ container, path, why }) => {
        const hasLifecycle = typeof container.lifecycle === 'object' && container.lifecycle !== null
        return {
          container: container.name,
          message: `container "${container.name}" has no preStop hook`,
          because: `serving: ${why}`,
          fix: containerFixSnippet(path, container.name, { lifecycle: { preStop: handler } }),
          patch: hasLifecycle
            ? [{ op: 'add' as const, path: pointer([...path, 'lifecycle', 'preStop']), value: handler }]
            : [{ op: 'add' as const, path: pointer([...path, 'lifecycle']), value: { preStop: handler } }],
          patchSummary: `added a ${options.sleepSeconds}s preStop sleep to container "${container.name}"`,
        }
      })
    return [...conflicts, ...missing]
  },
})
