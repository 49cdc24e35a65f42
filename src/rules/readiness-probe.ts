// readiness-probe: a serving container without a readinessProbe is put behind its Service the moment
// its process starts, before it can answer: 503s on every rollout and scale-up (seed 001 §2.1).
// Never fixed by mutation: only the application knows what "ready" means.
import { podTemplateOf } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { POD_SPEC_SCOPE, servingSlots } from './serving.ts'
import { defineRule } from './rule.ts'
import { cond, findingCel } from './cel.ts'

export const readinessProbe = defineRule({
  id: 'readiness-probe',
  summary: 'Every serving container has a readinessProbe.',
  why: 'without one, pods receive traffic before they can serve it (503s during rollouts)',
  fixable: false,
  remedy: 'never invented: only the app knows when it is ready',
  defaultAction: 'deny',
  ...POD_SPEC_SCOPE,
  check({ review, settings, memo }) {
    const template = podTemplateOf(review)
    if (!template) return []
    return servingSlots(review, template, settings, memo)
      .filter(({ container }) => container.readinessProbe === undefined || container.readinessProbe === null)
      .map(({ container, path, why }) => {
        const firstPort = container.ports?.find((p) => p.containerPort !== undefined) ?? container.ports?.[0]
        const port = firstPort?.name ?? firstPort?.containerPort ?? 8080
        return {
          container: container.name,
          message: `container "${container.name}" has no readinessProbe`,
          because: `serving: ${why}`,
          fix: containerFixSnippet(path, container.name, {
            readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 5, failureThreshold: 3 },
          }),
        }
      })
  },
  cel: {
    findings({ scope }) {
      // The probe's port as check() picks it: the first port with a number (its name if it has one).
      const label = cond('has(p.name)', 'string(p.name)', cond('has(p.containerPort)', 'string(p.containerPort)', "'8080'"))
      const port = cond('c.ports.exists(p, has(p.containerPort))', `c.ports.filter(p, has(p.containerPort)).map(p, ${label})[0]`, `c.ports.map(p, ${label})[0]`)
      return `${scope.serving}.filter(c, !has(c.readinessProbe)).map(c, ${findingCel({
        container: 'c.name',
        message: `'container "' + c.name + '" has no readinessProbe'`,
        because: scope.servingBecause('c'),
        fix: `${scope.specField} + '.' + ${scope.listOf('c.name')} + '[' + c.name + '].readinessProbe: { httpGet: { path: /ready, port: ' + ${port} + ' }, periodSeconds: 5, failureThreshold: 3 }'`,
      })})`
    },
  },
})
