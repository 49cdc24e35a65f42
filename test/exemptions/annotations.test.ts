import t from 'tap'
import { exemptionChanged, parseExemptList, readExemptionAnnotations } from '../../src/exemptions/annotations.ts'
import { expiryInstant } from '../../src/exemptions/expiry.ts'

t.test('the exempt list', async (t) => {
  t.same(parseExemptList('pre-stop, readiness-probe:metrics'), [{ rule: 'pre-stop' }, { rule: 'readiness-probe', container: 'metrics' }])
  t.same(parseExemptList('*'), [{ rule: '*' }])
  t.same(parseExemptList(' *:sidecar ,, '), [{ rule: '*', container: 'sidecar' }])
  t.same(parseExemptList('pre-stop:'), [{ rule: 'pre-stop' }], 'an empty container scope means the whole object')
  t.same(parseExemptList(''), [])
})

t.test('reading the three annotations', async (t) => {
  t.equal(readExemptionAnnotations(undefined, 'object'), undefined)
  t.equal(readExemptionAnnotations({ 'hitless.dev/exempt-reason': 'x' }, 'object'), undefined, 'no list, no exemption')
  t.same(
    readExemptionAnnotations({ 'hitless.dev/exempt': 'pre-stop', 'hitless.dev/exempt-reason': ' legacy app ', 'hitless.dev/exempt-until': '2026-12-31' }, 'namespace'),
    { source: 'namespace', entries: [{ rule: 'pre-stop' }], reason: 'legacy app', until: '2026-12-31' },
  )
})

t.test('exempt-until accepts RFC 3339 dates and date-times', async (t) => {
  t.equal(expiryInstant('2026-12-31')?.toISOString(), '2027-01-01T00:00:00.000Z', 'a date counts through the end of that day (UTC)')
  t.equal(expiryInstant('2026-12-31T18:00:00Z')?.toISOString(), '2026-12-31T18:00:00.000Z')
  t.equal(expiryInstant('2026-12-31T18:00:00+02:00')?.toISOString(), '2026-12-31T16:00:00.000Z')
  t.equal(expiryInstant('2026-12-31T18:00:00.5z')?.toISOString(), '2026-12-31T18:00:00.500Z')
  for (const bad of ['2026-02-30', '31/12/2026', '2026-12-31T18:00', 'tomorrow', '2026-13-01']) {
    t.equal(expiryInstant(bad), undefined, bad)
  }
})

t.test('what counts as a request adding or changing an exemption', async (t) => {
  const withExempt = (value: string) => ({ metadata: { annotations: { 'hitless.dev/exempt': value } } })
  t.ok(exemptionChanged(withExempt('pre-stop'), null), 'CREATE with annotations')
  t.notOk(exemptionChanged({ metadata: {} }, null), 'CREATE without')
  t.notOk(exemptionChanged(withExempt('pre-stop'), withExempt('pre-stop')), 'UPDATE keeping them')
  t.ok(exemptionChanged(withExempt('*'), withExempt('pre-stop')), 'UPDATE changing them')
  t.ok(exemptionChanged({ metadata: { annotations: { 'hitless.dev/exempt': 'x', 'hitless.dev/exempt-until': '2027-01-01' } } }, withExempt('x')), 'UPDATE adding an expiry')
  t.ok(exemptionChanged({ metadata: {} }, withExempt('pre-stop')), 'UPDATE removing them')
})
