// lb-readiness-gate: pods an AWS load balancer targets by IP (an NLB Service with target type ip, an
// ALB Ingress with target-type ip, a TargetGroupBinding with targetType ip) need the readiness gate the
// AWS Load Balancer Controller injects when their Namespace is labelled
// elbv2.k8s.aws/pod-readiness-gate-inject: enabled (or that the template lists itself). Without it a
// pod turns Ready before the load balancer has registered it, the rollout moves on and stops the old
// pods, and the target group holds only initial and draining targets: 502/504s on every rollout, with
// probes, preStop and grace all right (seed 001 §2.1.2). Judged from every side: the workload, the
// Service, the Ingress, the TargetGroupBinding and the Namespace whose label goes. GKE's NEG controller
// injects its own gate: nothing to check there. Transitions as in load-balancers.ts.
import { GATE_INJECT_LABEL, READINESS_GATE_PREFIX } from '../cluster/load-balancers.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { describeTargets, transitionFindings } from './load-balancers.ts'
import { usableCluster } from './referential.ts'
import { defineRule } from './rule.ts'

export const lbReadinessGate = defineRule({
  id: 'lb-readiness-gate',
  summary: 'Pods an AWS load balancer targets by IP get its readiness gate, so a rollout waits until the load balancer has registered them.',
  why: 'without the gate a rollout stops old pods before the load balancer sends to the new ones: 502/504s on every rollout',
  fixable: false,
  remedy: `the Namespace label \`${GATE_INJECT_LABEL}: enabled\``,
  defaultAction: 'warn',
  judges: [
    { kinds: POD_TEMPLATE_KINDS, operations: ['CREATE', 'UPDATE'] },
    { kinds: ['Service', 'Ingress', 'TargetGroupBinding'], operations: ['CREATE', 'UPDATE'] },
    // The label's removal: pods created after it get no gate.
    { kinds: ['Namespace'], operations: ['UPDATE'] },
  ],
  reads: ['Namespace', 'Service', 'Ingress', 'TargetGroupBinding', ...POD_TEMPLATE_KINDS],
  check({ review, settings, memo }) {
    const cluster = usableCluster(settings, 'lb-readiness-gate')
    if (!cluster || 'finding' in cluster) return [] // a warning by default: not worth a "cannot check"
    // A Namespace change matters only when it takes the label away.
    const labelOf = (side: 'object' | 'oldObject') => review[side]?.metadata?.labels?.[GATE_INJECT_LABEL]
    if (review.kind === 'Namespace' && (labelOf('oldObject') !== 'enabled' || labelOf('object') === 'enabled')) return []
    return transitionFindings(cluster.view, review, ({ record, targets }, state) => {
      if (record.lbGate || state.labels?.[GATE_INJECT_LABEL] === 'enabled') return undefined
      const labelled = review.kind === 'Namespace' ? 'loses' : 'lacks'
      return {
        // Warnings are cut at 160 characters: what and where first.
        message:
          `no load balancer readiness gate for ${record.kind} ${state.namespace}/${record.name}: Namespace ${state.namespace} ${labelled} ${GATE_INJECT_LABEL}=enabled, ` +
          `and its pods are IP targets of ${describeTargets(targets)}; the template lists no ${READINESS_GATE_PREFIX}… gate either, so a rollout can stop old pods before the load balancer sends to the new ones`,
        fix: `# Namespace ${state.namespace} (the AWS Load Balancer Controller then injects the gate into new pods):\nmetadata:\n  labels:\n    ${GATE_INJECT_LABEL}: enabled`,
      }
    }, memo)
  },
})
