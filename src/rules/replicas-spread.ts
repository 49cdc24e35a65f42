// replicas-spread: two or more replicas behind a Service that the scheduler may put on one node. With
// no topologySpreadConstraints on kubernetes.io/hostname or a zone key and no podAntiAffinity on them,
// one node drain or failure takes every replica at once, whatever the PodDisruptionBudget says (a PDB
// bounds evictions, not a node that fails; and the scheduler's default spreading is only a preference:
// maxSkew 3 per node, ScheduleAnyway). Replicas count as in disruption.ts (an HPA's minReplicas).
// Quiet for DaemonSets (one pod per node by design), single replicas, Pods and Jobs. A constraint or
// term on those keys counts, hard or soft, unless its labelSelector's matchLabels contradict the pods'
// labels (another workload's pods). "Behind a Service": a Service selects the pods where hitless sees
// Services (the webhook's cache, the audited files); without cluster state (--cluster off, the exported
// policy), a serving container stands for it, as the pod-spec rules decide it.
import { replicasOf } from '../cluster/records.ts'
import type { KubeObject, RuleFinding } from '../model/types.ts'
import { podTemplateOf, type PodTemplate } from '../workloads/pod-template.ts'
import { findingCel, q, qList } from './cel.ts'
import { scaleOf } from './disruption.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import { namespaceOf } from './referential.ts'
import { defineRule } from './rule.ts'
import { servicesSelectingTemplate, servingSlots } from './serving.ts'

const JUDGED = ['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'Rollout']
export const HOSTNAME_KEY = 'kubernetes.io/hostname'
/** Topology keys that put replicas on different nodes: the node itself, or a zone (hence another node). */
export const SPREAD_KEYS = [HOSTNAME_KEY, 'topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']

type Term = { topologyKey?: unknown; labelSelector?: { matchLabels?: Record<string, unknown> | null } | null }

/** A term on a spreading key whose matchLabels (if any) the pods' labels hold. */
function spreads(term: Term | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!term || typeof term.topologyKey !== 'string' || !SPREAD_KEYS.includes(term.topologyKey)) return false
  const wanted = term.labelSelector?.matchLabels ?? {}
  return Object.entries(wanted).every(([k, v]) => labels[k] === v)
}

function spreadOf(template: PodTemplate): boolean {
  const spec = template.spec as { topologySpreadConstraints?: Term[]; affinity?: { podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: Term[]; preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm?: Term }[] } } }
  const anti = spec.affinity?.podAntiAffinity
  // Any JSON can stand where a list belongs: mutating admission runs before the API server validates.
  const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : [])
  return (
    list(spec.topologySpreadConstraints).some((c) => spreads(c, template.labels)) ||
    list(anti?.requiredDuringSchedulingIgnoredDuringExecution).some((t) => spreads(t, template.labels)) ||
    list(anti?.preferredDuringSchedulingIgnoredDuringExecution).some((w) => spreads(w?.podAffinityTerm, template.labels))
  )
}

/** The label the suggested constraint selects on: the pods' first label key, in code-point order. */
const firstLabel = (labels: Readonly<Record<string, string>>) => Object.keys(labels).sort()[0]

const SPREAD_TEXT = `nothing keeps them on different nodes (no topologySpreadConstraints on ${HOSTNAME_KEY} or a zone, no podAntiAffinity on them): one node drain or failure can take every replica at once`

