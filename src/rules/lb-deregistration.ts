// lb-deregistration: a pod an AWS load balancer targets by IP must keep serving until the load balancer
// stops sending to it. When the pod is deleted the controller deregisters it, and the target group keeps
// routing to it (established connections, in-flight requests) for up to its deregistration delay
// (deregistration_delay.timeout_seconds, 300 s unless set). A preStop sleep shorter than that lets
// SIGTERM stop the app while the load balancer still uses it: 502s on every rollout. Says which number
// to change: the delay, when it was left at AWS's 300 s default (rarely meant); the sleep (and the grace
// period that must cover it), when the owner set the delay. pre-stop's coverDeregistration option makes
// its injected sleep cover the delay. TargetGroupBindings are skipped: their target group is made
// outside Kubernetes, so its delay cannot be read here.
import { DEREGISTRATION_ATTRIBUTE } from '../cluster/load-balancers.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { longestDelay, transitionFindings } from './load-balancers.ts'
import { usableCluster } from './referential.ts'
import { defineRule } from './rule.ts'

export const lbDeregistration = defineRule({
  id: 'lb-deregistration',
  summary: "The preStop sleep of pods an AWS load balancer targets by IP covers the target group's deregistration delay.",
  why: 'the load balancer keeps sending to a deregistered pod until its deregistration delay ends; a pod that stops sooner answers with 502s',
  fixable: false,
  remedy: 'deregistration_delay.timeout_seconds lowered to the sleep, or the sleep raised to the delay',
  defaultAction: 'warn',
  judges: [
    { kinds: POD_TEMPLATE_KINDS, operations: ['CREATE', 'UPDATE'] },
    { kinds: ['Service', 'Ingress'], operations: ['CREATE', 'UPDATE'] },
  ],
  reads: ['Service', 'Ingress', 'TargetGroupBinding', ...POD_TEMPLATE_KINDS],
  check({ review, settings, memo }) {
    // Namespaces reach every rule through their own webhook (decision 0031); their labels decide no
    // delay and no sleep, so a Namespace change would only repeat what was already so.
    if (review.kind === 'Namespace' && review.group === '') return []
    const cluster = usableCluster(settings, 'lb-deregistration')
    if (!cluster || 'finding' in cluster) return []
    return transitionFindings(cluster.view, review, ({ record, targets }, state) => {
      const target = longestDelay(targets)
      const sleep = record.preStopSleep ?? 0
      if (!target || sleep >= target.delay.seconds) return undefined
      const { seconds, defaulted, annotation, on } = target.delay
      const delayText = `${seconds} s (${DEREGISTRATION_ATTRIBUTE}${defaulted ? ', the default' : ` on ${on}`})`
      const sleepText = sleep > 0 ? `preStop sleep ${sleep} s` : 'no preStop sleep'
      const lower = `# ${on}: a delay the pod's preStop sleep covers\nmetadata:\n  annotations:\n    ${annotation}: ${DEREGISTRATION_ATTRIBUTE}=${Math.max(sleep, 1)}`
      const raise = `# ${record.kind} ${record.name}: a preStop sleep of ${seconds} s in each serving container, and terminationGracePeriodSeconds above it\n# (or pre-stop's coverDeregistration: true)\nlifecycle:\n  preStop:\n    sleep: {seconds: ${seconds}}`
      return {
        // Warnings are cut at 160 characters: the numbers first.
        message:
          `${record.kind} ${state.namespace}/${record.name}: ${sleepText} < deregistration delay ${delayText} of ${target.via}; the load balancer keeps sending to a deregistered pod until the delay ends, ` +
          `and SIGTERM stops it sooner; change ${defaulted ? `the delay (set ${DEREGISTRATION_ATTRIBUTE} on ${on} to at most ${Math.max(sleep, 1)})` : `the preStop sleep (to ${seconds} s, and the grace period above it)`}`,
        fix: defaulted ? lower : raise,
      }
    }, memo)
  },
})
