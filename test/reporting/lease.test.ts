// The parts of the report writer that need no API server (the Lease and the writes are exercised against
// a real kube-apiserver in test/e2e/reports.e2e.ts).
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { microTime } from '../../src/reporting/lease.ts'
import { leaseNamespace } from '../../src/reporting/start.ts'
import { TokenBucket } from '../../src/reporting/token-bucket.ts'

t.test('MicroTime: RFC 3339 with six fractional digits, as the API server parses it', async (t) => {
  t.equal(microTime(new Date('2026-11-24T13:05:01.123Z')), '2026-11-24T13:05:01.123000Z')
  t.match(microTime(new Date()), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
})

t.test('the Lease lives in the configured namespace, else the service account namespace, else hitless-system', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-lease-'))
  const file = join(dir, 'namespace')
  await writeFile(file, 'platform\n')
  const reports = { format: 'openreports', intervalSeconds: 300, writesPerSecond: 5, maxResultsPerReport: 1000 } as const
  t.equal(leaseNamespace({ ...reports, leaseNamespace: 'ops' }, file), 'ops')
  t.equal(leaseNamespace(reports, file), 'platform')
  const saved = process.env['POD_NAMESPACE']
  delete process.env['POD_NAMESPACE']
  t.teardown(() => {
    if (saved !== undefined) process.env['POD_NAMESPACE'] = saved
  })
  t.equal(leaseNamespace(reports, join(dir, 'missing')), 'hitless-system')
})

t.test('the token bucket hands out its burst, then makes the next taker wait for a refill', async (t) => {
  const bucket = new TokenBucket(2, 2)
  await bucket.take()
  await bucket.take()
  let third = false
  const waiting = bucket.take().then(() => (third = true))
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(third, 'the burst is spent: the third take waits (half a second at 2 a second)')
  await waiting
  t.ok(third, 'and gets its token after the refill')
  const aborted = new AbortController()
  aborted.abort()
  await bucket.take(aborted.signal)
  t.pass('an aborted take returns at once')
})
