// The lean records of Services: the selector and ports the selector and traffic-path rules read.
import type { KubeObject } from '../model/types.ts'
import { sortedLabels } from './records.ts'
import { awsServiceAnnotations, type AwsServiceAnnotations } from './load-balancers.ts'

export interface ServicePort {
  name?: string
  port: number
  targetPort: string | number
}

export interface ServiceRecord {
  namespace: string
  name: string
  selector: Readonly<Record<string, string>>
  ports: readonly ServicePort[]
  /** The AWS Load Balancer Controller's annotations, when it has any (load-balancers.ts). */
  aws?: AwsServiceAnnotations
  /** Its own labels, for ServiceMonitor selectors (absent when it has none). */
  labels?: Readonly<Record<string, string>>
  /**
   * Prometheus scrapes it through its endpoints (annotation prometheus.io/scrape: "true"): on the port
   * prometheus.io/port names, or on every port when it names none.
   */
  scraped?: { port?: number }
}

type ServiceSpec = { selector?: Record<string, string>; type?: string; ports?: { name?: string; port?: number; targetPort?: string | number }[] }

/** A Service's ports (its own numbers and names, and what they target). */
export function servicePorts(object: KubeObject): readonly ServicePort[] {
  const spec = (object.spec ?? {}) as ServiceSpec
  return Object.freeze(
    (spec.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port ?? 0,
      targetPort: p.targetPort ?? p.port ?? 0,
    })),
  )
}

/** The record for a Service with a selector; undefined for selector-less and ExternalName Services. */
export function serviceRecord(object: KubeObject): ServiceRecord | undefined {
  const spec = (object.spec ?? {}) as ServiceSpec
  if (spec.type === 'ExternalName' || !spec.selector || Object.keys(spec.selector).length === 0) return undefined
  const labels = object.metadata?.labels
  const annotations = object.metadata?.annotations ?? {}
  const scrapePort = Number(annotations['prometheus.io/port'])
  const aws = awsServiceAnnotations(object)
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    selector: Object.freeze(sortedLabels(spec.selector)),
    ports: servicePorts(object),
    ...(aws ? { aws } : {}),
    ...(labels && Object.keys(labels).length > 0 ? { labels: Object.freeze(sortedLabels(labels)) } : {}),
    ...(annotations['prometheus.io/scrape'] === 'true' ? { scraped: Number.isInteger(scrapePort) && scrapePort > 0 ? { port: scrapePort } : {} } : {}),
  }
}

/** What the traffic-path rules need of any Service, with a selector or not. */
export interface ServiceInfo {
  namespace: string
  name: string
  ports: readonly ServicePort[]
  /** Undefined for a Service without a selector (its endpoints are managed by hand) or ExternalName. */
  selector?: Readonly<Record<string, string>>
  externalName?: boolean
}
