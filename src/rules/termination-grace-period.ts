// termination-grace-period: the grace period is the pod's whole budget for stopping: the preStop hook
// runs inside it, then the app must drain in-flight requests after SIGTERM. If the budget is shorter,
// the kubelet SIGKILLs mid-request (seed 001 §2.2). Runs after pre-stop, so it sees that rule's fix.
import { pointer } from '../model/json-pointer.ts'
import { podTemplateOf } from '../workloads/pod-template.ts'
import { longRunningContainers, type ContainerSlot } from '../workloads/containers.ts'
import { preStopSleepSeconds } from '../workloads/pre-stop-sleep.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import { defineRule } from './rule.ts'
import { POD_SPEC_SCOPE, servingSlots } from './serving.ts'

/** The value at a path of tokens, or undefined. */
function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root
  for (const token of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string | number, unknown>)[token]
  }
  return node
}

/** What Kubernetes uses when terminationGracePeriodSeconds is unset. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30

export interface GracePeriodOptions {
  drainSeconds: number
}

export const terminationGracePeriod = defineRule<GracePeriodOptions>({
  id: 'termination-grace-period',
  summary: 'terminationGracePeriodSeconds covers the longest preStop sleep plus time to drain.',
  why: 'a shorter grace period SIGKILLs containers while they still finish requests (502s on rollouts)',
  fixable: true,
  remedy: 'raised to the longest preStop sleep + `drainSeconds` (10)',
  defaultAction: 'mutate',
  ...POD_SPEC_SCOPE,
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['drainSeconds'],
    properties: {
      drainSeconds: {
        description: 'Seconds the application needs after SIGTERM to finish in-flight requests.',
        type: 'integer',
        minimum: 0,
        maximum: 3600,
        default: 10,
      },
    },
  },
  check({ review, original, options, settings }) {
    const template = podTemplateOf(review)
    if (!template) return []
    // A pod that serves nothing has nobody to drain for: a queue worker's short grace is its owner's call.
    const serving = servingSlots(review, template, settings)
    if (serving.length === 0) return []
    let longest = 0
    let longestContainer: string | undefined
    let longestPath: ContainerSlot['path'] | undefined
    for (const { container, path } of longRunningContainers(template)) {
      const seconds = preStopSleepSeconds(container.lifecycle?.preStop) ?? 0
      if (seconds > longest) [longest, longestContainer, longestPath] = [seconds, container.name, path]
    }
    // The sleep hitless adds in this same review (pre-stop's fix) is not the owner's: say so.
    const added = longestPath !== undefined && original !== undefined && valueAt(original, [...longestPath, 'lifecycle', 'preStop']) === undefined
    const needed = longest + options.drainSeconds
    const configured = template.spec.terminationGracePeriodSeconds
    const effective = configured ?? DEFAULT_GRACE_PERIOD_SECONDS
    if (effective >= needed) return []
    const path = pointer([...template.specPath, 'terminationGracePeriodSeconds'])
    const sleepPart = longestContainer ? `preStop sleep ${longest}s (container "${longestContainer}"${added ? ', the sleep hitless adds' : ''}) + ` : ''
    return [
      {
        ...(longestContainer ? { container: longestContainer } : {}),
        because: `serving: ${serving[0]!.why}`,
        message: `terminationGracePeriodSeconds ${effective}${configured == null ? ' (default)' : ''} < ${sleepPart}${options.drainSeconds}s to drain`,
        fix: podSpecFixSnippet(template.specPath, { terminationGracePeriodSeconds: needed }),
        patch: [{ op: configured === undefined ? 'add' : 'replace', path, value: needed }],
        patchSummary: `raised terminationGracePeriodSeconds from ${effective} to ${needed}`,
      },
    ]
  },
})
