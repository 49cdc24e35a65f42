// Required node affinity as kube-scheduler reads it (k8s.io/component-helpers/scheduling/corev1/nodeaffinity):
// node selector terms compiled once per pod spec into tests on a node's labels and name.
import type { NodeRecord } from './node-record.ts'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

export interface Requirement {
  key?: unknown
  operator?: unknown
  values?: unknown
}

/** strconv.ParseInt(s, 10, 64), or undefined. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined
  const value = BigInt(text)
  return value >= -(1n << 63n) && value < 1n << 63n ? value : undefined
}

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined)

/**
 * A label requirement as a test, or a string saying why it is invalid (the scheduler then drops the
 * whole term: it matches no node). labels.NewRequirement's value counts: In/NotIn need values,
 * Exists/DoesNotExist none, Gt/Lt exactly one integer.
 */
function labelTest(requirement: Requirement): ((labels: Readonly<Record<string, string>>) => boolean) | string {
  const key = requirement.key
  const values = requirement.values === undefined || requirement.values === null ? [] : strings(requirement.values)
  if (typeof key !== 'string' || values === undefined) return 'malformed requirement'
  switch (requirement.operator) {
    case 'In':
    case 'NotIn': {
      if (values.length === 0) return `${requirement.operator} needs values`
      const set = new Set(values)
      const has = (labels: Readonly<Record<string, string>>) => Object.hasOwn(labels, key) && set.has(labels[key]!)
      return requirement.operator === 'In' ? has : (labels) => !has(labels)
    }
    case 'Exists':
    case 'DoesNotExist': {
      if (values.length !== 0) return `${requirement.operator} takes no values`
      return requirement.operator === 'Exists' ? (labels) => Object.hasOwn(labels, key) : (labels) => !Object.hasOwn(labels, key)
    }
    case 'Gt':
    case 'Lt': {
      const bound = values.length === 1 ? parseInt64(values[0]!) : undefined
      if (bound === undefined) return `${requirement.operator} needs one integer value`
      const gt = requirement.operator === 'Gt'
      return (labels) => {
        const own = Object.hasOwn(labels, key) ? parseInt64(labels[key]!) : undefined
        return own !== undefined && (gt ? own > bound : own < bound)
      }
    }
    default:
      return `unknown operator ${JSON.stringify(requirement.operator)}`
  }
}

/** A matchFields requirement: only In/NotIn with one value; the one field a node has is metadata.name. */
function fieldTest(requirement: Requirement): ((name: string) => boolean) | string {
  const values = strings(requirement.values)
  if (typeof requirement.key !== 'string') return 'malformed requirement'
  if (requirement.operator !== 'In' && requirement.operator !== 'NotIn') return `matchFields supports In and NotIn, not ${JSON.stringify(requirement.operator)}`
  if (values?.length !== 1) return `${requirement.operator} on a field needs exactly one value`
  const field = requirement.key
  const wanted = values[0]!
  const value = (name: string) => (field === 'metadata.name' ? name : '')
  return requirement.operator === 'In' ? (name) => value(name) === wanted : (name) => value(name) !== wanted
}

export function describe(requirement: Requirement): string {
  const values = strings(requirement.values)
  return `${String(requirement.key)} ${String(requirement.operator)}${values && values.length > 0 ? ` [${values.join(', ')}]` : ''}`
}

export function nodeHas(labels: Readonly<Record<string, string>>, key: unknown): string {
  return typeof key === 'string' && Object.hasOwn(labels, key) ? `node has ${key}=${labels[key]}` : `node has no label ${String(key)}`
}

export interface CompiledTerm {
  /** Why the term matches no node at all, when it is invalid or empty. */
  invalid?: string
  labels: { requirement: Requirement; test: (labels: Readonly<Record<string, string>>) => boolean }[]
  fields: { requirement: Requirement; test: (name: string) => boolean }[]
}

export function compileTerm(term: unknown): CompiledTerm {
  const compiled: CompiledTerm = { labels: [], fields: [] }
  const expressions = isRecord(term) && Array.isArray(term['matchExpressions']) ? term['matchExpressions'] : []
  const fields = isRecord(term) && Array.isArray(term['matchFields']) ? term['matchFields'] : []
  if (expressions.length === 0 && fields.length === 0) return { ...compiled, invalid: 'an empty term matches no node' }
  for (const requirement of expressions) {
    const test = isRecord(requirement) ? labelTest(requirement) : 'malformed requirement'
    if (typeof test === 'string') return { ...compiled, invalid: `${describe(isRecord(requirement) ? requirement : {})}: ${test}` }
    compiled.labels.push({ requirement: requirement as Requirement, test })
  }
  for (const requirement of fields) {
    const test = isRecord(requirement) ? fieldTest(requirement) : 'malformed requirement'
    if (typeof test === 'string') return { ...compiled, invalid: `${describe(isRecord(requirement) ? requirement : {})}: ${test}` }
    compiled.fields.push({ requirement: requirement as Requirement, test })
  }
  return compiled
}

export function termMatches(term: CompiledTerm, node: NodeRecord): boolean {
  if (term.invalid) return false
  for (const { test } of term.labels) if (!test(node.labels)) return false
  for (const { test } of term.fields) if (!test(node.name)) return false
  return true
}

/** Why the term does not match the node, or undefined when it does. */
export function termMismatch(term: CompiledTerm, node: NodeRecord): string | undefined {
  if (term.invalid) return term.invalid
  for (const { requirement, test } of term.labels) if (!test(node.labels)) return `${describe(requirement)} (${nodeHas(node.labels, requirement.key)})`
  for (const { requirement, test } of term.fields) if (!test(node.name)) return `${describe(requirement)} (node is ${node.name})`
  return undefined
}
