// route-backend: a Gateway API HTTPRoute or GRPCRoute (gateway.networking.k8s.io/v1) whose backendRefs
// (kind Service, the default) reach pods: the Service exists, has the port, and selects pods; a ref to
// another namespace is allowed by a ReferenceGrant there (without one the gateway refuses it,
// ResolvedRefs=False, RefNotPermitted, and answers 500 for its share); and a rule's weights do not send
// all its traffic to backends with no pods (or weigh every backend 0, which also answers 500). The
// cluster may not have the Gateway API CRDs: then there are no routes (the cache holds none).
// Transition-aware like ingress-backend, including the Service side (UPDATE denied, DELETE warned).
import { grants, routeRecord, type BackendRef, type RouteKind, type RouteRecord } from '../cluster/routes.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { ReviewInput, RuleFinding } from '../model/types.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { backendProblem, lostBy, referrerFinding, serviceChange } from './backends.ts'
import { inNamespace } from './disruption.ts'
import { namespaceOf, usableCluster } from './referential.ts'
import { defineRule } from './rule.ts'

const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute'])

function fixAt(ref: BackendRef) {
  return (field: 'name' | 'port', value: string | number) =>
    `# ${ref.where}:\nbackendRefs:\n- name: ${field === 'name' ? value : ref.service}${ref.port !== undefined || field === 'port' ? `\n  port: ${field === 'port' ? value : ref.port}` : ''}`
}

function grantFix(route: RouteRecord, ref: BackendRef): string {
  return `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: ${route.namespace}-${route.kind.toLowerCase()}s
  namespace: ${ref.namespace}
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: ${route.kind}, namespace: ${route.namespace}}
  to:
  - {group: "", kind: Service, name: ${ref.service}}`
}

function judgeRoute(view: ClusterView, review: ReviewInput): RuleFinding[] {
  const route = routeRecord(review.kind as RouteKind, inNamespace(review.object!, namespaceOf(review, review.object!)))
  const name = `${route.kind} ${route.namespace}/${route.name}`
  const findings: RuleFinding[] = []
  for (const rule of route.rules) {
    const empty: BackendRef[] = []
    for (const ref of rule) {
      if (ref.namespace !== route.namespace && ![...view.referenceGrants(ref.namespace)].some((grant) => grants(grant, route, ref.service))) {
        findings.push(referrerFinding(view, review, { message: `${name}: ${ref.where} sends traffic to Service ${ref.namespace}/${ref.service} in another namespace, and no ReferenceGrant in ${ref.namespace} allows it (the gateway refuses it: RefNotPermitted)`, fix: grantFix(route, ref) }))
        continue
      }
      const problem = backendProblem(view, ref, fixAt(ref))
      if (!problem) continue
      if (problem.noPods) empty.push(ref)
      else findings.push(referrerFinding(view, review, { ...problem, message: `${name}: ${problem.message}`, ...(problem.notInFiles ? { notInFiles: `${name}: ${problem.notInFiles}` } : {}) }))
    }
    const weighted = rule.filter((ref) => (ref.weight ?? 1) > 0)
    if (rule.length > 0 && weighted.length === 0) {
      findings.push(referrerFinding(view, review, { message: `${name}: every backendRef of ${rule[0]!.where.split('.')[0]} has weight 0, so the gateway answers 500 for it`, fix: `# give at least one backendRef of ${rule[0]!.where.split('.')[0]} a weight above 0` }))
    } else if (weighted.length > 0 && weighted.every((ref) => empty.includes(ref))) {
      const services = weighted.map((ref) => `${ref.namespace}/${ref.service}`).join(', ')
      findings.push(referrerFinding(view, review, { message: `${name}: ${rule[0]!.where.split('.')[0]} sends all its traffic to ${services}, which select${weighted.length === 1 ? 's' : ''} no pods`, fix: `# weigh a backend with pods above 0, or give ${services} a selector that matches pods`, noPods: true }))
    }
  }
  return findings
}

function judgeService(view: ClusterView, change: NonNullable<ReturnType<typeof serviceChange>>): RuleFinding[] {
  const findings: RuleFinding[] = []
  for (const route of view.routesTo(change.namespace)) {
    for (const ref of route.rules.flat()) {
      if (ref.namespace !== change.namespace || ref.service !== change.before.name) continue
      const lost = lostBy(change, ref)
      if (!lost) continue
      findings.push({
        message: `${lost}, which ${route.kind} ${route.namespace}/${route.name} sends traffic to (${ref.where}): those requests would fail with 503`,
        fix: `# change ${route.kind} ${route.name}'s ${ref.where} first (or keep the Service's port and selector)`,
      })
    }
  }
  return findings
}

export const routeBackend = defineRule({
  id: 'route-backend',
  summary: "A Gateway API route's backendRefs reach Services that exist, with their port, pods and any ReferenceGrant they need.",
  why: 'a route backend whose Service, port, pods or ReferenceGrant is missing gets 500s or 503s for its share of the traffic',
  fixable: false,
  remedy: 'the Service, port or ReferenceGrant to use',
  defaultAction: 'deny',
  judges: [
    { kinds: ['HTTPRoute', 'GRPCRoute'], operations: ['CREATE', 'UPDATE'] },
    { kinds: ['Service'], operations: ['UPDATE', 'DELETE'] },
  ],
  reads: ['HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'Service', ...POD_TEMPLATE_KINDS],
  check({ review, settings }) {
    const route = review.group === 'gateway.networking.k8s.io' && ROUTE_KINDS.has(review.kind)
    const change = route ? undefined : serviceChange(review)
    if (!route && !change) return []
    const cluster = usableCluster(settings, 'route-backend')
    if (!cluster) return []
    if ('finding' in cluster) return route ? [cluster.finding] : []
    return route ? judgeRoute(cluster.view, review) : judgeService(cluster.view, change!)
  },
})
