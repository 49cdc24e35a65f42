// The accuracy regression: every finding hitless reports over ../shared/corpus (real manifests from
// public projects, byte for byte) is judged by hand in expectations.json, with a reason: true (a real
// problem in that manifest), noise (right by the letter, but a platform team would not want it), or
// false (wrong). A new finding fails until it is judged; a judged one that disappears fails too (recall).
// Input errors are judged the same way (both are real errors in those files).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { auditCorpus } from './audit-corpus.ts'

interface Judged {
  verdict: 'true' | 'noise' | 'false'
  reason: string
}
const expected = JSON.parse(readFileSync(new URL('expectations.json', import.meta.url), 'utf8')) as { errors: string[]; findings: Record<string, Judged> }
// The load-balancer and spread rules' findings are judged in their own file (issue 28): merged here.
const judgedLb = JSON.parse(readFileSync(new URL('expectations-lb.json', import.meta.url), 'utf8')) as Record<'corpus' | 'corpus-next', Record<string, Judged>>
Object.assign(expected.findings, judgedLb.corpus)

t.test('the corpus: every finding judged, none false, little noise, no unexpected input error', async (t) => {
  const { findings, errors } = await auditCorpus()
  const keys = findings.map((f) => f.key)
  t.same(keys.filter((key) => !expected.findings[key]), [], 'every finding has a judgement (judge new ones in expectations.json)')
  t.same(Object.keys(expected.findings).filter((key) => !keys.includes(key)), [], 'every judged finding is still reported (recall)')
  t.same(new Set(keys).size, keys.length, 'no finding twice')
  const verdicts = keys.map((key) => expected.findings[key]).filter((judged): judged is Judged => judged !== undefined)
  t.ok(verdicts.every((judged) => judged.reason.length > 10), 'each judgement says why')
  t.same(keys.filter((key) => expected.findings[key]?.verdict === 'false'), [], 'no finding judged false')
  const noise = verdicts.filter((judged) => judged.verdict === 'noise').length
  t.ok(noise <= 0.05 * keys.length, `noise ${noise} of ${keys.length} findings (at most 5 %)`)
  t.same(errors, expected.errors, 'input errors only where the files really are invalid')
})
