// Every rule has its page under docs/rules/, listed in the index, and deny messages link it.
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { denyMessage, RULE_DOCS_BASE } from '../../src/admission/messages.ts'
import { decide } from '../../src/engine/decide.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { RULES } from '../../src/rules/index.ts'
import { loadYaml, policyFrom, reviewOf } from '../helpers/objects.ts'

const docs = new URL('../../docs/rules/', import.meta.url)

t.test('a page per rule, in the index', async (t) => {
  const index = readFileSync(new URL('README.md', docs), 'utf8')
  for (const rule of RULES) {
    const page = new URL(`${rule.id}.md`, docs)
    t.ok(existsSync(page), `docs/rules/${rule.id}.md`)
    const text = readFileSync(page, 'utf8')
    t.match(text, new RegExp(`^# ${rule.id}\\n`), `${rule.id}: titled by its id`)
    for (const part of ['**Checks:**', '**Why:**', 'Fires', 'Passes', '**Exempt:**']) t.ok(text.includes(part), `${rule.id}: ${part}`)
    t.ok(index.includes(`](${rule.id}.md)`), `${rule.id}: in the index`)
    // hitless export-policies: the page says whether the rule becomes an admission policy.
    t.match(text, rule.cel ? new RegExp(`\\*\\*Admission policy:\\*\\* .*\`hitless-${rule.id}\``, 's') : /\*\*Admission policy:\*\* none/, `${rule.id}: as an admission policy`)
  }
})

t.test('deny messages link the page of each denied rule', async (t) => {
  const decision = decide(evaluate(reviewOf(loadYaml('readiness-probe/fires-deployment-no-probe.yaml')), policyFrom()), 'validate')
  const message = denyMessage(decision)
  t.ok(message.includes(`docs: ${RULE_DOCS_BASE}readiness-probe.md`))
  t.ok(RULE_DOCS_BASE.endsWith('/docs/rules/'))
})
