import { readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import schema from '../../rules/schema.json' with { type: 'json' }
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, parseConfig } from '../../src/config/load.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { RULES } from '../../src/rules/index.ts'

t.test('the shipped config is exactly the schema defaults', async (t) => {
  t.same(await loadConfig(), parseConfig('', 'empty'))
  t.same(parseConfig('', 'empty').rules['pre-stop'], { action: 'mutate', sleepSeconds: 5, style: 'auto', coverDeregistration: false })
})

t.test('the schema describes every rule the registry knows, and no other', async (t) => {
  t.same(Object.keys(schema.properties.rules.properties).sort(), RULES.map((r) => r.id).sort())
})

t.test('a partial config keeps the defaults it does not mention', async (t) => {
  const config = parseConfig('rules:\n  pre-stop:\n    sleepSeconds: 9\n', 'partial')
  t.same(config.rules['pre-stop'], { action: 'mutate', sleepSeconds: 9, style: 'auto', coverDeregistration: false })
  t.same(config.rules['readiness-probe'], { action: 'deny' })
  t.same(config.servingContainers.ignore, ['istio-proxy', 'linkerd-proxy', 'kube-rbac-proxy'])
  t.ok(config.servingContainers.nonServingPortNames.includes('metrics'))
})

t.test('invalid configs name the JSON path and the reason', async (t) => {
  const cases: [string, RegExp][] = [
    ['rules: {readyness-probe: {action: deny}}', /\$\.rules: unknown field "readyness-probe"/],
    ['rules: {pre-stop: {action: block}}', /\$\.rules\.pre-stop\.action: must be one of deny, warn, mutate, off/],
    ['rules: {pre-stop: {sleepSeconds: 0}}', /\$\.rules\.pre-stop\.sleepSeconds: must be >= 1/],
    ['rules: {termination-grace-period: {drainSeconds: "10"}}', /\$\.rules\.termination-grace-period\.drainSeconds: must be integer/],
    ['servingContainers: {ignore: istio-proxy}', /\$\.servingContainers\.ignore: must be array/],
    ['mode: [', /invalid YAML/],
    ['- a list', /\$: must be object/],
  ]
  for (const [text, expected] of cases) {
    t.throws(() => parseConfig(text, 'bad.yaml'), { name: 'ConfigError', message: expected }, text)
  }
  t.throws(() => parseConfig('rules: {x: 1}', 'bad.yaml'), { message: /^bad\.yaml: invalid config/ }, 'names the file')
})

t.test('a rule that cannot fix may not be set to mutate', async (t) => {
  const config = parseConfig('rules: {readiness-probe: {action: mutate}}', 'c')
  t.throws(() => buildPolicy(config), { name: 'ConfigError', message: /readiness-probe cannot fix objects/ })
})

t.test('off removes a rule from the policy; order follows the registry', async (t) => {
  const policy = buildPolicy(parseConfig('rules: {readiness-probe: {action: off}}', 'c'))
  t.same(policy.rules.map((r) => r.rule.id), RULES.map((r) => r.id).filter((id) => id !== 'readiness-probe'))
  t.same(policy.rules[0]!.options, { sleepSeconds: 5, style: 'auto', coverDeregistration: false })
})

t.test('loadConfig reads files and reports unreadable ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-config-'))
  await writeFile(join(dir, 'ok.yaml'), 'rules: {pre-stop: {action: warn}}')
  t.equal((await loadConfig(join(dir, 'ok.yaml'))).rules['pre-stop']!.action, 'warn')
  await t.rejects(loadConfig(join(dir, 'missing.yaml')), { message: /missing\.yaml: cannot read config/ })
  t.ok(readFileSync(DEFAULT_CONFIG_PATH, 'utf8').includes('readiness-probe'))
  t.ok(new ConfigError('x') instanceof Error)
})

t.test('reports.format: false (an unquoted off a YAML 1.1 tool rewrote) is off; "off" quoted is off', async (t) => {
  t.equal(parseConfig('reports: {format: false}', 'test').reports.format, 'off')
  t.equal(parseConfig('reports: {format: "off"}', 'test').reports.format, 'off')
  t.throws(() => parseConfig('reports: {format: true}', 'test'), ConfigError)
  t.equal((await loadConfig(DEFAULT_CONFIG_PATH)).reports.format, 'off')
})
