// The contract every rule module fulfils. The engine knows rules only through this shape, so a new
// rule is one file plus its entry in ./index.ts and its options in rules/schema.json.
import type { ClusterView } from '../cluster/view.ts'
import type { KubeObject, ReviewInput, RuleFinding } from '../engine/types.ts'

export interface KubernetesVersion {
  major: number
  minor: number
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
}

export interface Rule<Options = Record<string, unknown>> {
  id: string
  /** One line: what the rule requires. */
  summary: string
  /** One line: what goes wrong without it; shown with every deny. */
  why: string
  /** Whether check() returns patches, so `mutate` is a meaningful action. */
  fixable: boolean
  check(context: RuleContext<Options>): RuleFinding[]
}
