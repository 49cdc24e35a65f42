// rollout-capacity: a serving Deployment whose rolling update may take every ready replica away at
// once, so the Service has no endpoints mid-rollout (seed 001: rolling updates are the main source of
// 503s). maxSurge and maxUnavailable are resolved exactly as the Deployment controller resolves them
// (deploymentutil.ResolveFenceposts): surge scaled rounding up, unavailable rounding down, both zero
// means unavailable 1, and at most all replicas; replicas are the HPA's minReplicas when an HPA scales
// the Deployment (the fewest it may run when a rollout starts). It is flagged when replicas −
// unavailable is 0. `strategy: Recreate` always stops every pod first: a warning when a Service sends
// traffic to the pods (it may be on purpose, e.g. a ReadWriteOnce volume). A StatefulSet never surges:
// flagged when its rollingUpdate.maxUnavailable (MaxUnavailableStatefulSet feature) resolves to all of
// two or more replicas.
import { servicesSelecting } from '../cluster/view.ts'
import { replicasOf as workloadReplicas } from '../cluster/records.ts'
import type { ReviewInput, RuleFinding } from '../model/types.ts'
import { podTemplateOf } from '../workloads/pod-template.ts'
import { cond, findingCel, q } from './cel.ts'
import { scaled, scaledCel, scaleOf, show } from './disruption.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import { namespaceOf } from './referential.ts'
import { defineRule, type RuleSettings } from './rule.ts'
import { servingSlots } from './serving.ts'

interface Strategy {
  type?: string
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } | null
}

const DEFAULT = '25%'

/** The replicas a rollout starts from: the HPA's floor when one scales it, else spec.replicas (1 unset). */
function replicasOf(review: ReviewInput, settings: RuleSettings, namespace: string): { replicas: number; source: string } {
  const view = settings.cluster && !settings.cluster.unavailable() ? settings.cluster : undefined
  const record = { kind: review.kind, name: review.object?.metadata?.name ?? '', namespace, replicas: workloadReplicas(review.kind, review.object?.spec) ?? 1 }
  const { pods, source } = scaleOf(view, record)!
  return { replicas: pods, source }
}

function judgeDeployment(review: ReviewInput, settings: RuleSettings, namespace: string, labels: Record<string, string>): RuleFinding[] {
  const strategy = (review.object?.spec?.['strategy'] ?? {}) as Strategy
  const { replicas, source } = replicasOf(review, settings, namespace)
  if (replicas === 0) return []
  const name = `Deployment ${namespace}/${review.object?.metadata?.name ?? ''}`
  if (strategy.type === 'Recreate') {
    const view = settings.cluster && !settings.cluster.unavailable() ? settings.cluster : undefined
    const service = view ? servicesSelecting(view, namespace, labels)[0] : undefined
    if (!service) return []
    return [
      {
        message: `${name} uses strategy Recreate: every pod stops before a new one starts, so Service ${namespace}/${service.name} has no endpoints during each rollout`,
        fix: podSpecFixSnippet(['spec', 'strategy'], { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }) + '   # if the pods can run side by side',
        atMostWarn: true,
      },
    ]
  }
  if (strategy.type !== undefined && strategy.type !== 'RollingUpdate') return []
  const maxSurge = strategy.rollingUpdate?.maxSurge ?? DEFAULT
  const maxUnavailable = strategy.rollingUpdate?.maxUnavailable ?? DEFAULT
  const surge = scaled(maxSurge, replicas, true)
  let unavailable = scaled(maxUnavailable, replicas, false)
  if (surge === undefined || unavailable === undefined) return [] // invalid: the API server refuses it
  const both = surge === 0 && unavailable === 0
  if (both) unavailable = 1
  if (replicas - Math.min(unavailable, replicas) > 0) return []
  const resolved = `maxSurge ${show(maxSurge)} → ${surge}, maxUnavailable ${show(maxUnavailable)} → ${both ? '0, and with both 0 the controller uses 1' : unavailable}`
  return [
    {
      message: `${name}'s rolling update can take every ready replica away at once: ${source}, ${resolved}, so 0 of ${replicas} stay available while the new pods start`,
      fix: podSpecFixSnippet(['spec', 'strategy', 'rollingUpdate'], { maxSurge: 1, maxUnavailable: 0 }) + (replicas === 1 ? '   # a new pod starts and is ready before the old one stops' : ''),
    },
  ]
}

function judgeStatefulSet(review: ReviewInput, settings: RuleSettings, namespace: string): RuleFinding[] {
  const spec = review.object?.spec ?? {}
  const strategy = (spec['updateStrategy'] ?? {}) as Strategy
  const maxUnavailable = strategy.rollingUpdate?.maxUnavailable
  if ((strategy.type !== undefined && strategy.type !== 'RollingUpdate') || maxUnavailable === undefined) return []
  const { replicas, source } = replicasOf(review, settings, namespace)
  if (replicas < 2) return [] // one replica is down during any StatefulSet update; no setting helps
  // The API documents it: "Absolute number is calculated from percentage by rounding up"; at least 1.
  const resolved = scaled(maxUnavailable, replicas, true)
  if (resolved === undefined || Math.max(resolved, 1) < replicas) return []
  const policy = (spec['podManagementPolicy'] as string | undefined) ?? 'OrderedReady'
  return [
    {
      message: `StatefulSet ${namespace}/${review.object?.metadata?.name ?? ''}'s rolling update can take every replica away at once: ${source}, maxUnavailable ${show(maxUnavailable)} → ${resolved} (podManagementPolicy ${policy}), so none stay available`,
      fix: podSpecFixSnippet(['spec', 'updateStrategy', 'rollingUpdate'], { maxUnavailable: 1 }),
    },
  ]
}

