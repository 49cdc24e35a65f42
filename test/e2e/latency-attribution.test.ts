// The attribution row from canned /metrics texts (a unit test; the proof feeds it real scrapes).
import t from 'tap'
import { attribution, attributionRow, ATTRIBUTION_HEADER } from './latency-attribution.ts'

const BOUNDS = ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '1', '+Inf']

/** A hitless replica's text: review durations, loop delay and GC as cumulative counts per bound. */
const GC_BOUNDS = ['0.0001', '0.0005', '0.001', '0.002', '0.005', '0.01', '0.025', '0.05', '0.1', '+Inf']
/** GC pauses by kind as cumulative counts per bound (a kind with no pause yet has no series), their sum and the max gauge. */
interface Gc {
  kinds: Record<string, number[]>
  sum: number
  max: number
}

function hitless(reviews: number[], loop: number[], gc: Gc, connections: [number, number, number, number], loopMax: number): string {
  const lines = [
    '# HELP hitless_review_duration_seconds Time from request start to answer, per endpoint.',
    '# TYPE hitless_review_duration_seconds histogram',
    ...BOUNDS.map((le, i) => `hitless_review_duration_seconds_bucket{le="${le}",endpoint="validate"} ${reviews[i]}`),
    `hitless_review_duration_seconds_count{endpoint="validate"} ${reviews.at(-1)}`,
    ...['0.0005', '0.001', '0.002', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '1', '+Inf'].map((le, i) => `hitless_event_loop_delay_seconds_bucket{le="${le}"} ${loop[i]}`),
    `hitless_event_loop_delay_seconds_count ${loop.at(-1)}`,
    `hitless_event_loop_delay_max_seconds ${loopMax}`,
    ...Object.entries(gc.kinds).flatMap(([kind, counts]) => [
      ...GC_BOUNDS.map((le, i) => `hitless_gc_pause_seconds_bucket{le="${le}",kind="${kind}"} ${counts[i]}`),
      `hitless_gc_pause_seconds_sum{kind="${kind}"} ${(gc.sum * counts.at(-1)!) / Object.values(gc.kinds).reduce((n, c) => n + c.at(-1)!, 0)}`,
      `hitless_gc_pause_seconds_count{kind="${kind}"} ${counts.at(-1)}`,
    ]),
    `hitless_gc_pause_max_seconds ${gc.max}`,
    `hitless_tls_connections_total{session="new"} ${connections[0]}`,
    `hitless_tls_connections_total{session="resumed"} ${connections[1]}`,
    `hitless_review_connections_total{connection="new"} ${connections[2]}`,
    `hitless_review_connections_total{connection="reused"} ${connections[3]}`,
  ]
  return lines.join('\n') + '\n'
}

/** The API server's text: hitless's two webhooks and another one, buckets 5, 25, 100 ms … */
function apiserver(validate: number[], mutate: number[], other: number[]): string {
  const bounds = ['0.005', '0.025', '0.1', '0.5', '1', '2.5', '+Inf']
  const series = (name: string, type: string, counts: number[]) =>
    bounds.map((le, i) => `apiserver_admission_webhook_admission_duration_seconds_bucket{name="${name}",operation="CREATE",rejected="false",type="${type}",le="${le}"} ${counts[i]}`)
  return [
    '# TYPE apiserver_admission_webhook_admission_duration_seconds histogram',
    ...series('validate.hitless.dev', 'validating', validate),
    ...series('mutate.hitless.dev', 'admit', mutate),
    ...series('other.example.com', 'validating', other),
  ].join('\n') + '\n'
}

