// service-target-port: a Service port whose named targetPort no selected container declares has no
// endpoints for that port (seed 004 §2: port/targetPort mismatch → 502/503). A numeric targetPort that
// no selected container declares, while they declare others, is a warning: containerPort is
// informational, the app may still listen there.
import { servicesSelecting, type ClusterView } from '../cluster/view.ts'
import type { ServiceRecord } from '../cluster/service-records.ts'
import type { WorkloadRecord } from '../cluster/records.ts'
import type { RuleFinding } from '../model/types.ts'
import { describeWorkloads, referentialCheck } from './referential.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { defineRule } from './rule.ts'

const portLabel = (port: ServiceRecord['ports'][number]) => (port.name ? `"${port.name}" (${port.port})` : String(port.port))
const declares = (record: WorkloadRecord, target: string | number) =>
  record.ports.some((p) => (typeof target === 'string' ? p.name === target : p.port === target))

/** The container side: declare the named port (with its number when known; never a made-up one). */
function containerFix(target: string, number?: number): string {
  return `# in the pod template of each selected workload:\nports:\n- name: ${target}\n  containerPort: ${number ?? '<the port the app listens on>'}`
}

/**
 * The fix for a named targetPort the pods do not declare. When they declare the Service's own port
 * number (under another name, or none), the Service is what is wrong: point targetPort at that port.
 */
function namedFix(service: ServiceRecord, port: ServiceRecord['ports'][number], target: string, missing: WorkloadRecord[]): string {
  const candidate = missing.flatMap((record) => record.ports).find((p) => p.port === port.port)
  if (!candidate) return containerFix(target)
  return `spec:\n  ports:\n  - ${port.name ? `name: ${port.name}\n    ` : ''}port: ${port.port}\n    targetPort: ${candidate.name ?? candidate.port}   # the port the pods declare (or declare "${target}" in the pod template)`
}

function judgeService(view: ClusterView, service: ServiceRecord): RuleFinding[] {
  const selected = view.workloadsMatching(service.namespace, service.selector)
  if (selected.length === 0) return [] // service-selector reports that
  const findings: RuleFinding[] = []
  for (const port of service.ports) {
    const target = port.targetPort
    if (typeof target === 'string') {
      const missing = selected.filter((record) => !declares(record, target))
      if (missing.length > 0) {
        findings.push({
          message: `Service ${service.namespace}/${service.name} port ${portLabel(port)} targets port "${target}", which ${describeWorkloads(missing)} do${missing.length === 1 ? 'es' : ''} not declare`,
          fix: namedFix(service, port, target, missing),
        })
      }
      continue
    }
    const declaring = selected.filter((record) => record.ports.length > 0)
    const serving = declaring.filter((record) => declares(record, target))
    const others = declaring.filter((record) => !declares(record, target))
    if (serving.length > 0 && others.length > 0) {
      // One selected workload declares it and another declares other ports (a v1/v2 canary): the
      // other's pods most likely refuse the traffic the Service sends them.
      findings.push({
        message: `Service ${service.namespace}/${service.name} port ${portLabel(port)} targets ${target}, which ${describeWorkloads(serving)} declare${serving.length === 1 ? 's' : ''} but ${describeWorkloads(others)} do${others.length === 1 ? 'es' : ''} not (${[...new Set(others.flatMap((r) => r.ports.map((p) => p.port)))].join(', ')})`,
        fix: `# in the pod template of ${describeWorkloads(others)}:\nports:\n- containerPort: ${target}`,
        atMostWarn: true,
      })
      continue
    }
    if (declaring.length > 0 && declaring.every((record) => !declares(record, target))) {
      const declared = [...new Set(declaring.flatMap((r) => r.ports.map((p) => p.port)))].join(', ')
      findings.push({
        message: `Service ${service.namespace}/${service.name} port ${portLabel(port)} targets ${target}, but the selected pods declare ${declared}`,
        fix: `spec:\n  ports:\n  - port: ${port.port}\n    targetPort: ${declaring[0]!.ports[0]!.name ?? declaring[0]!.ports[0]!.port}   # or declare containerPort ${target}`,
        atMostWarn: true,
      })
    }
  }
  return findings
}

function judgePortRemoval(view: ClusterView, current: WorkloadRecord, old: WorkloadRecord): RuleFinding[] {
  return servicesSelecting(view, current.namespace, current.labels).flatMap((service) =>
    service.ports
      .filter((port) => typeof port.targetPort === 'string' && declares(old, port.targetPort) && !declares(current, port.targetPort))
      .map((port) => ({
        message: `this change removes port "${port.targetPort}", which Service ${service.namespace}/${service.name} port ${portLabel(port)} targets`,
        fix: containerFix(String(port.targetPort), old.ports.find((p) => p.name === port.targetPort)?.port),
      })),
  )
}

export const serviceTargetPort = defineRule({
  id: 'service-target-port',
  summary: "Every named targetPort of a Service is declared by the containers it selects.",
  why: 'a Service port whose target no selected container declares has no endpoints (502/503)',
  fixable: false,
  remedy: "the Service's `targetPort` when the pods declare its port under another name, else the port to declare",
  defaultAction: 'deny',
  // Services on their own writes, workloads on the UPDATEs that could orphan one.
  judges: [{ kinds: ['Service', ...POD_TEMPLATE_KINDS], operations: ['CREATE', 'UPDATE'] }],
  reads: ['Service', ...POD_TEMPLATE_KINDS],
  check: referentialCheck('service-target-port', {
    service: (view, subject) => judgeService(view, subject.service),
    workload: (view, subject) => judgePortRemoval(view, subject.current, subject.old),
  }),
})
