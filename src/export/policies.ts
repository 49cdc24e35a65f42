// `hitless export-policies`: the rules that need no cluster state, as admission policies the API server
// runs itself (CEL): per rule a ValidatingAdmissionPolicy and its bindings, and with --mutating a
// MutatingAdmissionPolicy and its binding for the rules that fix. From the same config as the webhook:
// actions and mode become validationActions, the namespace mode label and hitless.dev/ignore become the
// bindings' namespaceSelectors, the webhook's skips (controllers, deletions, Pod updates) and exemption
// annotations become matchConditions. Decision 0016; what CEL cannot see: docs/cel-policies.md.
// Here: what applies to every policy (versions, the skips, the resources) and the export as a whole;
// the objects are built in validating.ts, mutating.ts, approval.ts and objects.ts (bindings).
import type { Config } from '../config/load.ts'
import { webhookRules } from '../contract/derive.ts'
import { buildPolicy } from '../engine/policy.ts'
import { objectMatchCondition } from '../contract/match-conditions.ts'
import { annotationsCel, exemptedCel, exemptionSetCountsCel, gated, type ExemptionSets } from '../exemptions/cel.ts'
import { APPROVAL_RULE } from '../engine/evaluate.ts'
import type { Action, KubeObject, KubernetesVersion } from '../model/types.ts'
import { RULES } from '../rules/index.ts'
import type { RegisteredRule } from '../rules/rule.ts'
import { approvalPolicies } from './approval.ts'
import { mutatingPolicy } from './mutating.ts'
import { GROUP, validatingBindings } from './objects.ts'
import { validatingPolicy } from './validating.ts'
import { POD_REQUEST_CEL } from '../workloads/pod-template.ts'

export { SKIPPED_NAMESPACES } from './objects.ts'

/** ValidatingAdmissionPolicy is GA (v1) from 1.30. */
export const MIN_VALIDATING_VERSION: KubernetesVersion = { major: 1, minor: 30 }
/** MutatingAdmissionPolicy: v1beta1 (feature gate) from 1.34, v1 from 1.36. */
export const MIN_MUTATING_VERSION: KubernetesVersion = { major: 1, minor: 34 }
const MUTATING_V1: KubernetesVersion = { major: 1, minor: 36 }

export const atLeast = (version: KubernetesVersion, floor: KubernetesVersion) => version.major > floor.major || (version.major === floor.major && version.minor >= floor.minor)

export interface ExportOptions {
  kubernetesVersion: KubernetesVersion
  /** Also MutatingAdmissionPolicies for the rules whose action is mutate. */
  mutating: boolean
}

export type RuleExport =
  | { rule: string; as: 'exported'; action: Exclude<Action, 'off'>; policies: string[]; mutating: boolean }
  | { rule: typeof APPROVAL_RULE; as: 'approval'; policies: string[] }
  | { rule: string; as: 'off' }
  | { rule: string; as: 'webhook-only'; action: Action }

export interface ExportResult {
  documents: KubeObject[]
  rules: RuleExport[]
  /** apiVersion of the MutatingAdmissionPolicies, when there are any. */
  mutatingApiVersion?: string
}

/** The webhook's skips (src/engine/scope.ts) the API server applies before any rule, as matchConditions. */
function skipConditions(config: Config) {
  return [
    // The k8s-1.30 component's condition, with this config's controllers.trusted.
    objectMatchCondition(config.controllers.trusted),
    { name: 'not-being-deleted', expression: '!has(object.metadata.deletionTimestamp)' },
    // A Pod's spec cannot change after CREATE: an UPDATE is never judged (podTemplateOf).
    { name: 'pods-on-create-only', expression: `!(${POD_REQUEST_CEL}) || request.operation == 'CREATE'` },
  ]
}

/** The resources rules judge, as resourceRules (the same derivation as the webhook's rules). */
const resourceRules = (rules: readonly RegisteredRule[]) =>
  webhookRules(rules, 'validating').map(({ apiGroups, apiVersions, operations, resources, scope }) => ({ apiGroups, apiVersions, operations, resources, scope }))

/** The resources a rule judges, as matchConstraints. */
function matchConstraints(rule: RegisteredRule) {
  return { matchPolicy: 'Equivalent', resourceRules: resourceRules([rule]) }
}

/**
 * An object's own exemption of the whole rule skips the policy: a matchCondition (they cannot see the
 * Namespace; its exemptions, and per-container ones, are checked in the validation).
 */
function exemptionCondition(rule: string, config: Config) {
  const object = `(${annotationsCel('object')})`
  const old = `(${annotationsCel('oldObject')})`
  const sets: ExemptionSets = { object, namespace: '{}', objectCounts: `(${exemptionSetCountsCel(object, 'object', old, config.exemptions)})`, namespaceCounts: 'false' }
  const exempted = exemptedCel(rule, undefined, sets, config.exemptions)
  return exempted === 'false' ? [] : [{ name: 'not-exempted', expression: `!(${exempted})` }]
}

export function exportPolicies(config: Config, options: ExportOptions): ExportResult {
  const policy = buildPolicy(config, { clusterVersion: options.kubernetesVersion })
  const active = new Map(policy.rules.map((entry) => [entry.rule.id, entry]))
  const inputs = { config, rules: active, kubernetesVersion: options.kubernetesVersion }
  const mutatingApiVersion = atLeast(options.kubernetesVersion, MUTATING_V1) ? `${GROUP}/v1` : `${GROUP}/v1beta1`
  const documents: KubeObject[] = []
  const rules: RuleExport[] = []
  for (const rule of RULES) {
    const entry = active.get(rule.id)
    if (!rule.cel) {
      rules.push({ rule: rule.id, as: 'webhook-only', action: entry?.action ?? 'off' })
      continue
    }
    if (!entry) {
      rules.push({ rule: rule.id, as: 'off' })
      continue
    }
    const matching = { matchConstraints: matchConstraints(rule), matchConditions: [...skipConditions(config), ...exemptionCondition(rule.id, config)] }
    const made = [validatingPolicy(entry, inputs, matching), ...validatingBindings(entry, config)]
    const mutating = options.mutating && entry.action === 'mutate' && rule.cel.patch !== undefined
    if (mutating) made.push(...mutatingPolicy(entry, inputs, matching, mutatingApiVersion))
    documents.push(...made)
    rules.push({ rule: rule.id, as: 'exported', action: entry.action, policies: made.map((d) => `${d.kind} ${d.metadata!.name}`), mutating })
  }
  const exported = RULES.filter((rule) => rule.cel && active.has(rule.id))
  if (gated(config.exemptions) && exported.length > 0) {
    const made = approvalPolicies(config, resourceRules(exported), skipConditions(config).filter((c) => c.name !== 'pods-on-create-only'))
    documents.push(...made)
    rules.push({ rule: APPROVAL_RULE, as: 'approval', policies: made.map((d) => `${d.kind} ${d.metadata!.name}`) })
  }
  return { documents, rules, ...(options.mutating ? { mutatingApiVersion } : {}) }
}
