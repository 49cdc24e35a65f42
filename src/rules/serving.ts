// Which containers the pod-spec rules treat as serving, and why (the why goes into every finding).
// "Serving" is about the ports clients use. Exactly:
// 1. Services that select the pods (live, or in the audited files), less the metrics-only ones
//    (./metrics-only.ts), make serving each container whose declared port one of their client ports
//    (not a metrics port) targets (by name, or by number), and only those: a Service that targets only
//    a sidecar's port makes that sidecar serving, not its neighbours (and nothing, when the sidecar is
//    one of the ignored names).
//    If they target no declared port (ports are informational; many manifests omit them), every
//    regular container may be the one.
// 2. Only metrics-only Services select the pods: scrapes, no clients; nothing is serving.
// 3. No Service selects the pods, in an audited set that holds Services of that namespace (so it shows
//    how traffic reaches the namespace): nothing routes to these pods, nothing is serving. Unless the
//    set itself shows it lacks some: a StatefulSet's serviceName, or an Ingress or route backend, that
//    names a Service of the namespace the files do not hold.
// 4. Otherwise (no Service knowledge, a live cluster where the Service may come next, or files that
//    lack some of the namespace's Services): a container that declares a port is serving, unless every
//    port it declares is metrics or health only (a metrics name, or servingContainers.nonServingPortNames).
// Always left out: init containers that are not native sidecars, and servingContainers.ignore.
import { servicesSelecting } from '../cluster/view.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { ServiceRecord } from '../cluster/service-records.ts'
import { routeBackends } from '../cluster/routes.ts'
import type { KubeObject, ReviewInput } from '../model/types.ts'
import { longRunningContainers, type ContainerSlot } from '../workloads/containers.ts'
import type { ContainerPort, PodTemplate } from '../workloads/pod-template.ts'
import { namespaceOf } from './referential.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import type { RegisteredRule, RuleSettings } from './rule.ts'
import { q, qList, regexLiteral } from './cel.ts'
import { metricsPortName, scrapeEvidence, targetedPort, type ScrapeEvidence } from './metrics-only.ts'

/** What the pod-spec rules judge and read: pod templates on every write, and the Services (and what scrapes them) that decide what serves. */
export const POD_SPEC_SCOPE: Pick<RegisteredRule, 'judges' | 'reads'> = {
  judges: [{ kinds: POD_TEMPLATE_KINDS, operations: ['CREATE', 'UPDATE'] }],
  reads: ['Service', 'Ingress', 'HTTPRoute', 'GRPCRoute', 'ServiceMonitor', 'PodMonitor'],
}

export interface ServingSlot extends ContainerSlot {
  /** Why the container was judged serving, for the finding: `Service shop/web targets its port http`. */
  why: string
}

/** Whether a port name marks metrics or health only: `metrics`, `http-metrics`, `healthz-port`. */
export function nonServingName(name: string | undefined, names: ReadonlySet<string>): boolean {
  if (!name) return false
  return metricsPortName(name) || names.has(name) || name.split('-').some((part) => names.has(part))
}

interface KnownServices {
  /** Services that select the pods and carry client traffic (not metrics-only). */
  clients: ServiceRecord[]
  evidence: ScrapeEvidence
  /** Some Service selects the pods, and every one that does is metrics-only. */
  scrapedOnly: boolean
  /** An audited set that holds Services of the namespace and shows no sign of lacking any. */
  knowsNamespace: boolean
  /** Why the audited set evidently lacks some of the namespace's Services. */
  lacking?: string
}

/** A Service of `namespace` that the files lack although something in them names it, and what names it. */
function lackedService(view: ClusterView, namespace: string): string | undefined {
  const lacks = (name: string) => view.service(namespace, name) === undefined
  for (const record of view.workloadsMatching(namespace, {})) {
    if (record.kind === 'StatefulSet' && record.serviceName && lacks(record.serviceName)) return `Service ${namespace}/${record.serviceName} that StatefulSet ${record.name} names as its serviceName`
  }
  for (const ingress of view.ingresses(namespace)) {
    const missing = ingress.backends.find((b) => b.namespace === namespace && lacks(b.service))
    if (missing) return `Service ${namespace}/${missing.service} that Ingress ${ingress.name} sends traffic to`
  }
  for (const route of view.routesTo(namespace)) {
    const missing = routeBackends(route).find((b) => b.namespace === namespace && lacks(b.service))
    if (missing) return `Service ${namespace}/${missing.service} that ${route.kind} ${route.namespace}/${route.name} sends traffic to`
  }
  return undefined
}

function servicesOf(review: ReviewInput & { object: KubeObject }, template: PodTemplate, settings: RuleSettings, ports: readonly ContainerPort[]): KnownServices | undefined {
  const view = settings.cluster
  if (!view || view.unavailable()) return undefined
  const namespace = namespaceOf(review, review.object)
  const selecting = servicesSelecting(view, namespace, template.labels)
  const evidence = scrapeEvidence(view, namespace, { labels: template.labels, ports })
  const clients = selecting.filter((service) => !evidence.metricsOnly(service))
  // An audited set that holds Services of the namespace shows how traffic reaches it; a live cluster
  // may simply not have the Service yet (Helm, kubectl apply -f dir/ create it next).
  const offline = view.podMakersUnknown !== undefined && review.audit === true
  const holdsServices = offline && [...view.services(namespace)].length > 0
  const lacking = holdsServices && selecting.length === 0 ? lackedService(view, namespace) : undefined
  return { clients, evidence, scrapedOnly: selecting.length > 0 && clients.length === 0, knowsNamespace: holdsServices && !lacking, ...(lacking ? { lacking } : {}) }
}

