// Everything that follows from the rules' declarations, as data: the admission webhook rules, the
// cluster cache's watches and the RBAC that allows them, the config schema's rules section and the
// defaults, and the rules table for the docs. `npm run generate` writes them into their files
// (scripts/generate.ts); test/contract checks the files match, so a rule is added by its file alone.
import { KINDS, KIND_NAMES, listPath, versionsOf, type KindName } from '../model/kinds.ts'
import { toYaml } from '../model/yaml-write.ts'
import type { JudgedOperation, RegisteredRule } from '../rules/rule.ts'
import { DEFAULT_WEBHOOK_CONFIGURATION, WEBHOOK_CONFIGURATION_KINDS } from '../install/webhook-configurations.ts'

const OPERATIONS: readonly JudgedOperation[] = ['CREATE', 'UPDATE', 'DELETE']
const byKindOrder = (a: KindName, b: KindName) => KIND_NAMES.indexOf(a) - KIND_NAMES.indexOf(b)

export interface WebhookRule {
  apiGroups: string[]
  apiVersions: string[]
  operations: JudgedOperation[]
  resources: string[]
  scope: 'Namespaced' | 'Cluster'
}

/**
 * The `rules` of the object webhook: every kind some rule judges, grouped by API group, version,
 * operations and scope. The mutating webhook is sent only what fixable rules judge.
 */
export function webhookRules(rules: readonly RegisteredRule[], webhook: 'mutating' | 'validating'): WebhookRule[] {
  const operations = new Map<KindName, Set<JudgedOperation>>()
  for (const rule of rules) {
    if (webhook === 'mutating' && !rule.fixable) continue
    for (const target of rule.judges) {
      for (const kind of target.kinds) {
        // Namespaces reach /validate through their own webhook (namespaces.validate.hitless.dev, every
        // CREATE and UPDATE, always Ignore on failure): named here too, they would be judged twice.
        if (kind === 'Namespace') continue
        const set = operations.get(kind) ?? new Set<JudgedOperation>()
        for (const operation of target.operations) set.add(operation)
        operations.set(kind, set)
      }
    }
  }
  const groups = new Map<string, WebhookRule>()
  for (const kind of [...operations.keys()].sort(byKindOrder)) {
    const { group, resource, namespaced } = KINDS[kind]
    // Every version hitless judges alike: with matchPolicy Equivalent the API server converts requests
    // to the first of them it serves (policy/v1beta1 PDBs on a 1.20 server).
    const versions = versionsOf(kind)
    const ops = OPERATIONS.filter((op) => operations.get(kind)!.has(op))
    const scope = namespaced ? 'Namespaced' : 'Cluster'
    const key = [group, versions.join(), ops.join(), scope].join('|')
    const entry = groups.get(key) ?? { apiGroups: [group], apiVersions: [...versions], operations: [...ops], resources: [], scope }
    entry.resources.push(resource)
    groups.set(key, entry)
  }
  return [...groups.values()]
}

/** What the cache lists and watches: Namespaces (modes, exemptions) and every kind a rule reads. */
export function cachedKinds(rules: readonly RegisteredRule[]): KindName[] {
  const kinds = new Set<KindName>(['Namespace'])
  for (const rule of rules) for (const kind of rule.reads) kinds.add(kind)
  return [...kinds].sort(byKindOrder)
}

export interface CachedResource {
  kind: KindName
  /** The collection path of the current version. */
  path: string
  /** Where to list it, in order: the current version, then older ones the server may serve instead. */
  paths: string[]
  /** A custom resource: a cluster without it has none of it. */
  optional: boolean
}

export function cachedResources(rules: readonly RegisteredRule[]): CachedResource[] {
  return cachedKinds(rules).map((kind) => {
    const paths = versionsOf(kind).map((version) => listPath(kind, version))
    return { kind, path: paths[0]!, paths, optional: (KINDS[kind] as { optional?: boolean }).optional === true }
  })
}

/** The read-only ClusterRole rules that let the cache list and watch exactly what it reads: no get, which
 * the server never sends (test/e2e/installed.e2e.ts compares with the API server's audit log). */
export function readerRbacRules(rules: readonly RegisteredRule[]): RbacRule[] {
  const byGroup = new Map<string, string[]>()
  for (const kind of cachedKinds(rules)) {
    const { group, resource } = KINDS[kind]
    byGroup.set(group, [...(byGroup.get(group) ?? []), resource])
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ['list', 'watch'] }))
}

export interface RbacRule {
  apiGroups: string[]
  resources: string[]
  resourceNames?: string[]
  verbs: string[]
}

/**
 * What the install checks read (src/install/): hitless's own webhook configurations, by name. Listed
 * and watched with a metadata.name fieldSelector, so RBAC can hold them to these names.
 */
export function installCheckRbacRules(name = DEFAULT_WEBHOOK_CONFIGURATION): RbacRule[] {
  const resources = WEBHOOK_CONFIGURATION_KINDS.map((kind) => `${kind.toLowerCase()}s`)
  return [{ apiGroups: ['admissionregistration.k8s.io'], resources, resourceNames: [name], verbs: ['list', 'watch'] }]
}

/** The `rules` section of rules/schema.json: each rule's action (with its default) and options. */
export function configRulesSchema(rules: readonly RegisteredRule[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {}
  for (const rule of rules) {
    properties[rule.id] = {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { action: { $ref: '#/definitions/action', default: rule.defaultAction }, ...(rule.options?.properties ?? {}) },
    }
  }
  return { type: 'object', additionalProperties: false, default: {}, properties }
}

/** Each rule's configuration when the config says nothing: its action and every option's default. */
export function defaultRuleConfigs(rules: readonly RegisteredRule[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    rules.map((rule) => [
      rule.id,
      {
        action: rule.defaultAction,
        ...Object.fromEntries(Object.entries(rule.options?.properties ?? {}).map(([name, schema]) => [name, (schema as { default?: unknown }).default])),
      },
    ]),
  )
}

/** The `rules:` block of rules/default.yaml: every rule, its one-line summary, its defaults. */
export function defaultRulesYaml(rules: readonly RegisteredRule[]): string {
  const defaults = defaultRuleConfigs(rules)
  const lines = ['rules:']
  for (const rule of rules) {
    lines.push(`  # ${rule.summary}`, `  ${rule.id}:`)
    for (const [name, value] of Object.entries(defaults[rule.id]!)) lines.push(`    ${name}: ${toYaml(value, { collectionStyle: 'flow', lineWidth: 0 }).trim()}`)
  }
  return lines.join('\n') + '\n'
}

/** The rules table of docs/rules/README.md and the README. */
export function rulesTable(rules: readonly RegisteredRule[], pagePath: (id: string) => string): string {
  const rows = rules.map((rule) => `| [\`${rule.id}\`](${pagePath(rule.id)}) | ${rule.defaultAction} | ${rule.summary} | ${rule.remedy} |`)
  return ['| rule | default | requires | fix |', '|---|---|---|---|', ...rows].join('\n') + '\n'
}
