// The contract every rule module fulfils: its whole truth in one file. What it judges and what it reads
// from the cluster are declared here, and the webhook configurations, RBAC, the cache's watches, the
// config schema and defaults, SARIF metadata and the docs index are derived from those declarations
// (src/contract/derive.ts; `npm run generate` writes the files, a test checks them). A new rule is its
// file, its entry in ./index.ts, its fixtures and its page under docs/rules/.
import type { JSONSchemaType } from 'ajv'
import type { ClusterView } from '../cluster/view.ts'
import type { Action, KubeObject, KubernetesVersion, ReviewInput, RuleFinding } from '../model/types.ts'
import type { KindName } from '../model/kinds.ts'
import type { RuleCel } from './cel.ts'
import type { ReviewMemo } from './review-memo.ts'

export type JudgedOperation = 'CREATE' | 'UPDATE' | 'DELETE'

/** Reviews a rule wants the API server to send: these kinds, on these operations. */
export interface RuleTarget {
  kinds: readonly KindName[]
  operations: readonly JudgedOperation[]
}


/** Settings shared by all rules, resolved from the config and the cluster. */
export interface RuleSettings {
  /** Container names never treated as serving (injected proxies). */
  ignoreContainers: ReadonlySet<string>
  /** Port names that serve metrics or health checks, not clients. */
  nonServingPortNames?: ReadonlySet<string>
  /** The API server's version, when hitless can ask the cluster. */
  clusterVersion?: KubernetesVersion
  /** The rest of the cluster (live, or the audited manifest set); absent with --cluster off. */
  cluster?: ClusterView
  /** Whether hitless talks to a live API server (so a patch must suit its version). */
  liveCluster?: boolean
  /** What referential rules do while the cluster state is unusable. */
  onClusterUnavailable: 'warn' | 'deny'
}

export interface RuleContext<Options> {
  /** The review, with `object` as left by the mutations of earlier rules in this pass. */
  review: ReviewInput & { object: KubeObject }
  /** The object as it arrived, before earlier rules' fixes (to tell what hitless added). */
  original?: KubeObject
  options: Options
  settings: RuleSettings
  /** What rules derive from this review, worked out once and shared (the engine's; absent when check() is called alone). */
  memo?: ReviewMemo
}

export interface Rule<Options = Record<string, never>> {
  id: string
  /** One line: what the rule requires. */
  summary: string
  /** One line: what goes wrong without it; shown with every deny. */
  why: string
  /** Whether check() returns patches, so `mutate` is a meaningful action. */
  fixable: boolean
  /** One line: what the fix is (the rules tables show it). */
  remedy: string
  /** The action when the config says nothing. */
  defaultAction: Exclude<Action, 'off'>
  /** What it judges: the admission webhook rules are derived from these. */
  judges: readonly RuleTarget[]
  /** What it reads from the cluster: the cache's watches and the RBAC grants are derived from these. */
  reads: readonly KindName[]
  /** Its options (not `action`), typed; every property has a default. Omitted: no options. */
  options?: JSONSchemaType<Options>
  check(context: RuleContext<Options>): RuleFinding[]
  /**
   * The rule in CEL, for `hitless export-policies` (ValidatingAdmissionPolicy, and with a patch a
   * MutatingAdmissionPolicy). Omitted: the rule stays webhook-only (it needs cluster state).
   */
  cel?: RuleCel<Options>
}

/** A rule as the registry holds it: its options' type erased (the config is validated against its schema). */
export interface RegisteredRule extends Omit<Rule, 'check' | 'options' | 'cel'> {
  options?: { type: 'object'; properties?: Record<string, unknown>; required?: readonly string[] }
  check(context: RuleContext<Record<string, unknown>>): RuleFinding[]
  cel?: RuleCel<Record<string, unknown>>
}

/**
 * Declares a rule with typed options. The one place the type is erased: the engine hands check() only
 * options that passed the rule's own schema (with its defaults), so they are `Options`.
 */
export function defineRule<Options = Record<string, never>>(rule: Rule<Options>): RegisteredRule {
  return rule as unknown as RegisteredRule
}
