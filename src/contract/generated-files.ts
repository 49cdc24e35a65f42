// The files whose parts are derived from the rule declarations, and what those parts must be. Each
// derived part sits between marker lines (`generated: …` … `end generated`) in a file people also
// edit by hand; `npm run generate` rewrites the parts, test/contract/generated.test.ts checks them.
import { readFile } from 'node:fs/promises'
import { namespaceGateRules } from '../model/namespace-gate.ts'
import type { RegisteredRule } from '../rules/rule.ts'
import { matchConditionsPatch, namespaceGateCondition, objectMatchCondition, shippedTrustedControllers } from './match-conditions.ts'
import { configRulesSchema, defaultRulesYaml, installCheckRbacRules, readerRbacRules, rulesTable, webhookRules, type RbacRule, type WebhookRule } from './derive.ts'

const flowList = (items: readonly string[]) => `[${items.map((item) => (item === '' ? '""' : item)).join(', ')}]`
const webhookYaml = (rules: WebhookRule[], indent: string) =>
  rules
    .map((r) => `${indent}- {apiGroups: ${flowList(r.apiGroups)}, apiVersions: ${flowList(r.apiVersions)}, operations: ${flowList(r.operations)}, resources: ${flowList(r.resources)}, scope: ${r.scope}}`)
    .join('\n')
const rbacYaml = (rules: RbacRule[]) =>
  rules
    .map((r) => [`  - apiGroups: ${flowList(r.apiGroups)}`, `    resources: ${flowList(r.resources)}`, ...(r.resourceNames ? [`    resourceNames: ${flowList(r.resourceNames)}`] : []), `    verbs: ${flowList(r.verbs)}`].join('\n'))
    .join('\n')

/** Replaces the lines between `<prefix>generated: <name>` and `<prefix>end generated` markers. */
export function replaceGenerated(text: string, name: string, body: string, file: string): string {
  const lines = text.split('\n')
  const start = lines.findIndex((line) => line.includes(`generated: ${name} (npm run generate)`))
  const end = lines.findIndex((line, i) => i > start && line.includes('end generated'))
  if (start < 0 || end < 0) throw new Error(`${file}: no "generated: ${name}" … "end generated" markers`)
  return [...lines.slice(0, start + 1), ...body.replace(/\n$/, '').split('\n'), ...lines.slice(end)].join('\n')
}

export interface GeneratedFile {
  path: string
  /** The file's whole text with every derived part as the rules say. */
  expected(current: string): string
}

export function generatedFiles(rules: readonly RegisteredRule[]): GeneratedFile[] {
  const defaults = (path: string): GeneratedFile => ({ path, expected: (text) => replaceGenerated(text, 'rules', defaultRulesYaml(rules), path) })
  return [
    {
      path: 'rules/schema.json',
      expected(text) {
        const schema = JSON.parse(text) as { properties: Record<string, unknown> }
        schema.properties['rules'] = configRulesSchema(rules)
        return JSON.stringify(schema, null, 2) + '\n'
      },
    },
    defaults('rules/default.yaml'),
    defaults('manifests/base/rules.yaml'),
    {
      path: 'manifests/base/webhooks.yaml',
      expected: (text) =>
        replaceGenerated(
          replaceGenerated(replaceGenerated(text, 'mutating rules', webhookYaml(webhookRules(rules, 'mutating'), '      '), 'webhooks.yaml'), 'validating rules', webhookYaml(webhookRules(rules, 'validating'), '      '), 'webhooks.yaml'),
          'namespace gate rules',
          webhookYaml(namespaceGateRules(), '      '),
          'webhooks.yaml',
        ),
    },
    {
      path: 'manifests/base/rbac.yaml',
      expected: (text) =>
        replaceGenerated(replaceGenerated(text, 'reader rules', rbacYaml(readerRbacRules(rules)), 'rbac.yaml'), 'install check rules', rbacYaml(installCheckRbacRules()), 'rbac.yaml'),
    },
    {
      path: 'manifests/components/k8s-1.30/match-conditions.yaml',
      expected: (text) => replaceGenerated(text, 'object match conditions', matchConditionsPatch(0, [objectMatchCondition(shippedTrustedControllers())]), 'match-conditions.yaml'),
    },
    {
      path: 'manifests/components/k8s-1.30/namespace-gate.yaml',
      expected: (text) => replaceGenerated(text, 'namespace match conditions', matchConditionsPatch(1, [namespaceGateCondition()]), 'namespace-gate.yaml'),
    },
    { path: 'docs/rules/README.md', expected: (text) => replaceGenerated(text, 'rules table', rulesTable(rules, (id) => `${id}.md`), 'docs/rules/README.md') },
    { path: 'README.md', expected: (text) => replaceGenerated(text, 'rules table', rulesTable(rules, (id) => `docs/rules/${id}.md`), 'README.md') },
  ]
}

/** Each file's current text and the text it should have. */
export async function compareGenerated(root: URL, rules: readonly RegisteredRule[]): Promise<{ path: string; current: string; expected: string }[]> {
  return Promise.all(
    generatedFiles(rules).map(async (file) => {
      const current = await readFile(new URL(file.path, root), 'utf8')
      return { path: file.path, current, expected: file.expected(current) }
    }),
  )
}
