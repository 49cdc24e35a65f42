// `hitless export-policies`: the rules that need no cluster state, as admission policies the API server
// runs itself (CEL): per rule a ValidatingAdmissionPolicy and its bindings, and with --mutating a
// MutatingAdmissionPolicy and its binding for the rules that fix. From the same config as the webhook:
// actions and mode become validationActions, the namespace mode label and hitless.dev/ignore become the
// bindings' namespaceSelectors, the webhook's skips (controllers, deletions, Pod updates) and exemption
// annotations become matchConditions. Decision 0016; what CEL cannot see: docs/cel-policies.md.
import type { Config } from '../config/load.ts'
import { webhookRules } from '../contract/derive.ts'
import { MODE_LABEL } from '../engine/mode.ts'
import { buildPolicy, type ActiveRule } from '../engine/policy.ts'
import { CONTROLLER_USER_PREFIXES, CONTROLLER_USERS } from '../engine/scope.ts'
import { EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from '../exemptions/annotations.ts'
import { IGNORE_LABEL } from '../exemptions/approval.ts'
import { annotationsCel, approverCel, exemptedCel, exemptionSetCountsCel, gated, grantsChangedCel, type ExemptionSets } from '../exemptions/cel.ts'
import { APPROVAL_RULE } from '../engine/evaluate.ts'
import { cond, q } from '../model/cel.ts'
import { findingCel } from '../rules/cel.ts'
import type { Action, KubeObject, KubernetesVersion } from '../model/types.ts'
import type { CelContext } from '../rules/cel.ts'
import { ruleDocsUrl } from '../rules/docs-url.ts'
import { RULES } from '../rules/index.ts'
import type { RegisteredRule } from '../rules/rule.ts'
import { celScope, Variables } from './scope.ts'
import { POD_REQUEST_CEL } from '../workloads/pod-template.ts'

/** Namespaces the webhook configurations skip (manifests/base/webhooks.yaml; a test keeps them equal). */
export const SKIPPED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'hitless-system']

const GROUP = 'admissionregistration.k8s.io'
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

const LABELS = { 'app.kubernetes.io/name': 'hitless', 'app.kubernetes.io/component': 'admission-policy', 'app.kubernetes.io/managed-by': 'hitless-export-policies' }
const metadata = (name: string, rule: string) => ({ name, labels: LABELS, annotations: { 'hitless.dev/rule': rule } })

/** A binding's namespaceSelector: the webhook's (system namespaces, hitless.dev/ignore) and the mode label. */
function namespaceSelector(mode: { operator: 'In' | 'NotIn'; values: string[] }) {
  return {
    matchExpressions: [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: SKIPPED_NAMESPACES },
      { key: IGNORE_LABEL, operator: 'DoesNotExist' },
      { key: MODE_LABEL, ...mode },
    ],
  }
}

/**
 * The namespaces each mode applies in, as the webhook decides it (effectiveMode): the label when it is
 * enforce, audit or off, else the configured mode.
 */
function modeSelectors(configured: Config['mode']) {
  const other = configured === 'enforce' ? 'audit' : 'enforce'
  return {
    [configured]: namespaceSelector({ operator: 'NotIn', values: [other, 'off'] }),
    [other]: namespaceSelector({ operator: 'In', values: [other] }),
    all: namespaceSelector({ operator: 'NotIn', values: ['off'] }),
  } as Record<'enforce' | 'audit' | 'all', ReturnType<typeof namespaceSelector>>
}

/** The webhook's skips (src/engine/scope.ts) the API server applies before any rule, as matchConditions. */
function skipConditions() {
  const controller = [
    ...CONTROLLER_USER_PREFIXES.map((prefix) => `request.userInfo.username.startsWith(${q(prefix)})`),
    ...CONTROLLER_USERS.map((user) => `request.userInfo.username == ${q(user)}`),
  ].join(' || ')
  return [
    {
      name: 'not-created-by-a-controller',
      expression: `!(has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller) && has(request.userInfo.username) && (${controller}))`,
    },
    { name: 'not-being-deleted', expression: '!has(object.metadata.deletionTimestamp)' },
    // A Pod's spec cannot change after CREATE: an UPDATE is never judged (podTemplateOf).
    { name: 'pods-on-create-only', expression: `!(${POD_REQUEST_CEL}) || request.operation == 'CREATE'` },
  ]
}

