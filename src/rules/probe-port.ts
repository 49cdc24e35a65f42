// probe-port: the kubelet resolves a probe's named port among the container's own declared ports. A
// readiness, liveness or startup probe on a name the container does not declare can never run: the
// pod is never ready (its Service has no endpoints: 503s), or is restarted for ever. That is denied.
// A numeric probe port is probed as it is, declared or not: over the shared corpus every numeric
// mismatch was a health port left undeclared on purpose (the OpenTelemetry collector's 13133), so
// warning on them would be noise; they are not reported.
import { longRunningContainers } from '../workloads/containers.ts'
import { podTemplateOf, type Container } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { defineRule } from './rule.ts'
import { POD_SPEC_SCOPE } from './serving.ts'
import { cond, findingCel, q } from './cel.ts'

const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const

/** The port a probe targets (httpGet, tcpSocket or grpc), or undefined (exec, or no port). */
function probePort(probe: unknown): string | number | undefined {
  if (typeof probe !== 'object' || probe === null) return undefined
  for (const handler of ['httpGet', 'tcpSocket', 'grpc']) {
    const port = (probe as Record<string, { port?: unknown } | undefined>)[handler]?.port
    if (typeof port === 'string' || typeof port === 'number') return port
  }
  return undefined
}

const declared = (container: Container) => (container.ports ?? []).filter((p) => typeof p === 'object' && p !== null)

export const probePortRule = defineRule({
  id: 'probe-port',
  summary: 'Every probe that names its port names one its container declares.',
  why: 'the kubelet can never run a probe on a port name the container does not declare: the pod never becomes ready, or is restarted for ever',
  fixable: false,
  remedy: 'the port name the container declares (or declare the port)',
  defaultAction: 'deny',
  ...POD_SPEC_SCOPE,
  check({ review }) {
    const template = podTemplateOf(review)
    if (!template) return []
    return longRunningContainers(template).flatMap(({ container, path }) =>
      PROBES.flatMap((probe) => {
        const port = probePort(container[probe as keyof Container])
        if (port === undefined) return []
        const ports = declared(container)
        if (typeof port === 'string') {
          // A numeric string is a number to the kubelet (intstr).
          if (/^\d+$/.test(port) || ports.some((p) => p.name === port)) return []
          const names = ports.map((p) => p.name).filter((name): name is string => Boolean(name))
          return [
            {
              container: container.name,
              message: `container "${container.name}" ${probe} targets port "${port}", which it does not declare${names.length > 0 ? ` (it declares ${names.map((n) => `"${n}"`).join(', ')})` : ''}`,
              fix: containerFixSnippet(path, container.name, names.length > 0 ? { [probe]: { port: names[0] } } : { ports: [{ name: port, containerPort: '<the port the app listens on>' }] }),
            },
          ]
        }
        return []
      }),
    )
  },
  cel: {
    findings({ scope }) {
      const where = `${scope.specField} + '.' + ${scope.listOf('c.name')} + '[' + c.name + ']'`
      const names = cond('has(c.ports)', "c.ports.filter(d, has(d.name) && d.name != '').map(d, d.name)", '[]')
      // Per probe kind, the containers whose probe names a port they do not declare (CEL cannot flatten
      // a list of lists, so the findings come probe kind by probe kind, not container by container).
      return PROBES.map((probe) => {
        const p = `c.${probe}`
        const port = ['httpGet', 'tcpSocket', 'grpc'].reduceRight((rest, handler) => cond(`has(${p}.${handler}) && has(${p}.${handler}.port)`, `${p}.${handler}.port`, rest), 'null')
        const undeclared = `type(${port}) == string && !${port}.matches('^[0-9]+$') && !(has(c.ports) && c.ports.exists(d, has(d.name) && d.name == ${port}))`
        return `${scope.longRunning}.filter(c, has(${p}) && ${undeclared}).map(c, ${findingCel({
          container: 'c.name',
          message: `'container "' + c.name + '" ${probe} targets port "' + ${port} + '", which it does not declare' + ${cond(`size(${names}) > 0`, `' (it declares ' + ${names}.map(n, '"' + n + '"').join(', ') + ')'`, "''")}`,
          fix: `${where} + ${cond(`size(${names}) > 0`, `${q(`.${probe}.port: `)} + ${names}[0]`, `'.ports[' + ${port} + '].containerPort: <the port the app listens on>'`)}`,
        })})`
      }).join(' + ')
    },
  },
})
