// npm run generate: rewrites the parts of files that are derived from the rule declarations (webhook
// rules, RBAC, config schema and defaults, rules tables). Run it after adding or changing a rule.
import { writeFile } from 'node:fs/promises'
import { compareGenerated } from '../src/contract/generated-files.ts'
import { RULES } from '../src/contract/registry.ts'

const root = new URL('../', import.meta.url)
for (const { path, current, expected } of await compareGenerated(root, RULES)) {
  if (current === expected) continue
  await writeFile(new URL(path, root), expected)
  console.log(`updated ${path}`)
}
