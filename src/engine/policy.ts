// Binds a validated Config to the rule registry: which rules run, with which action and options.
import { randomBytes } from 'node:crypto'
import { ConfigError, type Config } from '../config/load.ts'
import { RULES } from '../rules/index.ts'
import type { RegisteredRule, RuleSettings } from '../rules/rule.ts'
import type { ExemptionPolicy } from '../exemptions/resolve.ts'
import type { Mode } from './mode.ts'
import type { TrustedController } from './controllers.ts'
import type { Action } from '../model/types.ts'

export interface ActiveRule {
  rule: RegisteredRule
  action: Exclude<Action, 'off'>
  options: Record<string, unknown>
}

export interface Policy {
  mode: Mode
  /** On UPDATE, report deny findings the old object already had as warnings. */
  allowExistingViolations: boolean
  /** Enabled rules in evaluation order. */
  rules: ActiveRule[]
  settings: RuleSettings
  exemptions: ExemptionPolicy
  /** Who, besides Kubernetes' own controllers, creates objects for their owners (custom resources). */
  controllers: { trusted: TrustedController[] }
  /** The key approval records are signed with (--approval-key; without one, this process's own). */
  approvalKey: Uint8Array
  /** Every rule id hitless knows, enabled or not (exemptions may name any of them). */
  knownRules: ReadonlySet<string>
}

export function buildPolicy(config: Config, cluster: Pick<RuleSettings, 'clusterVersion' | 'cluster' | 'liveCluster'> = {}, approvalKey: Uint8Array = randomBytes(32)): Policy {
  const rules: ActiveRule[] = []
  for (const rule of RULES) {
    const { action, ...options } = config.rules[rule.id] ?? { action: 'off' }
    if (action === 'mutate' && !rule.fixable) {
      throw new ConfigError(`$.rules.${rule.id}.action: ${rule.id} cannot fix objects; use deny, warn or off`)
    }
    if (action !== 'off') rules.push({ rule, action, options })
  }
  const knownRules = new Set(RULES.map((rule) => rule.id))
  const unknown = config.exemptions.forbiddenRules.filter((id) => !knownRules.has(id))
  if (unknown.length > 0) throw new ConfigError(`$.exemptions.forbiddenRules: unknown rule ${unknown.map((id) => `"${id}"`).join(', ')}`)
  return {
    mode: config.mode,
    allowExistingViolations: config.allowExistingViolations,
    rules,
    settings: { ignoreContainers: new Set(config.servingContainers.ignore), nonServingPortNames: new Set(config.servingContainers.nonServingPortNames), onClusterUnavailable: config.onClusterUnavailable, ...cluster },
    exemptions: config.exemptions,
    controllers: config.controllers,
    approvalKey,
    knownRules,
  }
}
