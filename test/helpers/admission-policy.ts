// What the API server does with the admission policies `hitless export-policies` writes, for tests, with
// a JavaScript CEL (@marcbachmann/cel-js) instead of the API server's cel-go: match a request against a
// policy's matchConstraints and a binding's namespaceSelector, evaluate matchConditions, variables (in
// order, each seeing the ones before) and validations, and pick the binding's validationActions. The
// object is decoded the way the API server decodes JSON into its types: whole numbers are int64 (BigInt
// here), nulls are absent. CEL errors are not caught: a policy that errs fails the test.
//
// Not simulated: the JSONPatch and Object types of MutatingAdmissionPolicy expressions (this CEL has no
// typed object construction). The exporter keeps a mutation's expression a fixed wrapper around a
// variable of plain patch records (`variables.patchAdd.map(p, JSONPatch{op: p.op, path: p.path, value:
// p.value})`); mutationPatches() checks that wrapper's text and applies the records as JSON Patch.
import { Environment } from '@marcbachmann/cel-js'
import { KINDS } from '../../src/model/kinds.ts'
import type { KubeObject } from '../../src/model/types.ts'

const env = new Environment({ unlistedVariablesAreDyn: true })
const parsed = new Map<string, (context: Record<string, unknown>) => unknown>()

/** The expression, parsed (a syntax error throws). */
export function parseCel(expression: string): (context: Record<string, unknown>) => unknown {
  let program = parsed.get(expression)
  if (!program) {
    program = env.parse(expression) as unknown as (context: Record<string, unknown>) => unknown
    parsed.set(expression, program)
  }
  return program
}

export function evaluateCel(expression: string, context: Record<string, unknown>): unknown {
  return parseCel(expression)(context)
}

/** JSON as the API server holds it for CEL: integers as int64, nulls dropped. */
export function decoded(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value
  if (Array.isArray(value)) return value.map(decoded)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== null).map(([key, item]) => [key, decoded(item)]))
  }
  return value
}

/** CEL results back to JSON: BigInt to number, Maps to objects. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value instanceof Map) return Object.fromEntries([...value].map(([key, item]) => [key, plain(item)]))
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]))
  return value
}

export interface Request {
  operation: 'CREATE' | 'UPDATE'
  object: KubeObject
  oldObject?: KubeObject | null
  /** The Namespace of the object (its labels pick the binding; its annotations can exempt). */
  namespace?: KubeObject
  userInfo: { username: string; groups?: string[] }
  /** A write through a subresource (namespaces/status): resourceRules must name `resource/subResource`. */
  subResource?: string
}

export const groupOf = (apiVersion = 'v1') => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '')

export function resourceOf(object: KubeObject): string {
  const known = Object.entries(KINDS).find(([kind, info]) => kind === object.kind && info.group === groupOf(object.apiVersion))
  return known ? known[1].resource : `${(object.kind ?? '').toLowerCase()}s`
}

interface Rule {
  apiGroups: string[]
  apiVersions: string[]
  operations: string[]
  resources: string[]
}

/** matchConstraints.resourceRules: the request's group, resource and operation (matchPolicy Equivalent: any version). */
export function matchesResources(policy: KubeObject, request: Request): boolean {
  const rules = (policy.spec as { matchConstraints: { resourceRules: Rule[] } }).matchConstraints.resourceRules
  const group = groupOf(request.object.apiVersion)
  const resource = resourceOf(request.object) + (request.subResource ? `/${request.subResource}` : '')
  return rules.some((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource) && rule.operations.includes(request.operation))
}

export interface Selector {
  matchLabels?: Record<string, string>
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[]
}

/** A LabelSelector over labels (metav1 semantics: NotIn and DoesNotExist match an absent label). */
export function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels
    if (operator === 'In' && !(has && values.includes(labels[key]!))) return false
    if (operator === 'NotIn' && has && values.includes(labels[key]!)) return false
    if (operator === 'Exists' && !has) return false
    if (operator === 'DoesNotExist' && has) return false
  }
  return true
}

function namespaceLabels(request: Request): Record<string, string> {
  const name = request.object.metadata?.namespace ?? 'default'
  return { 'kubernetes.io/metadata.name': name, ...(request.namespace?.metadata?.labels ?? {}) }
}