/** The resources a rule judges, as matchConstraints (the same derivation as the webhook's rules). */
function matchConstraints(rule: RegisteredRule) {
  return {
    matchPolicy: 'Equivalent',
    resourceRules: webhookRules([rule], 'validating').map(({ apiGroups, apiVersions, operations, resources, scope }) => ({ apiGroups, apiVersions, operations, resources, scope })),
  }
}

interface Built {
  variables: Variables
  context: CelContext<Record<string, unknown>>
  exemptions: ExemptionSets
}

function buildContext(active: ActiveRule, config: Config, allRules: Map<string, ActiveRule>, options: ExportOptions, root: 'object' | 'oldObject', variables: Variables, exemptions: ExemptionSets): CelContext<Record<string, unknown>> {
  const scope = celScope(root, variables, { ignore: config.servingContainers.ignore, nonServingPortNames: config.servingContainers.nonServingPortNames })
  return {
    scope,
    options: active.options,
    kubernetesVersion: options.kubernetesVersion,
    rule: (id) => {
      const other = allRules.get(id)
      return other ? { action: other.action, options: other.options } : undefined
    },
    exempted: (id, container) => exemptedCel(id, container, exemptions, config.exemptions),
  }
}

function startPolicy(active: ActiveRule, config: Config, allRules: Map<string, ActiveRule>, options: ExportOptions): Built {
  const variables = new Variables()
  const object = variables.define('objectAnnotations', annotationsCel('object'))
  const old = variables.define('oldObjectAnnotations', annotationsCel('oldObject'))
  const namespace = variables.define('namespaceAnnotations', annotationsCel('namespaceObject'))
  const exemptions: ExemptionSets = {
    object,
    namespace,
    objectCounts: variables.define('objectExemptionCounts', exemptionSetCountsCel(object, 'object', old, config.exemptions)),
    namespaceCounts: variables.define('namespaceExemptionCounts', exemptionSetCountsCel(namespace, 'namespace', old, config.exemptions)),
  }
  return { variables, exemptions, context: buildContext(active, config, allRules, options, 'object', variables, exemptions) }
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

function validatingPolicy(active: ActiveRule, config: Config, allRules: Map<string, ActiveRule>, options: ExportOptions): KubeObject {
  const { rule } = active
  const { variables, context, exemptions } = startPolicy(active, config, allRules, options)
  const findings = variables.define('findings', rule.cel!.findings(context))
  let violations = `${findings}.filter(f, !(${exemptedCel(rule.id, 'f.container', exemptions, config.exemptions)}))`
  if (config.allowExistingViolations && active.action === 'deny') {
    // allowExistingViolations: on UPDATE, what the old object already had (same container) passes.
    const old = buildContext(active, config, allRules, options, 'oldObject', variables, exemptions)
    const oldFindings = variables.define('oldFindings', rule.cel!.findings(old))
    violations = cond("request.operation == 'UPDATE'", `${violations}.filter(f, !(f.container in ${oldFindings}.map(o, o.container)))`, violations)
  }
  const checked = variables.define('violations', violations)
  const exception = `To request an exception, annotate the object with ${EXEMPT_ANNOTATION}: ${rule.id}, ${REASON_ANNOTATION} and ${UNTIL_ANNOTATION}.`
  const messageExpression =
    `'hitless [${rule.id}]: ' + ${checked}.map(f, f.message + ${cond("f.because != ''", "' (' + f.because + ')'", "''")} + '; fix: ' + f.fix).join('; ') + ` +
    q(`: ${rule.why}. ${exception} Docs: ${ruleDocsUrl(rule.id)}`)
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'ValidatingAdmissionPolicy',
    metadata: metadata(`hitless-${rule.id}`, rule.id),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: matchConstraints(rule),
      matchConditions: [...skipConditions(), ...exemptionCondition(rule.id, config)],
      variables: variables.list,
      validations: [
        {
          expression: `size(${checked}) == 0`,
          messageExpression,
          message: `hitless [${rule.id}]: ${rule.summary} ${exception} Docs: ${ruleDocsUrl(rule.id)}`,
        },
      ],
    },
  }
}

