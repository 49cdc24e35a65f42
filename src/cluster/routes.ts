// Lean records of what sends traffic to Services: Ingresses (networking.k8s.io/v1), Gateway API
// HTTPRoutes and GRPCRoutes (gateway.networking.k8s.io/v1), and the ReferenceGrants that let a route
// reach a Service in another namespace. Only what the traffic-path rules read.
import type { KubeObject } from '../model/types.ts'
import { albIngress, type AlbIngress } from './load-balancers.ts'

/** One Service a route or Ingress sends traffic to. */
export interface BackendRef {
  /** The Service's namespace (the referrer's unless a route names another). */
  namespace: string
  service: string
  /** Port number or (Ingress only) name; undefined when the object names none. */
  port?: number | string
  /** Route weight (default 1); Ingress backends have none. */
  weight?: number
  /** Where it is written, for messages: `rules[0].http.paths[1] (example.com/api)`, `defaultBackend`. */
  where: string
}

export interface IngressRecord {
  namespace: string
  name: string
  backends: readonly BackendRef[]
  /** An Ingress of class alb (the AWS Load Balancer Controller's): its target type and delay. */
  alb?: AlbIngress
}

export type RouteKind = 'HTTPRoute' | 'GRPCRoute'

export interface RouteRecord {
  kind: RouteKind
  namespace: string
  name: string
  /** The backendRefs of each rule, in order (a rule's weights split its traffic). */
  rules: readonly (readonly BackendRef[])[]
}

export interface GrantRecord {
  namespace: string
  name: string
  from: readonly { group: string; kind: string; namespace: string }[]
  to: readonly { group: string; kind: string; name?: string }[]
}

type Obj = Record<string, unknown>
const obj = (value: unknown): Obj | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined)
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

function ingressBackend(backend: unknown, namespace: string, where: string): BackendRef | undefined {
  const service = obj(obj(backend)?.['service'])
  const name = str(service?.['name'])
  if (!name) return undefined // a `resource` backend, or none
  const port = obj(service?.['port'])
  const number = port?.['number']
  const portName = str(port?.['name'])
  // The AWS Load Balancer Controller's action backends: the "Service" names an action in the
  // Ingress's alb.ingress.kubernetes.io/actions.* annotation, not a Service.
  if (portName === 'use-annotation') return undefined
  return { namespace, service: name, ...(typeof number === 'number' ? { port: number } : portName ? { port: portName } : {}), where }
}

export function ingressRecord(object: KubeObject): IngressRecord {
  const namespace = object.metadata?.namespace ?? ''
  const spec = obj(object.spec) ?? {}
  const backends: BackendRef[] = []
  const fallback = ingressBackend(spec['defaultBackend'], namespace, 'defaultBackend')
  if (fallback) backends.push(fallback)
  list(spec['rules']).forEach((rule, r) => {
    const host = str(obj(rule)?.['host'])
    list(obj(obj(rule)?.['http'])?.['paths']).forEach((path, p) => {
      const at = `rules[${r}].http.paths[${p}] (${host ?? '*'}${str(obj(path)?.['path']) ?? '/'})`
      const backend = ingressBackend(obj(path)?.['backend'], namespace, at)
      if (backend) backends.push(backend)
    })
  })
  const alb = albIngress(object)
  return { namespace, name: object.metadata?.name ?? '', backends, ...(alb ? { alb } : {}) }
}

export function routeRecord(kind: RouteKind, object: KubeObject): RouteRecord {
  const namespace = object.metadata?.namespace ?? ''
  const rules = list(obj(object.spec)?.['rules']).map((rule, r) =>
    list(obj(rule)?.['backendRefs']).flatMap((ref, b): BackendRef[] => {
      const backend = obj(ref)
      // Only Services: group "" (core) and kind Service are the defaults.
      if ((str(backend?.['group']) ?? '') !== '' || (str(backend?.['kind']) ?? 'Service') !== 'Service') return []
      const name = str(backend?.['name'])
      if (!name) return []
      const port = backend?.['port']
      const weight = backend?.['weight']
      return [{ namespace: str(backend?.['namespace']) ?? namespace, service: name, ...(typeof port === 'number' ? { port } : {}), weight: typeof weight === 'number' ? weight : 1, where: `rules[${r}].backendRefs[${b}]` }]
    }),
  )
  return { kind, namespace, name: object.metadata?.name ?? '', rules }
}

export function grantRecord(object: KubeObject): GrantRecord {
  const spec = obj(object.spec) ?? {}
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    from: list(spec['from']).map((f) => ({ group: str(obj(f)?.['group']) ?? '', kind: str(obj(f)?.['kind']) ?? '', namespace: str(obj(f)?.['namespace']) ?? '' })),
    to: list(spec['to']).map((t) => {
      const name = str(obj(t)?.['name'])
      return { group: str(obj(t)?.['group']) ?? '', kind: str(obj(t)?.['kind']) ?? '', ...(name ? { name } : {}) }
    }),
  }
}

/** Whether a ReferenceGrant in the Service's namespace lets `route` use `service` there. */
export function grants(grant: GrantRecord, route: Pick<RouteRecord, 'kind' | 'namespace'>, service: string): boolean {
  return (
    grant.from.some((f) => f.group === 'gateway.networking.k8s.io' && f.kind === route.kind && f.namespace === route.namespace) &&
    grant.to.some((t) => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === service))
  )
}

/** Every Service a route uses, flattened. */
export const routeBackends = (route: RouteRecord): BackendRef[] => route.rules.flat()
