// Which Services carry only scrapes, never client traffic: the one definition "serving" uses
// (docs/decisions/0027). A Service is metrics-only when no Ingress or route in the view sends traffic
// to it and each of its ports is a metrics port, which is (the scrape evidence, past the names, only
// for a Service no Ingress or route sends traffic to: clients beat scrapes):
// - a port named (the Service port, or the container port it targets) `metrics`, `http-metrics` or
//   `*-metrics`;
// - a port a ServiceMonitor that selects the Service scrapes (its endpoint names the Service port, or
//   its targetPort);
// - a port that targets a container port a PodMonitor selecting the pods scrapes;
// - with the Service annotated `prometheus.io/scrape: "true"`: the port `prometheus.io/port` names,
//   or every port when it names none (Prometheus then scrapes each endpoint).
// Pod-template scrape annotations are not evidence about a Service: Prometheus reaches those pods
// without it, so a Service beside them is there for something else (often the same port for clients).
import { selectorSelects } from '../cluster/label-selectors.ts'
import type { ServicePort, ServiceRecord } from '../cluster/service-records.ts'
import { routeBackends } from '../cluster/routes.ts'
import type { ClusterView } from '../cluster/view.ts'
import type { MonitorRecord } from '../cluster/monitors.ts'
import type { ContainerPort } from '../workloads/pod-template.ts'

/** A port name that says metrics: `metrics`, `http-metrics`, `https-metrics`, `*-metrics`. */
export function metricsPortName(name: string | undefined): boolean {
  return name === 'metrics' || (name !== undefined && name.endsWith('-metrics'))
}

/** The pods a Service selects, as "serving" sees them: their labels and every port their containers declare. */
export interface Pods {
  labels: Readonly<Record<string, string>>
  ports: readonly ContainerPort[]
}

/** The declared container port a Service port targets, by name or number. */
export function targetedPort(port: Pick<ServicePort, 'targetPort'>, declared: readonly ContainerPort[]): ContainerPort | undefined {
  return declared.find((d) => (typeof port.targetPort === 'string' ? d.name === port.targetPort : d.containerPort === port.targetPort))
}

/** Whether an Ingress or route of the view sends traffic to the Service: clients, whatever else scrapes it. */
function isBackend(view: ClusterView, service: ServiceRecord): boolean {
  const named = (b: { namespace: string; service: string }) => b.namespace === service.namespace && b.service === service.name
  for (const ingress of view.ingresses(service.namespace)) if (ingress.backends.some(named)) return true
  return view.routesTo(service.namespace).some((route) => routeBackends(route).some(named))
}

/** What "serving" needs to judge the Services of some pods: the monitors and backends of their namespace, read once. */
export interface ScrapeEvidence {
  /** Whether the port of the Service (that selects the pods) carries only scrapes. */
  metricsPort(service: ServiceRecord, port: ServicePort): boolean
  /** Whether the Service (that selects the pods) carries only scrapes: every port a metrics port, and no Ingress or route sends it traffic. */
  metricsOnly(service: ServiceRecord): boolean
}

export function scrapeEvidence(view: ClusterView, namespace: string, pods: Pods): ScrapeEvidence {
  // Read only when a Service selects the pods (most reviews: none, or one).
  let read: { monitors: MonitorRecord[]; podMonitors: MonitorRecord[] } | undefined
  const evidence = () => {
    if (read) return read
    const monitors = view.monitors(namespace)
    return (read = { monitors, podMonitors: monitors.filter((m) => m.kind === 'PodMonitor' && selectorSelects(m.selector, { labels: pods.labels })) })
  }
  const metricsPort = (service: ServiceRecord, port: ServicePort): boolean => {
    const target = targetedPort(port, pods.ports)
    if (metricsPortName(port.name) || (typeof port.targetPort === 'string' && metricsPortName(port.targetPort)) || metricsPortName(target?.name)) return true
    if (isBackend(view, service)) return false
    const { monitors, podMonitors } = evidence()
    const scrapedBy = (ports: readonly (string | number)[]) => (port.name !== undefined && ports.includes(port.name)) || ports.includes(port.targetPort)
    if (monitors.some((m) => m.kind === 'ServiceMonitor' && scrapedBy(m.ports) && selectorSelects(m.selector, { labels: service.labels ?? {} }))) return true
    if (target && podMonitors.some((m) => (target.name !== undefined && m.ports.includes(target.name)) || (target.containerPort !== undefined && m.ports.includes(target.containerPort)))) return true
    const scraped = service.scraped
    return scraped !== undefined && (scraped.port === undefined || scraped.port === port.targetPort || scraped.port === target?.containerPort)
  }
  return {
    metricsPort,
    metricsOnly: (service) => service.ports.length > 0 && service.ports.every((port) => metricsPort(service, port)) && !isBackend(view, service),
  }
}