/** The bindings of `policyName` whose namespaceSelector selects the request's namespace. */
export function bindingsFor(documents: KubeObject[], kind: string, policyName: string, request: Request): KubeObject[] {
  return documents.filter((d) => {
    const spec = d.spec as { policyName?: string; matchResources?: { namespaceSelector?: Selector } }
    return d.kind === kind && spec.policyName === policyName && selects(spec.matchResources?.namespaceSelector, namespaceLabels(request))
  })
}

// Objects are shared between requests and never changed: decoded once each.
const decodedObjects = new WeakMap<object, unknown>()
function decodedObject(object: KubeObject): unknown {
  let value = decodedObjects.get(object)
  if (value === undefined) decodedObjects.set(object, (value = decoded(object)))
  return value
}

function celContext(request: Request, variables: Record<string, unknown>): Record<string, unknown> {
  const object = request.object
  return {
    object: decodedObject(object),
    oldObject: request.oldObject ? decodedObject(request.oldObject) : null,
    namespaceObject: decoded(request.namespace ?? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: object.metadata?.namespace ?? 'default' } }),
    request: decoded({
      operation: request.operation,
      kind: { group: groupOf(object.apiVersion), version: (object.apiVersion ?? 'v1').split('/').pop(), kind: object.kind },
      resource: { group: groupOf(object.apiVersion), resource: resourceOf(object) },
      name: object.metadata?.name ?? '',
      namespace: object.metadata?.namespace ?? 'default',
      userInfo: request.userInfo,
      ...(request.subResource ? { subResource: request.subResource } : {}),
    }),
    variables,
  }
}

export interface PolicyRun {
  /** Why the policy did not apply: resources, or the matchCondition that was false. */
  skipped?: string
  variables: Record<string, unknown>
  /** The messages of the validations that failed (ValidatingAdmissionPolicy). */
  failures: string[]
}

/** Runs one policy (either kind) over a request: matchConstraints, matchConditions, variables, validations. */
export function runPolicy(policy: KubeObject, request: Request): PolicyRun {
  if (!matchesResources(policy, request)) return { skipped: 'resources', variables: {}, failures: [] }
  const spec = policy.spec as {
    matchConditions?: { name: string; expression: string }[]
    variables?: { name: string; expression: string }[]
    validations?: { expression: string; messageExpression?: string; message?: string }[]
  }
  const variables: Record<string, unknown> = {}
  const context = celContext(request, variables)
  for (const condition of spec.matchConditions ?? []) {
    // matchConditions see neither variables nor namespaceObject.
    const value = evaluateCel(condition.expression, { ...context, variables: undefined, namespaceObject: null })
    if (value !== true) return { skipped: condition.name, variables, failures: [] }
  }
  for (const variable of spec.variables ?? []) variables[variable.name] = evaluateCel(variable.expression, context)
  const failures: string[] = []
  for (const validation of spec.validations ?? []) {
    if (evaluateCel(validation.expression, context) === true) continue
    failures.push(validation.messageExpression ? String(evaluateCel(validation.messageExpression, context)) : (validation.message ?? ''))
  }
  return { variables, failures }
}

/** The wrappers the exporter puts around its patch variables (see the header). */
export const MUTATION_WRAPPERS: Record<string, string> = {
  patchAdd: 'variables.patchAdd.map(p, JSONPatch{op: p.op, path: p.path, value: p.value})',
  patchRemove: 'variables.patchRemove.map(p, JSONPatch{op: p.op, path: p.path})',
}

/** The JSON Patch a MutatingAdmissionPolicy's mutations make, in order, from its variables (see the header). */
export function mutationPatches(policy: KubeObject, run: PolicyRun): { op: string; path: string; value?: unknown }[] {
  const mutations = (policy.spec as { mutations: { patchType: string; jsonPatch: { expression: string } }[] }).mutations
  return mutations.flatMap(({ patchType, jsonPatch }) => {
    if (patchType !== 'JSONPatch') throw new Error(`unexpected patchType ${patchType}`)
    const variable = Object.keys(MUTATION_WRAPPERS).find((name) => MUTATION_WRAPPERS[name] === jsonPatch.expression)
    if (!variable) throw new Error(`a mutation expression that is not a known wrapper: ${jsonPatch.expression}`)
    return plain(run.variables[variable]) as { op: string; path: string; value?: unknown }[]
  })
}
