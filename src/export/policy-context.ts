// Where a rule's CEL starts in an exported policy: the annotation and exemption variables, and the
// CelContext the rule's `cel` builds its expressions from (scope, options, the other rules, exemptions).
import type { Config } from '../config/load.ts'
import type { ActiveRule } from '../engine/policy.ts'
import { annotationsCel, exemptedCel, exemptionSetCountsCel, type ExemptionSets } from '../exemptions/cel.ts'
import type { CelContext } from '../rules/cel.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { celScope, Variables } from './scope.ts'

export interface PolicyStart {
  variables: Variables
  context: CelContext<Record<string, unknown>>
  exemptions: ExemptionSets
}

/** The rules of the export by id, the config and the Kubernetes version: what every policy is built from. */
export interface ExportInputs {
  config: Config
  rules: Map<string, ActiveRule>
  kubernetesVersion: KubernetesVersion
}

/** The CelContext of `root` (`object`, or `oldObject` for allowExistingViolations). */
export function buildContext(active: ActiveRule, inputs: ExportInputs, root: 'object' | 'oldObject', variables: Variables, exemptions: ExemptionSets): CelContext<Record<string, unknown>> {
  const { config } = inputs
  const scope = celScope(root, variables, { ignore: config.servingContainers.ignore, nonServingPortNames: config.servingContainers.nonServingPortNames })
  return {
    scope,
    options: active.options,
    kubernetesVersion: inputs.kubernetesVersion,
    rule: (id) => {
      const other = inputs.rules.get(id)
      return other ? { action: other.action, options: other.options } : undefined
    },
    exempted: (id, container) => exemptedCel(id, container, exemptions, config.exemptions),
  }
}

/** A policy's first variables (annotations and whether their exemption sets count) and its context. */
export function startPolicy(active: ActiveRule, inputs: ExportInputs): PolicyStart {
  const { config } = inputs
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
  return { variables, exemptions, context: buildContext(active, inputs, 'object', variables, exemptions) }
}
