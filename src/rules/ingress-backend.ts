// ingress-backend: every backend of a networking.k8s.io/v1 Ingress (its rules' paths and its
// defaultBackend) names a Service that exists in its namespace, a port that Service has (by number or
// by name: peers let a wrong number through when the Service port is unnamed), and a Service that
// selects pods (service-selector's own answer). The controller answers 503 for that host and path
// otherwise (seed 004: the request path Ingress → Service → port → container). `resource` backends are
// skipped. Transition-aware: an Ingress CREATE only warns (GitOps tools apply in any order), an UPDATE
// is denied; a Service UPDATE that removes a port or the selector an Ingress uses is denied, and a
// Service DELETE that orphans one is warned about (DELETE is never blocked).
import { ingressRecord, type BackendRef } from '../cluster/routes.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { ReviewInput, RuleFinding } from '../model/types.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { backendProblem, lostBy, referrerFinding, serviceChange } from './backends.ts'
import { inNamespace } from './disruption.ts'
import { namespaceOf, usableCluster } from './referential.ts'
import { defineRule } from './rule.ts'

function fixAt(ref: BackendRef) {
  return (field: 'name' | 'port', value: string | number) => {
    const name = field === 'name' ? value : ref.service
    const port = field === 'port' ? value : ref.port
    const portLine = port === undefined ? '' : `\n    port: {${typeof port === 'number' ? 'number' : 'name'}: ${port}}`
    return `# ${ref.where}:\nbackend:\n  service:\n    name: ${name}${portLine}`
  }
}

function judgeIngress(view: ClusterView, review: ReviewInput): RuleFinding[] {
  const ingress = ingressRecord(inNamespace(review.object!, namespaceOf(review, review.object!)))
  return ingress.backends.flatMap((ref) => {
    const problem = backendProblem(view, ref, fixAt(ref))
    return problem ? [referrerFinding(view, review, { ...problem, message: `Ingress ${ingress.namespace}/${ingress.name}: ${problem.message}`, ...(problem.notInFiles ? { notInFiles: `Ingress ${ingress.namespace}/${ingress.name}: ${problem.notInFiles}` } : {}) })] : []
  })
}

function judgeService(view: ClusterView, change: NonNullable<ReturnType<typeof serviceChange>>): RuleFinding[] {
  const findings: RuleFinding[] = []
  for (const ingress of view.ingresses(change.namespace)) {
    for (const ref of ingress.backends) {
      if (ref.service !== change.before.name) continue
      const lost = lostBy(change, ref)
      if (!lost) continue
      findings.push({
        message: `${lost}, which Ingress ${ingress.namespace}/${ingress.name} sends traffic to (${ref.where}): those requests would fail with 503`,
        fix: `# change Ingress ${ingress.name}'s ${ref.where} first (or keep the Service's port and selector)`,
      })
    }
  }
  return findings
}

export const ingressBackend = defineRule({
  id: 'ingress-backend',
  summary: "An Ingress's backends name Services that exist in its namespace, with the port they name and pods behind them.",
  why: 'an Ingress backend whose Service, port or pods are missing answers 503 for its host and path',
  fixable: false,
  remedy: 'the Service name and port to use',
  defaultAction: 'deny',
  judges: [
    { kinds: ['Ingress'], operations: ['CREATE', 'UPDATE'] },
    // The Service side: an UPDATE that removes what an Ingress uses; a DELETE (a warning at most).
    { kinds: ['Service'], operations: ['UPDATE', 'DELETE'] },
  ],
  reads: ['Ingress', 'Service', ...POD_TEMPLATE_KINDS],
  check({ review, settings }) {
    const ingress = review.group === 'networking.k8s.io' && review.kind === 'Ingress'
    const change = ingress ? undefined : serviceChange(review)
    if (!ingress && !change) return []
    const cluster = usableCluster(settings, 'ingress-backend')
    if (!cluster) return []
    if ('finding' in cluster) return ingress ? [cluster.finding] : []
    return ingress ? judgeIngress(cluster.view, review) : judgeService(cluster.view, change!)
  },
})
