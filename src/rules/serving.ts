// Which containers the pod-spec rules treat as serving, and why (the why goes into every finding).
// Exactly:
// 1. A Service that selects the pods (live, or in the audited files) makes serving each container
//    whose declared port one of its ports targets (by name, or by number). If it targets no declared
//    port (ports are informational; many manifests omit them), every regular container may be the one.
// 2. No Service selects the pods, in an audited set that holds Services of that namespace (so it shows
//    how traffic reaches the namespace): nothing routes to these pods, nothing is serving.
// 3. Otherwise (no Service knowledge, or a live cluster where the Service may come next): a container
//    that declares a port is serving, unless every port it declares is named as metrics or health only
//    (servingContainers.nonServingPortNames).
// Always left out: init containers that are not native sidecars, and servingContainers.ignore.
import { servicesSelecting } from '../cluster/view.ts'
import type { ServiceRecord } from '../cluster/service-records.ts'
import type { KubeObject, ReviewInput } from '../model/types.ts'
import { longRunningContainers, type ContainerSlot } from '../workloads/containers.ts'
import type { ContainerPort, PodTemplate } from '../workloads/pod-template.ts'
import { namespaceOf } from './referential.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import type { RegisteredRule, RuleSettings } from './rule.ts'
import { q, qList, regexLiteral } from './cel.ts'

/** What the pod-spec rules judge and read: pod templates on every write, and the Services that decide what serves. */
export const POD_SPEC_SCOPE: Pick<RegisteredRule, 'judges' | 'reads'> = {
  judges: [{ kinds: POD_TEMPLATE_KINDS, operations: ['CREATE', 'UPDATE'] }],
  reads: ['Service'],
}

export interface ServingSlot extends ContainerSlot {
  /** Why the container was judged serving, for the finding: `Service shop/web targets its port http`. */
  why: string
}

const targets = (port: ContainerPort, target: string | number) => (typeof target === 'string' ? port.name === target : port.containerPort === target)

/** Whether a port name marks metrics or health only: `metrics`, `http-metrics`, `healthz-port`. */
export function nonServingName(name: string | undefined, names: ReadonlySet<string>): boolean {
  if (!name) return false
  return names.has(name) || name.split('-').some((part) => names.has(part))
}

function servicesOf(review: ReviewInput & { object: KubeObject }, template: PodTemplate, settings: RuleSettings): { selecting: ServiceRecord[]; knowsNamespace: boolean } | undefined {
  const view = settings.cluster
  if (!view || view.unavailable()) return undefined
  const namespace = namespaceOf(review, review.object)
  const selecting = servicesSelecting(view, namespace, template.labels)
  // An audited set that holds Services of the namespace shows how traffic reaches it; a live cluster
  // may simply not have the Service yet (Helm, kubectl apply -f dir/ create it next).
  const offline = view.podMakersUnknown !== undefined && review.audit === true
  const knowsNamespace = offline && [...view.services(namespace)].length > 0
  return { selecting, knowsNamespace }
}

export function servingSlots(review: ReviewInput & { object: KubeObject }, template: PodTemplate, settings: RuleSettings): ServingSlot[] {
  const candidates = longRunningContainers(template).filter(({ container }) => !settings.ignoreContainers.has(container.name))
  const services = servicesOf(review, template, settings)
  if (services && services.selecting.length > 0) {
    const targeted = candidates.flatMap((slot) => {
      for (const service of services.selecting) {
        const port = service.ports.find((p) => (slot.container.ports ?? []).some((declared) => targets(declared, p.targetPort)))
        if (port) return [{ ...slot, why: `Service ${service.namespace}/${service.name} targets its port ${port.targetPort}` }]
      }
      return []
    })
    if (targeted.length > 0) return targeted
    const service = services.selecting[0]!
    return candidates.filter(({ sidecar }) => !sidecar).map((slot) => ({ ...slot, why: `Service ${service.namespace}/${service.name} selects its pods` }))
  }
  if (services?.knowsNamespace) return []
  const names = settings.nonServingPortNames ?? new Set<string>()
  return candidates.flatMap((slot) => {
    const port = (slot.container.ports ?? []).find((p) => !nonServingName(p.name, names))
    return port ? [{ ...slot, why: `it declares containerPort ${port.name ?? port.containerPort}` }] : []
  })
}

// CEL twins (hitless export-policies). An admission policy sees the object alone, never a Service: CEL
// judges by rule 3 only, as the webhook does when no Service selects the pods yet. So where a Service
// does select them, the two can differ (docs/cel-policies.md): CEL still judges every container with a
// serving port (the webhook, only those the Service targets), and never a container without ports (the
// webhook does when the Service targets no declared port).

/** CEL bool: the port `p` (a CEL expression) is named as metrics or health only; the twin of nonServingName. */
export function nonServingPortCel(p: string, names: readonly string[]): string {
  // A name with a dash can only match whole (split('-') never yields one); the others also as a part.
  const whole = names.filter((name) => name.includes('-'))
  const parts = names.filter((name) => !name.includes('-'))
  const alternatives = [
    ...(whole.length > 0 ? [`^(${whole.map(regexLiteral).join('|')})$`] : []),
    ...(parts.length > 0 ? [`(^|-)(${parts.map(regexLiteral).join('|')})(-|$)`] : []),
  ]
  if (alternatives.length === 0) return 'false'
  return `has(${p}.name) && ${p}.name != '' && ${p}.name.matches(${q(alternatives.join('|'))})`
}

/** CEL list: the serving containers of `longRunning` (a CEL list): servingSlots' rule 3, less the ignored names. */
export function servingCel(longRunning: string, ignore: readonly string[], names: readonly string[]): string {
  return `${longRunning}.filter(c, !(c.name in ${qList(ignore)}) && has(c.ports) && c.ports.exists(p, !(${nonServingPortCel('p', names)})))`
}

/** CEL string: why the serving container `c` is serving, as servingSlots says it (`serving: it declares containerPort http`). */
export function servingBecauseCel(c: string, names: readonly string[]): string {
  return `'serving: it declares containerPort ' + ${c}.ports.filter(p, !(${nonServingPortCel('p', names)})).map(p, has(p.name) ? string(p.name) : string(p.containerPort))[0]`
}
