// A fixing rule's MutatingAdmissionPolicy and its binding: the rule's patch as JSON Patch, each
// mutation a fixed wrapper around a variable of plain patch records (the tests check the wrapper's text).
import type { ActiveRule } from '../engine/policy.ts'
import type { KubeObject } from '../model/types.ts'
import { metadata, modeSelectors } from './objects.ts'
import { startPolicy, type ExportInputs } from './policy-context.ts'
import type { Matching } from './validating.ts'

export function mutatingPolicy(active: ActiveRule, inputs: ExportInputs, matching: Matching, apiVersion: string): KubeObject[] {
  const { rule } = active
  const { variables, context } = startPolicy(active, inputs)
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
        matchConstraints: matching.matchConstraints,
        matchConditions: matching.matchConditions,
        variables: variables.list,
        mutations,
      },
    },
    {
      apiVersion,
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: metadata(name, rule.id),
      // Audit mode patches nothing.
      spec: { policyName: name, matchResources: { namespaceSelector: modeSelectors(inputs.config.mode).enforce } },
    },
  ]
}
