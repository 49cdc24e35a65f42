// Every field a rule reads (recorded while the rules judge their own fixtures: test/helpers/read-paths.ts),
// set to every JSON type in the object or old object the rule read it from, on both endpoints: the
// answer is a judged AdmissionReview or a 400 naming the field, never a 5xx (an exception in
// handleAdmission is what the route turns into a 500), and every patch applies. The structure-aware
// fuzzing of whole reviews is fuzz.test.ts.
import fastJsonPatch from 'fast-json-patch'
import t from 'tap'
import { handleAdmission } from '../../src/admission/handle.ts'
import { storeFrom } from '../../src/cluster/ingest.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { configFrom } from '../helpers/objects.ts'
import { fieldsRead, fixtureReview, ruleFixtures, withField, type ReadField } from '../helpers/read-paths.ts'

const EVERY_TYPE: [string, unknown][] = [
  ['null', null], ['a boolean', true], ['a number', 7], ['a negative number', -3], ['a float', 2.5], ['a huge number', 1e308],
  ['a string', 'x'], ['a percentage', '50%'], ['an array', [1, 'a']], ['an object', { a: { b: 1 } }],
  // JSON can name members toString and valueOf: such an object cannot be turned into a string or number.
  ['an object with toString and valueOf members', { toString: 1, valueOf: 'x' }],
]

t.test('every field a rule reads, set to every JSON type: no 5xx', (t) => {
  const config = configFrom()
  const fixtures = ruleFixtures().map((fixture) => ({ fixture, policy: buildPolicy(config, fixture.cluster ? { cluster: storeFrom(fixture.cluster) } : {}) }))
  // One fixture per field (the first whose judging read it), with the cluster it came with.
  const cases = new Map<string, (typeof fixtures)[number] & { field: ReadField }>()
  for (const { fixture, policy } of fixtures) {
    for (const field of fieldsRead(fixture, policy)) {
      const key = `${fixture.review.kind}:${field.root}.${field.path.join('.')}`
      if (!cases.has(key)) cases.set(key, { fixture, policy, field })
    }
  }
  t.ok(cases.size > 100, `${cases.size} fields read by the rules, by kind`)
  const failures: string[] = []
  const statuses = new Map<number, number>()
  for (const [key, { fixture, policy, field }] of cases) {
    for (const [name, value] of EVERY_TYPE) {
      const review = fixtureReview(fixture)
      const source = review.request[field.root]
      if (!source) continue
      review.request[field.root] = withField(source, field.path, value)
      const json = JSON.stringify(review)
      for (const endpoint of ['mutate', 'validate'] as const) {
        const where = `${key} = ${name} (${fixture.name}, /${endpoint})`
        let handled: ReturnType<typeof handleAdmission>
        try {
          handled = handleAdmission(JSON.parse(json), endpoint, policy)
        } catch (error) {
          failures.push(`${where}: HTTP 500: ${String(error).slice(0, 160)}`)
          continue
        }
        statuses.set(handled.statusCode, (statuses.get(handled.statusCode) ?? 0) + 1)
        const text = JSON.stringify(handled.body)
        if (handled.statusCode === 400 && !/object|oldObject|request/.test(text)) failures.push(`${where}: a 400 that names nothing: ${text.slice(0, 160)}`)
        if (handled.statusCode !== 200) continue
        const response = (handled.body as { response?: { allowed?: unknown; patch?: string } }).response
        if (typeof response?.allowed !== 'boolean') failures.push(`${where}: no verdict: ${text.slice(0, 160)}`)
        const patch = response?.patch
        if (patch && review.request.object) {
          const invalid = fastJsonPatch.validate(JSON.parse(Buffer.from(patch, 'base64').toString('utf8')), structuredClone(review.request.object))
          if (invalid) failures.push(`${where}: the patch does not apply: ${invalid.message}`)
        }
      }
    }
  }
  t.same(failures.slice(0, 60), [], `no 5xx, no unnamed 400, every patch applies (${failures.length} failures)`)
  t.comment(`status counts: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.end()
})
