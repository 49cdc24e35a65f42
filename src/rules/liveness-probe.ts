// liveness-probe: a liveness probe that runs the same check as the readiness probe and gives up no
// later than it does restarts an overloaded pod at the moment it should only be taken out of rotation:
// load turns into restarts, and restarts into 502s. Different checks, or a liveness probe that waits
// longer (failureThreshold × periodSeconds) than the readiness probe, are fine. Only serving containers
// (src/rules/serving.ts): where nothing takes a container out of rotation, there is no rotation to lose.
import { podTemplateOf } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { defineRule } from './rule.ts'
import { POD_SPEC_SCOPE, servingSlots } from './serving.ts'
import { cond, findingCel } from './cel.ts'
import { jsonEqual } from '../model/json-equal.ts'

const HANDLERS = ['httpGet', 'tcpSocket', 'grpc', 'exec'] as const
// The API server's defaults for a probe.
const DEFAULT_PERIOD = 10
const DEFAULT_FAILURES = 3

type Probe = Record<string, unknown>

const handlerOf = (probe: Probe) => Object.fromEntries(HANDLERS.filter((h) => probe[h] !== undefined).map((h) => [h, probe[h]]))
const numberOr = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback)
const timing = (probe: Probe) => {
  const period = numberOr(probe['periodSeconds'], DEFAULT_PERIOD)
  const failures = numberOr(probe['failureThreshold'], DEFAULT_FAILURES)
  return { period, failures, window: period * failures }
}

export const livenessProbe = defineRule({
  id: 'liveness-probe',
  summary: 'A liveness probe does not fail before (or with) a readiness probe that runs the same check.',
  why: 'an overloaded pod is then restarted instead of taken out of rotation, turning load into 502s',
  fixable: false,
  remedy: 'a longer liveness window (failureThreshold × periodSeconds) than the readiness one, or a lighter liveness check',
  defaultAction: 'warn',
  ...POD_SPEC_SCOPE,
  check({ review, settings, memo }) {
    const template = podTemplateOf(review)
    if (!template) return []
    return servingSlots(review, template, settings, memo).flatMap(({ container, path, why }) => {
      const liveness = container.livenessProbe
      const readiness = container.readinessProbe
      if (!liveness || !readiness || typeof liveness !== 'object' || typeof readiness !== 'object') return []
      const handler = handlerOf(liveness)
      if (Object.keys(handler).length === 0 || !jsonEqual(handler, handlerOf(readiness))) return []
      const live = timing(liveness)
      const ready = timing(readiness)
      if (live.window > ready.window) return []
      const failures = Math.floor(ready.window / live.period) * 2 + 1
      return [
        {
          container: container.name,
          message:
            `container "${container.name}" livenessProbe gives up after ${live.window}s (${live.failures} × ${live.period}s), no later than its readinessProbe ` +
            `(${ready.window}s, ${ready.failures} × ${ready.period}s) on the same check: raise livenessProbe.failureThreshold to ${failures} (or its periodSeconds), or probe something lighter`,
          because: `serving: ${why}`,
          fix: containerFixSnippet(path, container.name, { livenessProbe: { failureThreshold: failures } }),
        },
      ]
    })
  },
  cel: {
    findings({ scope }) {
      const [live, ready] = ['c.livenessProbe', 'c.readinessProbe']
      // The same check: the same handlers, equal (CEL's == on maps and lists is deep, like jsonEqual).
      const same = `(${HANDLERS.map((h) => `has(${live}.${h})`).join(' || ')}) && ${HANDLERS.map((h) => `has(${live}.${h}) == has(${ready}.${h}) && (!has(${live}.${h}) || ${live}.${h} == ${ready}.${h})`).join(' && ')}`
      const numberOr = (probe: string, field: string, fallback: number) => cond(`has(${probe}.${field}) && ${probe}.${field} > 0`, `${probe}.${field}`, String(fallback))
      const timing = (probe: string) => {
        const period = numberOr(probe, 'periodSeconds', DEFAULT_PERIOD)
        const failures = numberOr(probe, 'failureThreshold', DEFAULT_FAILURES)
        return { period, failures, window: `(${period} * ${failures})` }
      }
      const l = timing(live)
      const r = timing(ready)
      const text = (t: { period: string; failures: string; window: string }) => `string(${t.window}) + 's, ' + string(${t.failures}) + ' × ' + string(${t.period}) + 's'`
      const failures = `string(${r.window} / ${l.period} * 2 + 1)`
      return `${scope.serving}.filter(c, has(${live}) && has(${ready}) && ${same} && ${l.window} <= ${r.window}).map(c, ${findingCel({
        container: 'c.name',
        message:
          `'container "' + c.name + '" livenessProbe gives up after ' + string(${l.window}) + 's (' + string(${l.failures}) + ' × ' + string(${l.period}) + 's), no later than its readinessProbe (' + ${text(r)} + ') on the same check: raise livenessProbe.failureThreshold to ' + ${failures} + ' (or its periodSeconds), or probe something lighter'`,
        because: scope.servingBecause('c'),
        fix: `${scope.specField} + '.' + ${scope.listOf('c.name')} + '[' + c.name + '].livenessProbe.failureThreshold: ' + ${failures}`,
      })})`
    },
  },
})
