// The pod-spec rules written in CEL, for the API server's own admission policies (`hitless
// export-policies`: ValidatingAdmissionPolicy, MutatingAdmissionPolicy). A rule opts in with a `cel`
// property beside its check(); what every rule needs (the pod spec, long-running and serving containers,
// exemptions) is built here from the CEL twins of the TypeScript that the webhook runs, each written next
// to its twin. test/export/parity-*.test.ts (and the Go checker, test/export-go) evaluate the CEL over every fixture and holds it to the
// webhook's findings.
//
// Written for Kubernetes' CEL (cel-go with its base libraries) and checked with a JavaScript CEL library,
// so the expressions keep to what both have: the standard macros and functions, matches(), and the
// string functions split, join, trim, substring, indexOf. No list sum/min/max, no regex find, no
// two-variable comprehensions, no cel.bind. Map literals are homogeneous (Kubernetes compiles with
// HomogeneousAggregateLiterals): finding records hold only strings, patch records only dyn values.
import type { Action, KubernetesVersion } from '../model/types.ts'

export { celValue, cond, q, qList, regexLiteral } from '../model/cel.ts'

/** A finding record: CEL for {container, message, fix, because}, all strings ('' where there is none). */
export function findingCel(fields: { container: string; message: string; fix: string; because?: string }): string {
  return `{'container': string(${fields.container}), 'message': ${fields.message}, 'fix': ${fields.fix}, 'because': ${fields.because ?? "''"}}`
}

/** A patch record: CEL for {op, path, value} with dyn values (the mutation wraps each as a JSONPatch). */
export function patchCel(op: string, path: string, value?: string): string {
  return value === undefined ? `{'op': dyn(${op}), 'path': dyn(${path})}` : `{'op': dyn(${op}), 'path': dyn(${path}), 'value': dyn(${value})}`
}

/**
 * What a rule's CEL refers to for one object: `object` (the one under review), or `oldObject` (for
 * allowExistingViolations). Each field is a CEL expression, mostly `variables.<name>`.
 */
export interface CelScope {
  /** 'object' or 'oldObject'. */
  root: 'object' | 'oldObject'
  /** The pod spec ({} when the object has none). */
  spec: string
  /** CEL string: the JSON pointer to the pod spec, '/spec' or '/spec/template/spec'. */
  specPointer: string
  /** CEL string: the pod spec's path as fixes name it, 'spec' or 'spec.template.spec'. */
  specField: string
  /** Regular containers, native sidecars, both (in that order: longRunningContainers), serving ones. */
  containers: string
  sidecars: string
  longRunning: string
  serving: string
  /** CEL string: 'containers' or 'initContainers', the list of the long-running container named `name` (a CEL string). */
  listOf(name: string): string
  /** CEL string: the JSON pointer to the container named `name` (/spec/template/spec/containers/2). */
  pointerOf(name: string): string
  /** CEL string: why container `c` (a serving one) is serving: 'serving: it declares containerPort http'. */
  servingBecause(c: string): string
  /** Adds a variable for this scope (its name made unique per scope); returns `variables.<name>`. */
  define(name: string, expression: string): string
}

export interface CelContext<Options> {
  scope: CelScope
  options: Options
  /** The API server version the policies are for. */
  kubernetesVersion: KubernetesVersion
  /** How the config runs another rule, for rules that build on one (termination-grace-period on pre-stop). */
  rule(id: string): { action: Action; options: Record<string, unknown> } | undefined
  /** CEL bool: an exemption the API server can honour covers rule `id` for container `container` (a CEL string). */
  exempted(id: string, container: string): string
}

/** The rule's fix as JSON Patch records: adds (and replaces) with a value, removes without one. */
export interface CelPatch {
  add?: string
  remove?: string
}

/** How a rule is written in CEL. Only what needs no cluster state can be: referential rules have none. */
export interface RuleCel<Options> {
  /**
   * The rule's findings over `context.scope`, as a CEL list of finding records (findingCel): the same
   * containers, messages and fixes (in the one-line form `hitless audit` prints) as check() reports
   * when it has no cluster state to read.
   */
  findings(context: CelContext<Options>): string
  /** For fixable rules: the patch /mutate would apply, as CEL lists of patch records (patchCel). */
  patch?(context: CelContext<Options>): CelPatch
}