export const rolloutCapacity = defineRule({
  id: 'rollout-capacity',
  summary: 'A rolling update keeps at least one ready replica of a serving Deployment or StatefulSet.',
  why: 'a rollout that stops every ready pod before new ones are ready leaves the Service without endpoints: 503s until they start',
  fixable: false,
  remedy: 'maxSurge: 1 and maxUnavailable: 0',
  defaultAction: 'deny',
  judges: [{ kinds: ['Deployment', 'StatefulSet'], operations: ['CREATE', 'UPDATE'] }],
  reads: ['HorizontalPodAutoscaler', 'Service'],
  check({ review, settings, memo }) {
    if (review.group !== 'apps' || (review.kind !== 'Deployment' && review.kind !== 'StatefulSet')) return []
    const template = podTemplateOf(review)
    if (!template) return []
    const serving = servingSlots(review, template, settings, memo)
    if (serving.length === 0) return []
    const namespace = namespaceOf(review, review.object)
    const findings = review.kind === 'Deployment' ? judgeDeployment(review, settings, namespace, template.labels) : judgeStatefulSet(review, settings, namespace)
    return findings.map((finding) => ({ ...finding, because: `serving: ${serving[0]!.why}` }))
  },
  // The object alone: spec.replicas even where an HPA scales the Deployment (CEL cannot see its
  // minReplicas), and nothing for strategy Recreate, whose warning needs a Service. Both stay with the
  // webhook (docs/cel-policies.md).
  cel: {
    findings({ scope }) {
      const root = scope.root
      const spec = scope.define('workloadSpec', cond(`${root} != null && has(${root}.spec)`, `${root}.spec`, '{}'))
      const replicas = scope.define('replicas', cond(`has(${spec}.replicas) && type(${spec}.replicas) == int && ${spec}.replicas >= 0`, `${spec}.replicas`, '1'))
      const name = `'/' + ${cond(`has(${root}.metadata.name)`, `${root}.metadata.name`, "''")}`
      const because = scope.servingBecause(`${scope.serving}[0]`)
      // A Deployment: maxSurge and maxUnavailable resolved as judgeDeployment resolves them.
      const strategy = scope.define('strategy', cond(`has(${spec}.strategy)`, `${spec}.strategy`, '{}'))
      const rolling = `has(${strategy}.rollingUpdate)`
      const maxSurge = scope.define('maxSurge', cond(`${rolling} && has(${strategy}.rollingUpdate.maxSurge)`, `${strategy}.rollingUpdate.maxSurge`, q(DEFAULT)))
      const maxUnavailable = scope.define('maxUnavailable', cond(`${rolling} && has(${strategy}.rollingUpdate.maxUnavailable)`, `${strategy}.rollingUpdate.maxUnavailable`, q(DEFAULT)))
      const surge = scope.define('surge', scaledCel(maxSurge, replicas, true))
      const unavailable = scope.define('unavailable', scaledCel(maxUnavailable, replicas, false))
      const both = `(${surge} == 0 && ${unavailable} == 0)`
      const deployment = findingCel({
        container: "''",
        message:
          `'Deployment ' + request.namespace + ${name} + ${q("'s rolling update can take every ready replica away at once: replicas ")} + string(${replicas}) + ` +
          `', maxSurge ' + string(${maxSurge}) + ' → ' + string(${surge}) + ', maxUnavailable ' + string(${maxUnavailable}) + ' → ' + ` +
          `${cond(both, "'0, and with both 0 the controller uses 1'", `string(${unavailable})`)} + ', so 0 of ' + string(${replicas}) + ' stay available while the new pods start'`,
        fix: q('spec.strategy.rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }'),
        because,
      })
      const deploymentFires =
        `(!has(${strategy}.type) || ${strategy}.type == 'RollingUpdate') && ${replicas} > 0 && ${surge} >= 0 && ${unavailable} >= 0 && ` +
        `${cond(both, '1', unavailable)} >= ${replicas}`
      // A StatefulSet: rollingUpdate.maxUnavailable rounding up, at least 1, of two or more replicas.
      const update = scope.define('updateStrategy', cond(`has(${spec}.updateStrategy)`, `${spec}.updateStrategy`, '{}'))
      const statefulMax = `${update}.rollingUpdate.maxUnavailable`
      const resolved = scope.define('statefulUnavailable', cond(`has(${update}.rollingUpdate) && has(${statefulMax})`, scaledCel(statefulMax, replicas, true), '-1'))
      const statefulSet = findingCel({
        container: "''",
        message:
          `'StatefulSet ' + request.namespace + ${name} + ${q("'s rolling update can take every replica away at once: replicas ")} + string(${replicas}) + ` +
          `', maxUnavailable ' + string(${statefulMax}) + ' → ' + string(${resolved}) + ' (podManagementPolicy ' + ` +
          `${cond(`has(${spec}.podManagementPolicy)`, `${spec}.podManagementPolicy`, "'OrderedReady'")} + '), so none stay available'`,
        fix: q('spec.updateStrategy.rollingUpdate.maxUnavailable: 1'),
        because,
      })
      const statefulSetFires = `(!has(${update}.type) || ${update}.type == 'RollingUpdate') && ${replicas} >= 2 && ${resolved} >= ${replicas}`
      const ofDeployment = cond(deploymentFires, `[${deployment}]`, '[]')
      const ofStatefulSet = cond(`request.kind.kind == 'StatefulSet' && ${statefulSetFires}`, `[${statefulSet}]`, '[]')
      return cond(`request.kind.group != 'apps' || size(${scope.serving}) == 0`, '[]', cond("request.kind.kind == 'Deployment'", ofDeployment, ofStatefulSet))
    },
  },
})