const before = {
  hitless: [hitless([10, 40, 50, 50, 50, 50, 50, 50, 50, 50, 50], [900, 950, 990, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000], { kinds: { minor: [2, 6, 8, 10, 10, 10, 10, 10, 10, 10] }, sum: 0.02, max: 0.004 }, [5, 0, 5, 45], 0.003)],
  apiserver: apiserver([20, 25, 25, 25, 25, 25, 25], [20, 25, 25, 25, 25, 25, 25], [0, 0, 0, 0, 0, 0, 500]),
}
// Replica 2 joins with its own counts; replica 1 moved on by 100 reviews, 1,000 loop samples, 4 pauses
// (3 minor ones up to 2 ms, its first major one, in (2, 5] ms).
const after = {
  hitless: [
    hitless([40, 120, 140, 148, 150, 150, 150, 150, 150, 150, 150], [1800, 1900, 1980, 1995, 2000, 2000, 2000, 2000, 2000, 2000, 2000], { kinds: { minor: [2, 7, 10, 13, 13, 13, 13, 13, 13, 13], major: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1] }, sum: 0.03, max: 0.004 }, [7, 1, 7, 143], 0.004),
    hitless([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000], { kinds: { minor: [0, 1, 2, 2, 2, 2, 2, 2, 2, 2] }, sum: 0.001, max: 0.0008 }, [0, 0, 0, 0], 0.0004),
  ],
  apiserver: apiserver([60, 70, 75, 75, 75, 75, 75], [60, 70, 74, 75, 75, 75, 75], [0, 0, 0, 0, 0, 0, 900]),
}

t.test('what happened between two scrapes, replicas summed, other webhooks left out', async (t) => {
  const row = attribution(after, before)
  t.same(row.connections, { tlsNew: 2, tlsResumed: 1, reviewsOnNew: 2, reviewsOnReused: 98 })
  t.same(
    row.gc,
    { pauses: 6, totalMs: 11, maxMs: 4, byKind: { major: { pauses: 1, maxAtMostMs: 5 }, minor: { pauses: 5, maxAtMostMs: 2 } } },
    'pause count and total are differences over every kind; the maximum is the largest replica gauge; by kind, the count and the bucket of the longest',
  )
  t.equal(row.hitless?.count, 100)
  t.equal(row.hitless?.p50Ms, 0.7, '50th of 100 falls in (0.5, 1] ms: 20 of its 50, interpolated')
  t.equal(row.hitless?.p99Ms, 7.5, '99th in (5, 10] ms')
  t.equal(row.hitless?.maxAtMostMs, 10)
  t.equal(row.loopDelay?.count, 2000, "replica 2's samples all since the first scrape")
  t.equal(row.loopDelay?.maxMs, 4)
  t.ok(row.loopDelay!.p99Ms > 1 && row.loopDelay!.p99Ms <= 2, `loop delay p99 in (1, 2] ms: ${row.loopDelay!.p99Ms}`)
  t.equal(row.apiserver?.count, 100, "only hitless's webhooks: 50 validating + 50 mutating calls")
  t.equal(row.apiserver?.p50Ms, 3.125)
  t.ok(row.apiserver!.p99Ms > 25 && row.apiserver!.p99Ms <= 100, `p99 in the (25, 100] ms bucket: ${row.apiserver!.p99Ms}`)
  t.equal(row.apiserver?.maxAtMostMs, 500, 'one call in (100, 500] ms')
})

t.test('without a first scrape: everything since start; an empty histogram gives no timing', async (t) => {
  const row = attribution({ hitless: [hitless(Array(11).fill(0), Array(11).fill(0), { kinds: {}, sum: 0, max: 0 }, [0, 0, 0, 0], 0)], apiserver: '' })
  t.equal(row.hitless, undefined)
  t.equal(row.loopDelay, undefined)
  t.equal(row.apiserver, undefined)
  t.same(row.gc, { pauses: 0, totalMs: 0, maxMs: 0, byKind: {} })
})

t.test('the Markdown row matches its header', async (t) => {
  const line = attributionRow('enforce run 1', attribution(after, before))
  t.equal(line.split('|').length, ATTRIBUTION_HEADER.split('\n')[0]!.split('|').length)
  t.match(line, /^\| enforce run 1 \| 100 \| 3\.125 \/ \d/)
  t.match(line, /\| 6: 11 \/ 4 ms \(1 major ≤ 5 ms, 5 minor ≤ 2 ms\) \| 2 \/ 98 \| 2 \/ 1 \|$/)
})
