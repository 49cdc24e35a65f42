// With exemptions.approvers set, the gate the webhook keeps (approvalRefusal): a request that adds or
// changes the exemption annotations, or on a Namespace the labels that turn hitless down, must come from
// an approver. One policy for the kinds the exported rules judge (bound per namespace mode, like them),
// one for Namespaces and their status and finalize subresources (bound, like the webhook's Namespace
// entry, without the ignore and mode labels: setting those is what it gates).
import type { Config } from '../config/load.ts'
import { APPROVAL_RULE } from '../engine/evaluate.ts'
import { approverCel, grantsChangedCel } from '../exemptions/cel.ts'
import { cond, q } from '../model/cel.ts'
import { namespaceGateRules } from '../model/namespace-gate.ts'
import type { KubeObject } from '../model/types.ts'
import { findingCel } from '../rules/cel.ts'
import { GROUP, metadata, modeSelectors, SKIPPED_NAMESPACES, validatingBinding, validationActions } from './objects.ts'
import { Variables } from './scope.ts'

/** `resources`: the exported rules' resourceRules; `matchConditions`: the skips (not the Pod-only one). */
export function approvalPolicies(config: Config, resources: object[], matchConditions: { name: string; expression: string }[]): KubeObject[] {
  const { users, groups } = config.exemptions.approvers
  const who = [...users.map((u) => `user ${u}`), ...groups.map((g) => `group ${g}`)].join(', ')
  const policy = (name: string, namespace: boolean, resourceRules: object[]): KubeObject => {
    const variables = new Variables()
    const keys = variables.define('grantsChanged', grantsChangedCel(namespace))
    const finding = findingCel({
      container: "''",
      message: `${cond('has(request.userInfo.username)', 'request.userInfo.username', "'this user'")} + ' is not an exemption approver and may not add or change ' + ${keys}.join(', ')${namespace ? ` + ${cond('has(request.subResource)', "' (written through namespaces/' + request.subResource + ')'", "''")}` : ''}`,
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
        matchConditions,
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
  const binding = (name: string, suffix: string, actions: string[], selector: object) => validatingBinding(name, APPROVAL_RULE, suffix, actions, selector)
  const objects = 'hitless-exemption-approval'
  const namespaces = 'hitless-namespace-approval'
  const selectors = modeSelectors(config.mode)
  return [
    policy(objects, false, resources),
    binding(objects, '', validationActions('deny', 'enforce'), selectors.enforce),
    binding(objects, '-audit', validationActions('deny', 'audit'), selectors.audit),
    // Like the webhook's gate: namespaces/status and /finalize keep the labels written through them (decision 0042).
    policy(namespaces, true, namespaceGateRules()),
    binding(namespaces, '', validationActions('deny', config.mode), { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: SKIPPED_NAMESPACES }] }),
  ]
}
