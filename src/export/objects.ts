// What every exported object shares (API group, labels, metadata) and the bindings: per namespace mode,
// a namespaceSelector built as the webhook decides the mode (effectiveMode), and the validationActions
// a rule's action takes there.
import type { Config } from '../config/load.ts'
import type { ActiveRule } from '../engine/policy.ts'
import { MODE_LABEL } from '../engine/mode.ts'
import { IGNORE_LABEL } from '../exemptions/approval.ts'
import type { Action, KubeObject } from '../model/types.ts'

export const GROUP = 'admissionregistration.k8s.io'

/** Namespaces the webhook configurations skip (manifests/base/webhooks.yaml; a test keeps them equal). */
export const SKIPPED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'hitless-system']

const LABELS = { 'app.kubernetes.io/name': 'hitless', 'app.kubernetes.io/component': 'admission-policy', 'app.kubernetes.io/managed-by': 'hitless-export-policies' }
export const metadata = (name: string, rule: string) => ({ name, labels: LABELS, annotations: { 'hitless.dev/rule': rule } })

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
export function modeSelectors(configured: Config['mode']) {
  const other = configured === 'enforce' ? 'audit' : 'enforce'
  return {
    [configured]: namespaceSelector({ operator: 'NotIn', values: [other, 'off'] }),
    [other]: namespaceSelector({ operator: 'In', values: [other] }),
    all: namespaceSelector({ operator: 'NotIn', values: ['off'] }),
  } as Record<'enforce' | 'audit' | 'all', ReturnType<typeof namespaceSelector>>
}

/** validationActions per namespace mode, as decide() treats a finding of the rule's action. */
export function validationActions(action: Exclude<Action, 'off'>, mode: 'enforce' | 'audit'): string[] {
  if (action === 'warn') return ['Warn']
  // mutate: /validate denies what arrives unfixed; audit mode denies nothing and warns what it would do.
  return mode === 'enforce' ? ['Deny'] : ['Warn', 'Audit']
}

/** A ValidatingAdmissionPolicyBinding of `policyName` (its name + `suffix`). */
export const validatingBinding = (policyName: string, rule: string, suffix: string, actions: string[], selector: object): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: metadata(`${policyName}${suffix}`, rule),
  spec: { policyName, validationActions: actions, matchResources: { namespaceSelector: selector } },
})

/** A rule's bindings: one for all namespaces when it warns, else one per namespace mode. */
export function validatingBindings(active: ActiveRule, config: Config): KubeObject[] {
  const name = `hitless-${active.rule.id}`
  const selectors = modeSelectors(config.mode)
  const binding = (suffix: string, actions: string[], selector: object) => validatingBinding(name, active.rule.id, suffix, actions, selector)
  if (active.action === 'warn') return [binding('', ['Warn'], selectors.all)]
  return [binding('', validationActions(active.action, 'enforce'), selectors.enforce), binding('-audit', validationActions(active.action, 'audit'), selectors.audit)]
}
