// termination-grace-period: the grace period is the pod's whole budget for stopping: the preStop hook
// runs inside it, then the app must drain in-flight requests after SIGTERM. If the budget is shorter,
// the kubelet SIGKILLs mid-request (seed 001 §2.2). Runs after pre-stop, so it sees that rule's fix.
import { pointer } from '../engine/json-pointer.ts'
import { podTemplateOf } from '../workloads/pod-template.ts'
import { longRunningContainers } from '../workloads/containers.ts'
import { preStopSleepSeconds } from '../workloads/pre-stop-sleep.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import type { Rule } from './rule.ts'

/** What Kubernetes uses when terminationGracePeriodSeconds is unset. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30

export interface GracePeriodOptions {
  drainSeconds: number
}

export const terminationGracePeriod: Rule<GracePeriodOptions> = {
  id: 'termination-grace-period',
  summary: 'terminationGracePeriodSeconds covers the longest preStop sleep plus time to drain.',
  why: 'a shorter grace period SIGKILLs containers while they still finish requests (502s on rollouts)',
  fixable: true,
  check({ review, options }) {
    const template = podTemplateOf(review)
    if (!template) return []
    let longest = 0
    let longestContainer: string | undefined
    for (const { container } of longRunningContainers(template)) {
      const seconds = preStopSleepSeconds(container.lifecycle?.preStop) ?? 0
      if (seconds > longest) [longest, longestContainer] = [seconds, container.name]
    }
    const needed = longest + options.drainSeconds
    const configured = template.spec.terminationGracePeriodSeconds
    const effective = configured ?? DEFAULT_GRACE_PERIOD_SECONDS
    if (effective >= needed) return []
    const path = pointer([...template.specPath, 'terminationGracePeriodSeconds'])
    const sleepPart = longestContainer ? `preStop sleep ${longest}s (container "${longestContainer}") + ` : ''
    return [
      {
        ...(longestContainer ? { container: longestContainer } : {}),
        message: `terminationGracePeriodSeconds ${effective}${configured == null ? ' (default)' : ''} < ${sleepPart}${options.drainSeconds}s to drain`,
        fix: podSpecFixSnippet(template.specPath, { terminationGracePeriodSeconds: needed }),
        patch: [{ op: configured === undefined ? 'add' : 'replace', path, value: needed }],
        patchSummary: `raised terminationGracePeriodSeconds from ${effective} to ${needed}`,
      },
    ]
  },
}
