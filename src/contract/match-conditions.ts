// The matchConditions of the webhook configurations on Kubernetes >= 1.30 (manifests/components/k8s-1.30,
// written by `npm run generate`; decision 0023): controller-created objects are never sent, and the
// Namespace gate is sent only the writes that touch hitless's own keys. The exported admission
// policies use the same object condition (src/export/policies.ts), so a test can keep them equal.
import { GATE_INJECT_LABEL } from '../cluster/load-balancers.ts'
import { parseConfig } from '../config/load.ts'
import { trustedCreatorCel, type TrustedController } from '../engine/controllers.ts'
import { hitlessKeysChangedCel } from '../exemptions/cel.ts'

export interface MatchCondition {
  name: string
  expression: string
}

/** The object webhooks' condition: not an owned object from a creator hitless trusts (skipReason's twin). */
export const objectMatchCondition = (trusted: readonly TrustedController[]): MatchCondition => ({
  name: 'not-created-by-a-controller',
  expression: `!${trustedCreatorCel(trusted)}`,
})

/**
 * The Namespace labels of other owners that a rule judges on a Namespace UPDATE (decision 0031: they reach
 * hitless only through the gate): lb-readiness-gate, the removal of the AWS Load Balancer Controller's
 * readiness-gate injection label. test/contract/match-conditions.test.ts keeps it in step with the rules.
 */
export const NAMESPACE_LABELS_JUDGED: readonly string[] = [GATE_INJECT_LABEL]

/** The Namespace gate's condition: the write adds, changes or removes a hitless.dev/ label or annotation, or a label in NAMESPACE_LABELS_JUDGED. */
export const namespaceGateCondition = (): MatchCondition => ({ name: 'changes-hitless-keys', expression: hitlessKeysChangedCel(NAMESPACE_LABELS_JUDGED) })

/** The controllers the shipped config trusts: what the static component can carry. */
export const shippedTrustedControllers = (): TrustedController[] => parseConfig('', 'shipped defaults').controllers.trusted

/** A kustomize JSON 6902 patch that adds `conditions` to webhook `index`. */
export function matchConditionsPatch(index: number, conditions: MatchCondition[]): string {
  const lines = ['- op: add', `  path: /webhooks/${index}/matchConditions`, '  value:']
  for (const { name, expression } of conditions) lines.push(`    - name: ${name}`, `      expression: ${JSON.stringify(expression)}`)
  return lines.join('\n') + '\n'
}
