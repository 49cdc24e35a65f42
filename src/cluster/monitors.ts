// Lean records of the Prometheus Operator's ServiceMonitors and PodMonitors (monitoring.coreos.com/v1):
// which Services or pods they scrape, and on which ports. "Serving" reads them to tell a scrape target
// from a Service clients use (src/rules/metrics-only.ts).
import type { KubeObject } from '../model/types.ts'
import type { LabelSelector } from './label-selectors.ts'

export type MonitorKind = 'ServiceMonitor' | 'PodMonitor'

export interface MonitorRecord {
  kind: MonitorKind
  namespace: string
  name: string
  /** Selects Services (ServiceMonitor) or pods (PodMonitor) by their labels. */
  selector: LabelSelector
  /** The namespaces it looks in: any, or these (its own when it names none). */
  namespaces: 'any' | readonly string[]
  /** What its endpoints scrape: port names (a Service's for a ServiceMonitor, a container's for a PodMonitor) or target port numbers. */
  ports: readonly (string | number)[]
}

type Obj = Record<string, unknown>
const obj = (value: unknown): Obj | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined)
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
const portOf = (value: unknown): string | number | undefined => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' && Number.isInteger(value) ? value : undefined)

export function monitorRecord(kind: MonitorKind, object: KubeObject): MonitorRecord {
  const namespace = object.metadata?.namespace ?? ''
  const spec = obj(object.spec) ?? {}
  const scope = obj(spec['namespaceSelector'])
  const names = list(scope?.['matchNames']).filter((n): n is string => typeof n === 'string')
  const endpoints = list(spec[kind === 'ServiceMonitor' ? 'endpoints' : 'podMetricsEndpoints']).map(obj)
  const ports = endpoints.flatMap((e) => [portOf(e?.['port']), portOf(e?.['portNumber']), portOf(e?.['targetPort'])]).filter((p) => p !== undefined)
  return {
    kind,
    namespace,
    name: object.metadata?.name ?? '',
    selector: (obj(spec['selector']) ?? {}) as LabelSelector,
    namespaces: scope?.['any'] === true ? 'any' : names.length > 0 ? names : [namespace],
    ports,
  }
}

/** Whether the monitor looks in `namespace`. */
export const watchesNamespace = (monitor: MonitorRecord, namespace: string): boolean => monitor.namespaces === 'any' || monitor.namespaces.includes(namespace)
