// What the rule declarations imply is what the files say (webhook rules, RBAC, config schema and
// defaults, rules tables): after adding or changing a rule, `npm run generate`.
import t from 'tap'
import { compareGenerated } from '../../src/contract/generated-files.ts'
import { RULES } from '../../src/contract/registry.ts'

t.test('every derived part of every file matches the rules (else: npm run generate)', async (t) => {
  for (const { path, current, expected } of await compareGenerated(new URL('../../', import.meta.url), RULES)) {
    t.equal(current, expected, path)
  }
})