// Six rules ask for a review's serving slots; within one evaluation (servingSlotsOnce) they are worked
// out once per pod spec, object and settings, and shared (nobody changes them). Outside one, nothing is
// kept: a later call may see other Services or settings.
interface Remembered {
  object: KubeObject
  settings: RuleSettings
  slots: ServingSlot[]
}
let remembered: WeakMap<object, Remembered> | undefined

/** Runs `evaluation` with serving slots remembered until it returns. */
export function servingSlotsOnce<T>(evaluation: () => T): T {
  const outer = remembered
  remembered = new WeakMap()
  try {
    return evaluation()
  } finally {
    remembered = outer
  }
}

export function servingSlots(review: ReviewInput & { object: KubeObject }, template: PodTemplate, settings: RuleSettings): ServingSlot[] {
  const known = remembered?.get(template.spec)
  if (known && known.object === review.object && known.settings === settings) return known.slots
  const slots = workOutServingSlots(review, template, settings)
  remembered?.set(template.spec, { object: review.object, settings, slots })
  return slots
}

function workOutServingSlots(review: ReviewInput & { object: KubeObject }, template: PodTemplate, settings: RuleSettings): ServingSlot[] {
  const all = longRunningContainers(template)
  const ignored = ({ container }: ContainerSlot) => settings.ignoreContainers.has(container.name)
  const candidates = all.filter((slot) => !ignored(slot))
  const services = servicesOf(review, template, settings, all.flatMap(({ container }) => container.ports ?? []))
  if (services?.scrapedOnly) return []
  if (services && services.clients.length > 0) {
    // Ignored containers count here: a Service that targets only the kube-rbac-proxy's port makes none of its neighbours serving.
    const targeted = all.flatMap((slot) => {
      for (const service of services.clients) {
        const port = service.ports.find((p) => targetedPort(p, slot.container.ports ?? []) && !services.evidence.metricsPort(service, p))
        if (port) return [{ ...slot, why: `Service ${service.namespace}/${service.name} targets its port ${port.targetPort}` }]
      }
      return []
    })
    if (targeted.length > 0) return targeted.filter((slot) => !ignored(slot))
    const service = services.clients[0]!
    return candidates.filter(({ sidecar }) => !sidecar).map((slot) => ({ ...slot, why: `Service ${service.namespace}/${service.name} selects its pods` }))
  }
  if (services?.knowsNamespace) return []
  const names = settings.nonServingPortNames ?? new Set<string>()
  const lacking = services?.lacking ? `; the files lack ${services.lacking}, so they do not hold every Service of the namespace` : ''
  return candidates.flatMap((slot) => {
    const port = (slot.container.ports ?? []).find((p) => !nonServingName(p.name, names))
    return port ? [{ ...slot, why: `it declares containerPort ${port.name ?? port.containerPort}${lacking}` }] : []
  })
}

// CEL twins (hitless export-policies). An admission policy sees the object alone, never a Service,
// ServiceMonitor or Ingress: CEL judges by rule 4 only (a declared port that is not metrics or health
// only), as the webhook does when no Service selects the pods yet. So where a Service does select them,
// the two can differ (docs/cel-policies.md, and the export's header): CEL still judges every container
// with a serving port (the webhook, only those a client Service targets, and none behind metrics-only
// Services), and never a container without ports (the webhook does when the Service targets no
// declared port).

/** CEL bool: the port `p` (a CEL expression) is named as metrics or health only; the twin of nonServingName. */
export function nonServingPortCel(p: string, names: readonly string[]): string {
  // A name with a dash can only match whole (split('-') never yields one); the others also as a part.
  const whole = names.filter((name) => name.includes('-'))
  const parts = names.filter((name) => !name.includes('-'))
  const alternatives = [
    '(^|-)metrics$', // metricsPortName: metrics, *-metrics, whatever the configured names
    ...(whole.length > 0 ? [`^(${whole.map(regexLiteral).join('|')})$`] : []),
    ...(parts.length > 0 ? [`(^|-)(${parts.map(regexLiteral).join('|')})(-|$)`] : []),
  ]
  return `has(${p}.name) && ${p}.name != '' && ${p}.name.matches(${q(alternatives.join('|'))})`
}

/** CEL list: the serving containers of `longRunning` (a CEL list): servingSlots' rule 4, less the ignored names. */
export function servingCel(longRunning: string, ignore: readonly string[], names: readonly string[]): string {
  return `${longRunning}.filter(c, !(c.name in ${qList(ignore)}) && has(c.ports) && c.ports.exists(p, !(${nonServingPortCel('p', names)})))`
}

/** CEL string: why the serving container `c` is serving, as servingSlots says it (`serving: it declares containerPort http`). */
export function servingBecauseCel(c: string, names: readonly string[]): string {
  return `'serving: it declares containerPort ' + ${c}.ports.filter(p, !(${nonServingPortCel('p', names)})).map(p, has(p.name) ? string(p.name) : string(p.containerPort))[0]`
}