export const replicasSpread = defineRule({
  id: 'replicas-spread',
  summary: 'Two or more replicas behind a Service are spread over nodes (topologySpreadConstraints or podAntiAffinity).',
  why: 'replicas the scheduler put on one node all go down with it: a drain or node failure empties the Service, whatever the PodDisruptionBudget says',
  fixable: false,
  remedy: `a topologySpreadConstraint on \`${HOSTNAME_KEY}\``,
  defaultAction: 'warn',
  judges: [{ kinds: ['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'Rollout'], operations: ['CREATE', 'UPDATE'] }],
  reads: ['Service', 'HorizontalPodAutoscaler'],
  check({ review, settings, memo }): RuleFinding[] {
    if (!JUDGED.includes(review.kind)) return []
    const template = podTemplateOf(review)
    if (!template || spreadOf(template)) return []
    const namespace = namespaceOf(review, review.object)
    const name = review.object.metadata?.name ?? ''
    const view = settings.cluster && !settings.cluster.unavailable() ? settings.cluster : undefined
    const scale = scaleOf(view, { kind: review.kind, name, namespace, replicas: replicasOf(review.kind, review.object.spec) ?? 1 })!
    if (scale.pods < 2) return []
    let because: string
    if (view) {
      const service = servicesSelectingTemplate(view, review, template, memo)[0]
      if (!service) return []
      because = `serving: Service ${namespace}/${service.name} selects its pods`
    } else {
      const serving = servingSlots(review, template, settings, memo)
      if (serving.length === 0) return []
      because = `serving: ${serving[0]!.why}`
    }
    const label = firstLabel(template.labels)
    const constraint = { maxSkew: 1, topologyKey: HOSTNAME_KEY, whenUnsatisfiable: 'ScheduleAnyway', ...(label ? { labelSelector: { matchLabels: { [label]: template.labels[label] } } } : {}) }
    return [
      {
        message: `${review.kind} ${namespace}/${name} runs ${scale.pods} replicas (${scale.source}) and ${SPREAD_TEXT}`,
        fix: podSpecFixSnippet(template.specPath, { topologySpreadConstraints: [constraint] }),
        because,
      },
    ]
  },
  // The object alone: spec.replicas (an HPA's minReplicas is the webhook's), and a serving container in
  // place of a Service (docs/cel-policies.md).
  cel: {
    findings({ scope }) {
      const root = scope.root
      const spec = scope.define('workloadSpec', `${root} != null && has(${root}.spec) ? ${root}.spec : {}`)
      const replicas = scope.define('replicas', `has(${spec}.replicas) && type(${spec}.replicas) == int && ${spec}.replicas >= 0 ? ${spec}.replicas : 1`)
      const labels = scope.define('templateLabels', `has(${spec}.template) && has(${spec}.template.metadata) && has(${spec}.template.metadata.labels) ? ${spec}.template.metadata.labels : {}`)
      const pod = scope.spec
      const keys = qList(SPREAD_KEYS)
      const term = (t: string) => `has(${t}.topologyKey) && ${t}.topologyKey in ${keys} && (!has(${t}.labelSelector) || !has(${t}.labelSelector.matchLabels) || ${t}.labelSelector.matchLabels.all(k, k in ${labels} && ${labels}[k] == ${t}.labelSelector.matchLabels[k]))`
      const anti = `${pod}.affinity.podAntiAffinity`
      const spread = scope.define(
        'spread',
        `(has(${pod}.topologySpreadConstraints) && ${pod}.topologySpreadConstraints.exists(c, ${term('c')})) || ` +
          `(has(${pod}.affinity) && has(${anti}) && ((has(${anti}.requiredDuringSchedulingIgnoredDuringExecution) && ${anti}.requiredDuringSchedulingIgnoredDuringExecution.exists(t, ${term('t')})) || ` +
          `(has(${anti}.preferredDuringSchedulingIgnoredDuringExecution) && ${anti}.preferredDuringSchedulingIgnoredDuringExecution.exists(w, has(w.podAffinityTerm) && ${term('w.podAffinityTerm')}))))`,
      )
      const labelKeys = `${labels}.map(k, k)`
      const first = scope.define('spreadLabel', `size(${labelKeys}) == 0 ? '' : ${labelKeys}.filter(k, ${labelKeys}.all(o, k <= o))[0]`)
      const selector = `(${first} == '' ? '' : ', labelSelector: { matchLabels: { ' + ${first} + ': ' + string(${labels}[${first}]) + ' } }')`
      const finding = findingCel({
        container: "''",
        message: `request.kind.kind + ' ' + request.namespace + '/' + (has(${root}.metadata.name) ? ${root}.metadata.name : '') + ' runs ' + string(${replicas}) + ' replicas (replicas ' + string(${replicas}) + ') and ' + ${q(SPREAD_TEXT)}`,
        fix: `${scope.specField} + ${q(`.topologySpreadConstraints: { maxSkew: 1, topologyKey: ${HOSTNAME_KEY}, whenUnsatisfiable: ScheduleAnyway`)} + ${selector} + ' }'`,
        because: scope.servingBecause(`${scope.serving}[0]`),
      })
      return `request.kind.kind in ${qList(JUDGED)} && size(${scope.serving}) > 0 && ${replicas} >= 2 && !(${spread}) ? [${finding}] : []`
    },
  },
})
