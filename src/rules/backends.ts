// What the traffic-path rules (ingress-backend, route-backend) share: whether one backend reference
// reaches pods (the Service exists, has the port, selects pods: service-selector's own answer), the
// closest existing name for a typo, and the Service side of the transition: a Service UPDATE that
// removes a port or the selector a referrer still uses, or a DELETE that orphans it.
import type { ServiceInfo } from '../cluster/service-records.ts'
import type { BackendRef } from '../cluster/routes.ts'
import { labelText, type ClusterView } from '../cluster/view.ts'
import { servicePorts, serviceRecord } from '../cluster/service-records.ts'
import type { KubeObject, ReviewInput, RuleFinding } from '../model/types.ts'
import { namespaceOf } from './referential.ts'

/** Edit distance with transpositions (optimal string alignment), for "did you mean": names ≤ 253 characters. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

/** The candidate closest to `name` when it is plausibly a typo of it (a third of its length, at least 1). */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined
  for (const candidate of candidates) {
    const d = distance(name, candidate)
    if (!best || d < best.d) best = { name: candidate, d }
  }
  return best && best.d <= Math.max(1, Math.floor(name.length / 3)) ? best.name : undefined
}

const portText = (service: ServiceInfo) => service.ports.map((p) => (p.name ? `${p.port} "${p.name}"` : String(p.port))).join(', ') || 'none'

export interface BackendProblem {
  message: string
  fix: string
  /** The Service has no pods (yet): a softer answer where the state may not be complete. */
  noPods?: boolean
  /** The Service is missing, in this namespace: an audit of files that hold no Service there cannot tell. */
  missingIn?: string
  /** The message for that case. */
  notInFiles?: string
}

/**
 * Why `ref` reaches no pods, or undefined. `fixAt(field, value)` writes the referrer's own fix
 * (the YAML to change in the Ingress or route).
 */
export function backendProblem(view: ClusterView, ref: BackendRef, fixAt: (field: 'name' | 'port', value: string | number) => string): BackendProblem | undefined {
  const service = view.service(ref.namespace, ref.service)
  if (!service) {
    const suggestion = closest(ref.service, view.serviceNames(ref.namespace))
    return {
      message: `${ref.where} sends traffic to Service ${ref.namespace}/${ref.service}, which does not exist${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
      fix: suggestion ? fixAt('name', suggestion) : `# create Service ${ref.namespace}/${ref.service}, or point ${ref.where} at an existing one`,
      missingIn: ref.namespace,
      notInFiles: `${ref.where} sends traffic to Service ${ref.namespace}/${ref.service}, which the files do not hold`,
    }
  }
  if (ref.port !== undefined && !service.externalName && !service.ports.some((p) => (typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port))) {
    const names = service.ports.flatMap((p) => (p.name ? [p.name] : []))
    const only = service.ports.length === 1 ? service.ports[0]! : undefined
    const suggestion = (typeof ref.port === 'string' ? closest(ref.port, names) : undefined) ?? only?.name ?? only?.port
    return {
      message: `${ref.where} sends traffic to port ${typeof ref.port === 'string' ? `"${ref.port}"` : ref.port} of Service ${ref.namespace}/${ref.service}, which has no such port (it has ${portText(service)})`,
      fix: suggestion !== undefined ? fixAt('port', suggestion) : `# use one of Service ${ref.service}'s ports: ${portText(service)}`,
    }
  }
  if (service.selector && view.workloadsMatching(ref.namespace, service.selector).length === 0) {
    return {
      message: `${ref.where} sends traffic to Service ${ref.namespace}/${ref.service}, which selects no pods (no workload in ${ref.namespace} has labels ${labelText(service.selector)})`,
      fix: `# give Service ${ref.service} the selector of the pods to serve (see service-selector)`,
      noPods: true,
    }
  }
  return undefined
}

/**
 * A finding for a referrer's backend problem, by transition: a CREATE only warns (GitOps tools apply in
 * any order), an UPDATE is denied, and an audit judges the files as the whole state unless they cannot
 * know who makes the pods.
 */
export function referrerFinding(view: ClusterView, review: ReviewInput, problem: BackendProblem): RuleFinding {
  if (review.audit) {
    const noServices = problem.missingIn !== undefined && view.podMakersUnknown !== undefined && view.serviceNames(problem.missingIn).length === 0
    if (noServices) return { message: `${problem.notInFiles}; they hold no Service of namespace ${problem.missingIn}, so the audit cannot tell`, fix: problem.fix, atMostWarn: true }
    // An operator that turns custom resources into pods may make Services too (Rook's dashboard Service).
    const unknown = problem.noPods ? view.podMakersUnknown?.(namespaceOf(review, review.object!)) : problem.missingIn !== undefined ? view.operatorMayCreate?.(problem.missingIn, 'the Service') : undefined
    return unknown ? { message: `${problem.message}; ${unknown}, so the audit cannot tell`, fix: problem.fix, atMostWarn: true } : { message: problem.message, fix: problem.fix }
  }
  if (review.operation === 'CREATE') return { message: `${problem.message} (yet)`, fix: problem.fix, atMostWarn: true }
  return { message: problem.message, fix: problem.fix }
}

/** The Service under review (UPDATE or DELETE): before, and after (undefined when deleted). */
export function serviceChange(review: ReviewInput): { namespace: string; before: ServiceInfo; after?: ServiceInfo } | undefined {
  if (review.group !== '' || review.kind !== 'Service' || !review.oldObject) return undefined
  if (review.operation !== 'UPDATE' && review.operation !== 'DELETE') return undefined
  const namespace = namespaceOf(review, review.oldObject)
  const info = (object: KubeObject): ServiceInfo => {
    const record = serviceRecord({ ...object, metadata: { ...object.metadata, namespace } })
    return record ?? { namespace, name: object.metadata?.name ?? '', ports: servicePorts(object), ...(object.spec?.['type'] === 'ExternalName' ? { externalName: true } : {}) }
  }
  const before = info(review.oldObject)
  return review.operation === 'DELETE' || !review.object ? { namespace, before } : { namespace, before, after: info(review.object) }
}

/** What a Service change takes from `ref` that it had (its port, its selector, itself), as the start of a sentence. */
export function lostBy(change: { before: ServiceInfo; after?: ServiceInfo }, ref: BackendRef): string | undefined {
  const has = (service: ServiceInfo) => ref.port === undefined || service.externalName === true || service.ports.some((p) => (typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port))
  const service = `Service ${change.before.namespace}/${change.before.name}`
  if (!has(change.before)) return undefined // it was broken already
  if (!change.after) return `deleting ${service}`
  if (!has(change.after)) return `this change removes port ${typeof ref.port === 'string' ? `"${ref.port}"` : ref.port} from ${service}`
  if (change.before.selector && !change.after.selector && !change.after.externalName) return `this change removes the selector of ${service} (so no endpoints are kept for it)`
  return undefined
}