/** validationActions per namespace mode, as decide() treats a finding of the rule's action. */
function validationActions(action: Exclude<Action, 'off'>, mode: 'enforce' | 'audit'): string[] {
  if (action === 'warn') return ['Warn']
  // mutate: /validate denies what arrives unfixed; audit mode denies nothing and warns what it would do.
  return mode === 'enforce' ? ['Deny'] : ['Warn', 'Audit']
}

function validatingBindings(active: ActiveRule, config: Config): KubeObject[] {
  const name = `hitless-${active.rule.id}`
  const selectors = modeSelectors(config.mode)
  const binding = (suffix: string, actions: string[], selector: object): KubeObject => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: metadata(`${name}${suffix}`, active.rule.id),
    spec: { policyName: name, validationActions: actions, matchResources: { namespaceSelector: selector } },
  })
  if (active.action === 'warn') return [binding('', ['Warn'], selectors.all)]
  return [binding('', validationActions(active.action, 'enforce'), selectors.enforce), binding('-audit', validationActions(active.action, 'audit'), selectors.audit)]
}

function mutatingPolicy(active: ActiveRule, config: Config, allRules: Map<string, ActiveRule>, options: ExportOptions, apiVersion: string): KubeObject[] {
  const { rule } = active
  const { variables, context } = startPolicy(active, config, allRules, options)
  const patch = rule.cel!.patch!(context)
  const mutations = []
  if (patch.add) {
    const add = variables.define('patchAdd', patch.add)
    mutations.push({ patchType: 'JSONPatch', jsonPatch: { expression: `${add}.map(p, JSONPatch{op: p.op, path: p.path, value: p.value})` } })
  }
  if (patch.remove) {
    const remove = variables.define('patchRemove', patch.remove)
    mutations.push({ patchType: 'JSONPatch', jsonPatch: { expression: `${remove}.map(p, JSONPatch{op: p.op, path: p.path})` } })
  }
  const name = `hitless-${rule.id}`
  return [
    {
      apiVersion,
      kind: 'MutatingAdmissionPolicy',
      metadata: metadata(name, rule.id),
      spec: {
        // What is left unfixed is denied by the ValidatingAdmissionPolicy behind it, with its message.
        failurePolicy: 'Ignore',
        // Like the webhook's reinvocationPolicy: containers another mutation adds later get theirs too.
        reinvocationPolicy: 'IfNeeded',
        matchConstraints: matchConstraints(rule),
        matchConditions: [...skipConditions(), ...exemptionCondition(rule.id, config)],
        variables: variables.list,
        mutations,
      },
    },
    {
      apiVersion,
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: metadata(name, rule.id),
      // Audit mode patches nothing.
      spec: { policyName: name, matchResources: { namespaceSelector: modeSelectors(config.mode).enforce } },
    },
  ]
}

