// The accuracy regression: every finding hitless reports over ../shared/corpus and ../shared/corpus-next
// (real manifests from public projects, byte for byte) is judged by hand, in expectations.json and
// expectations-next.json, with a reason: true (a real problem in that manifest), noise (right by the
// letter, but a platform team would not want it), or false (wrong). A new finding fails until it is
// judged; a judged one that disappears fails too (recall). Findings re-judged as rightly gone when a
// rule changed are kept under notReported with why. Input errors are judged the same way (both are
// real errors in those files). Entries of expectations-next.json are sorted by key, so another rule's
// findings are a local edit.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { auditCorpus, CORPUS, CORPUS_NEXT } from './audit-corpus.ts'

interface Judged {
  verdict: 'true' | 'noise' | 'false'
  reason: string
}
interface Expectations {
  errors: string[]
  findings: Record<string, Judged>
  notReported?: Record<string, string>
}
const read = (file: string) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as Expectations
// The load-balancer and spread rules' findings are judged in their own file (issue 28), merged here.
const judgedLb = JSON.parse(readFileSync(new URL('expectations-lb.json', import.meta.url), 'utf8')) as Record<'corpus' | 'corpus-next', Record<string, Judged>>
const withLb = (expected: Expectations, set: 'corpus' | 'corpus-next'): Expectations => ({ ...expected, findings: { ...expected.findings, ...judgedLb[set] } })

const SETS = [
  { name: 'corpus', root: CORPUS, expected: withLb(read('expectations.json'), 'corpus'), own: read('expectations.json'), sorted: false },
  { name: 'corpus-next', root: CORPUS_NEXT, expected: withLb(read('expectations-next.json'), 'corpus-next'), own: read('expectations-next.json'), sorted: true },
]

const totals = { findings: 0, noise: 0 }
for (const { name, root, expected, own, sorted } of SETS) {
  t.test(`${name}: every finding judged, none false, little noise, no unexpected input error`, async (t) => {
    const { findings, errors } = await auditCorpus(root)
    const keys = findings.map((f) => f.key)
    t.same(keys.filter((key) => !expected.findings[key]), [], 'every finding has a judgement (judge new ones by hand)')
    t.same(Object.keys(expected.findings).filter((key) => !keys.includes(key)), [], 'every judged finding is still reported (recall)')
    t.same(Object.keys(expected.notReported ?? {}).filter((key) => expected.findings[key]), [], 'a finding judged rightly gone is not also expected')
    t.same(new Set(keys).size, keys.length, 'no finding twice')
    const verdicts = keys.map((key) => expected.findings[key]).filter((judged): judged is Judged => judged !== undefined)
    t.ok(verdicts.every((judged) => judged.reason.length > 10), 'each judgement says why')
    t.same(keys.filter((key) => expected.findings[key]?.verdict === 'false'), [], 'no finding judged false')
    const noise = verdicts.filter((judged) => judged.verdict === 'noise').length
    t.ok(noise <= 0.05 * keys.length, `noise ${noise} of ${keys.length} findings (at most 5 %)`)
    t.same(errors, expected.errors, 'input errors only where the files really are invalid')
    if (sorted) t.same(Object.keys(own.findings), Object.keys(own.findings).sort(), 'entries sorted by key')
    totals.findings += keys.length
    totals.noise += noise
  })
}

t.test('both corpora together: noise at most 5 % of findings', async (t) => {
  t.ok(totals.findings > 0 && totals.noise <= 0.05 * totals.findings, `noise ${totals.noise} of ${totals.findings} findings`)
})
