// The contract's promise: a rule is one file. A throwaway rule, written to this test's own temp
// directory and declared only there, shows up in every derived artifact (webhooks, RBAC, the cache's
// watches, config schema and defaults, SARIF metadata, the docs index) without touching any other file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Ajv } from 'ajv'
import t from 'tap'
import { cachedResources, configRulesSchema, defaultRuleConfigs, readerRbacRules, rulesTable, webhookRules } from '../../src/contract/derive.ts'
import { RULES } from '../../src/contract/registry.ts'
import { renderSarif } from '../../src/report/sarif.ts'
import type { RegisteredRule } from '../../src/rules/rule.ts'

const src = (path: string) => pathToFileURL(new URL(`../../src/${path}`, import.meta.url).pathname).href

t.test('a rule declared in its own file is picked up everywhere', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-rule-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'pdb-throwaway.mts')
  await writeFile(file, `import { defineRule } from '${src('rules/rule.ts')}'
interface Options { threshold: number }
export const pdbThrowaway = defineRule<Options>({
  id: 'pdb-throwaway',
  summary: 'A PodDisruptionBudget is judged on every write and delete.',
  why: 'it is a test',
  fixable: false,
  remedy: 'none',
  defaultAction: 'warn',
  judges: [{ kinds: ['PodDisruptionBudget'], operations: ['CREATE', 'UPDATE', 'DELETE'] }],
  reads: ['PodDisruptionBudget', 'HorizontalPodAutoscaler'],
  options: { type: 'object', additionalProperties: false, required: ['threshold'], properties: { threshold: { type: 'integer', minimum: 0, default: 3 } } },
  check: () => [],
})
`)
  const { pdbThrowaway } = (await import(pathToFileURL(file).href)) as { pdbThrowaway: RegisteredRule }
  const rules = [...RULES, pdbThrowaway]

  t.same(webhookRules(rules, 'validating').find((r) => r.resources.includes('poddisruptionbudgets')), { apiGroups: ['policy'], apiVersions: ['v1', 'v1beta1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['poddisruptionbudgets'], scope: 'Namespaced' }, 'validating webhook, DELETE included, every version judged alike')
  t.notOk(webhookRules(RULES, 'validating').some((r) => r.operations.includes('DELETE') && r.resources.includes('poddisruptionbudgets')), 'without the rule, no DELETE')
  t.notOk(webhookRules(rules, 'mutating').some((r) => r.resources.includes('poddisruptionbudgets')), 'not mutating: it cannot fix')
  t.same(readerRbacRules(rules).filter((r) => r.apiGroups[0] === 'policy' || r.apiGroups[0] === 'autoscaling'), [
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list', 'watch'] },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list', 'watch'] },
  ], 'RBAC')
  t.same(cachedResources(rules).find((r) => r.kind === 'PodDisruptionBudget')?.paths, ['/apis/policy/v1/poddisruptionbudgets', '/apis/policy/v1beta1/poddisruptionbudgets'], 'the cache watches it, the older version where the server lacks policy/v1')

  const schema = configRulesSchema(rules) as { properties: Record<string, unknown> }
  t.ok(schema.properties['pdb-throwaway'], 'config schema')
  t.same(defaultRuleConfigs(rules)['pdb-throwaway'], { action: 'warn', threshold: 3 }, 'defaults')
  const validate = new Ajv({ useDefaults: true, strict: false }).compile({ definitions: { action: { enum: ['deny', 'warn', 'mutate', 'off'] } }, ...schema })
  const config = { 'pdb-throwaway': {} as Record<string, unknown> }
  t.ok(validate(config))
  t.same(config['pdb-throwaway'], { action: 'warn', threshold: 3 }, 'the schema fills its defaults')
  t.notOk(validate({ 'pdb-throwaway': { threshold: -1 } }), 'and checks its options')

  const sarif = JSON.parse(renderSarif({ findings: [], manifests: [], objects: 0, errors: [], notices: [] }, '0', rules))
  t.match(sarif.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === 'pdb-throwaway'), { helpUri: /docs\/rules\/pdb-throwaway\.md$/, defaultConfiguration: { level: 'warning' } }, 'SARIF')
  t.match(rulesTable(rules, (id) => `${id}.md`), /\| \[`pdb-throwaway`\]\(pdb-throwaway\.md\) \| warn \| A PodDisruptionBudget is judged on every write and delete\. \| none \|/, 'docs index')
})