export function exportPolicies(config: Config, options: ExportOptions): ExportResult {
  const policy = buildPolicy(config, { clusterVersion: options.kubernetesVersion })
  const active = new Map(policy.rules.map((entry) => [entry.rule.id, entry]))
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
    const made = [validatingPolicy(entry, config, active, options), ...validatingBindings(entry, config)]
    const mutating = options.mutating && entry.action === 'mutate' && rule.cel.patch !== undefined
    if (mutating) made.push(...mutatingPolicy(entry, config, active, options, mutatingApiVersion))
    documents.push(...made)
    rules.push({ rule: rule.id, as: 'exported', action: entry.action, policies: made.map((d) => `${d.kind} ${d.metadata!.name}`), mutating })
  }
  const exported = RULES.filter((rule) => rule.cel && active.has(rule.id))
  if (gated(config.exemptions) && exported.length > 0) {
    const made = approvalPolicies(config, exported)
    documents.push(...made)
    rules.push({ rule: APPROVAL_RULE, as: 'approval', policies: made.map((d) => `${d.kind} ${d.metadata!.name}`) })
  }
  return { documents, rules, ...(options.mutating ? { mutatingApiVersion } : {}) }
}

/**
 * With exemptions.approvers set, the gate the webhook keeps (approvalRefusal): a request that adds or
 * changes the exemption annotations, or on a Namespace the labels that turn hitless down, must come from
 * an approver. One policy for the kinds the exported rules judge (bound per namespace mode, like them),
 * one for Namespaces (bound, like the webhook's Namespace entry, without the ignore and mode labels:
 * setting those is what it gates).
 */
function approvalPolicies(config: Config, exported: readonly RegisteredRule[]): KubeObject[] {
  const { users, groups } = config.exemptions.approvers
  const who = [...users.map((u) => `user ${u}`), ...groups.map((g) => `group ${g}`)].join(', ')
  const policy = (name: string, namespace: boolean, resourceRules: object[]): KubeObject => {
    const variables = new Variables()
    const keys = variables.define('grantsChanged', grantsChangedCel(namespace))
    const finding = findingCel({
      container: "''",
      message: `${cond('has(request.userInfo.username)', 'request.userInfo.username', "'this user'")} + ' is not an exemption approver and may not add or change ' + ${keys}.join(', ')`,
      fix: `'# leave ' + ${keys}.join(', ') + ${q(` as they are (removing them is always allowed), or ask an approver (${who}) to apply the change`)}`,
    })
    const violations = variables.define('violations', cond(`size(${keys}) == 0 || ${approverCel(config.exemptions)}`, '[]', `[${finding}]`))
    return {
      apiVersion: `${GROUP}/v1`,
      kind: 'ValidatingAdmissionPolicy',
      metadata: metadata(name, APPROVAL_RULE),
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { matchPolicy: 'Equivalent', resourceRules },
        matchConditions: skipConditions().filter((c) => c.name !== 'pods-on-create-only'),
        variables: variables.list,
        validations: [
          {
            expression: `size(${violations}) == 0`,
            messageExpression: `'hitless [${APPROVAL_RULE}]: ' + ${violations}.map(f, f.message + '; fix: ' + f.fix).join('; ')`,
            message: `hitless [${APPROVAL_RULE}]: only exemption approvers (${who}) may add or change ${namespace ? 'the exemption annotations, hitless.dev/ignore and hitless.dev/mode' : 'the exemption annotations'}`,
          },
        ],
      },
    }
  }
  const binding = (name: string, suffix: string, actions: string[], selector: object): KubeObject => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: metadata(`${name}${suffix}`, APPROVAL_RULE),
    spec: { policyName: name, validationActions: actions, matchResources: { namespaceSelector: selector } },
  })
  const objects = 'hitless-exemption-approval'
  const namespaces = 'hitless-namespace-approval'
  const selectors = modeSelectors(config.mode)
  const resources = webhookRules(exported, 'validating').map(({ apiGroups, apiVersions, operations, resources, scope }) => ({ apiGroups, apiVersions, operations, resources, scope }))
  return [
    policy(objects, false, resources),
    binding(objects, '', validationActions('deny', 'enforce'), selectors.enforce),
    binding(objects, '-audit', validationActions('deny', 'audit'), selectors.audit),
    policy(namespaces, true, [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces'], scope: 'Cluster' }]),
    binding(namespaces, '', validationActions('deny', config.mode), { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: SKIPPED_NAMESPACES }] }),
  ]
}
