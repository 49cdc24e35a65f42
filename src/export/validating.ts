// A rule's ValidatingAdmissionPolicy: its findings as the variable `violations` (less what exemptions
// and, on UPDATE, allowExistingViolations let through), denied or warned with the webhook's message.
import { EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from '../exemptions/annotations.ts'
import { exemptedCel } from '../exemptions/cel.ts'
import type { ActiveRule } from '../engine/policy.ts'
import { cond, q } from '../model/cel.ts'
import type { KubeObject } from '../model/types.ts'
import { ruleDocsUrl } from '../rules/docs-url.ts'
import { GROUP, metadata } from './objects.ts'
import { buildContext, startPolicy, type ExportInputs } from './policy-context.ts'

/** What exportPolicies puts around every policy of a rule: the resources and the matchConditions. */
export interface Matching {
  matchConstraints: object
  matchConditions: { name: string; expression: string }[]
}

export function validatingPolicy(active: ActiveRule, inputs: ExportInputs, matching: Matching): KubeObject {
  const { rule } = active
  const { config } = inputs
  const { variables, context, exemptions } = startPolicy(active, inputs)
  const findings = variables.define('findings', rule.cel!.findings(context))
  let violations = `${findings}.filter(f, !(${exemptedCel(rule.id, 'f.container', exemptions, config.exemptions)}))`
  if (config.allowExistingViolations && active.action === 'deny') {
    // allowExistingViolations: on UPDATE, what the old object already had (same container) passes.
    const old = buildContext(active, inputs, 'oldObject', variables, exemptions)
    const oldFindings = variables.define('oldFindings', rule.cel!.findings(old))
    violations = cond("request.operation == 'UPDATE'", `${violations}.filter(f, !(f.container in ${oldFindings}.map(o, o.container)))`, violations)
  }
  const checked = variables.define('violations', violations)
  const exception = `To request an exception, annotate the object with ${EXEMPT_ANNOTATION}: ${rule.id}, ${REASON_ANNOTATION} and ${UNTIL_ANNOTATION}.`
  const because = cond("f.because != ''", "' (' + f.because + ')'", "''")
  const messageExpression = `'hitless [${rule.id}]: ' + ${checked}.map(f, f.message + ${because} + '; fix: ' + f.fix).join('; ') + ` + q(`: ${rule.why}. ${exception} Docs: ${ruleDocsUrl(rule.id)}`)
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'ValidatingAdmissionPolicy',
    metadata: metadata(`hitless-${rule.id}`, rule.id),
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: matching.matchConstraints,
      matchConditions: matching.matchConditions,
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
