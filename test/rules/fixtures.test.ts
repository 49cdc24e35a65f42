// Every rule against its fixtures: fires-* must fire (for the containers named in the header),
// passes-* must not. A fixable rule's patch is applied with a JSON Patch library; the result must
// pass the rule, pass the API server's own validation, and a second pass over it must produce no patch.
import { readdirSync } from 'node:fs'
import t from 'tap'
import fastJsonPatch from 'fast-json-patch'
import { evaluate } from '../../src/engine/evaluate.ts'
import { RULES } from '../../src/rules/index.ts'
import { podTemplateOf } from '../../src/workloads/pod-template.ts'
import { lifecycleErrors } from '../helpers/api-validation.ts'
import { FIXTURES, loadFixture, onlyRule } from '../helpers/objects.ts'

for (const rule of RULES) {
  const dir = new URL(`${rule.id}/`, FIXTURES)
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
  t.test(rule.id, async (t) => {
    t.ok(files.some((f) => f.startsWith('fires-')), 'has fixtures that fire')
    t.ok(files.some((f) => f.startsWith('passes-')), 'has fixtures that pass')
    for (const file of files) {
      const fixture = loadFixture(new URL(file, dir))
      const policy = onlyRule(rule.id, rule.fixable ? 'mutate' : 'deny', fixture.cluster)
      const result = evaluate(fixture.review, policy)
      if (file.startsWith('passes-')) {
        t.same(result.findings, [], `${file}: no finding`)
        continue
      }
      t.ok(result.findings.length > 0, `${file}: fires`)
      t.ok(result.findings.every((f) => f.rule === rule.id && f.message && f.fix), `${file}: findings are complete`)
      if (fixture.containers) {
        t.same(result.findings.map((f) => f.container), fixture.containers, `${file}: names the containers`)
      }
      if (fixture.actions) t.same(result.findings.map((f) => f.action), fixture.actions, `${file}: actions`)
      if (!rule.fixable) {
        t.same(result.patch, [], `${file}: never patches`)
        continue
      }
      t.ok(result.patch.length > 0, `${file}: has a patch`)
      const object = fixture.review.object!
      t.same(fastJsonPatch.validate(result.patch, object), undefined, `${file}: patch is valid for the object`)
      const fixed = fastJsonPatch.applyPatch(structuredClone(object), result.patch, true, false).newDocument
      const template = podTemplateOf({ ...fixture.review, object: fixed })
      // Without a cluster version, pre-stop's auto style injects the native sleep: judge as 1.30 would.
      if (template) t.same(lifecycleErrors(template.spec, { major: 1, minor: 30 }), [], `${file}: the API server accepts the patched object`)
      const again = evaluate({ ...fixture.review, object: fixed }, policy)
      t.same(again.findings, [], `${file}: fixed object passes`)
      t.same(again.patch, [], `${file}: second pass patches nothing`)
    }
  })
}
