// A review after the process has been idle, against one right after another (issue 27): what the same
// work costs when the CPU's caches went cold in between. An admission webhook mostly waits: the API
// server calls it a few times a second, not back to back, so this is the cost its reviews usually pay.
//
//   node bench/idle-gap.ts
//
// In one process (no network): the shipped policy judges the 7.1 KB Deployment UPDATE review of the
// serve-cpu benchmark (JSON.parse + handleAdmission, as the route does), warmed up first. Then, for each
// gap, reviews one at a time with the event loop idle for the gap in between; and, after a 50 ms gap,
// the first review and the one right after it. A plain arithmetic loop of about the same length, run the
// same way, says whether the CPU itself is slower after idling (clock) or only what it no longer holds in
// its caches. Prints ratios to back-to-back. Bounded: about 2,000 timed calls, ~25 s.
import { handleAdmission } from '../src/admission/handle.ts'
import { parseConfig } from '../src/config/load.ts'
import { buildPolicy } from '../src/engine/policy.ts'
import { deploymentUpdateReview } from './lib/deployment-review.ts'
import { median } from './lib/median.ts'
import { writeResult } from './lib/report.ts'

const SAMPLES = 150
const GAPS_MS = [0, 1, 10, 50]

const texts = Array.from({ length: 256 }, (_, i) => JSON.stringify(deploymentUpdateReview(`idle-${i}`)))
const policy = buildPolicy(parseConfig('{}', 'bench'))
const numbers = new Float64Array(20_000).map((_, i) => i)

/** One review as the route judges it, in ms. */
function review(i: number): number {
  const start = performance.now()
  handleAdmission(JSON.parse(texts[i & 255]!), 'validate', policy)
  return performance.now() - start
}

/** Arithmetic over 160 KB, no allocation: ~as long as a warm review. */
function arithmetic(): number {
  const start = performance.now()
  let sum = 0
  for (let round = 0; round < 3; round++) for (let i = 0; i < numbers.length; i++) sum += numbers[i]!
  if (sum < 0) throw new Error('unreachable')
  return performance.now() - start
}

const idle = (ms: number) => new Promise<void>((done) => (ms > 0 ? setTimeout(done, ms) : setImmediate(done)))

async function atGap(work: (i: number) => number, gapMs: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    times.push(work(i))
    // Back to back still yields to the event loop now and then, as a server does between requests.
    if (gapMs > 0 || i % 10 === 9) await idle(gapMs)
  }
  return median(times)
}

for (let i = 0; i < 5_000; i++) review(i)
for (let i = 0; i < 500; i++) arithmetic()

const rows: { gapMs: number; reviewMs: number; arithmeticMs: number }[] = []
for (const gapMs of GAPS_MS) rows.push({ gapMs, reviewMs: await atGap(review, gapMs), arithmeticMs: await atGap(arithmetic, gapMs) })
const first: number[] = []
const next: number[] = []
for (let i = 0; i < SAMPLES; i++) {
  await idle(50)
  first.push(review(i))
  next.push(review(i + 1))
}

const base = rows[0]!
console.log('median per call, ratio to back-to-back')
for (const row of rows) {
  console.log(
    `idle ${String(row.gapMs).padStart(2)} ms between calls: review ${row.reviewMs.toFixed(3)} ms (${(row.reviewMs / base.reviewMs).toFixed(1)}×), ` +
      `arithmetic ${row.arithmeticMs.toFixed(3)} ms (${(row.arithmeticMs / base.arithmeticMs).toFixed(1)}×)`,
  )
}
const firstMs = median(first)
const nextMs = median(next)
console.log(`after 50 ms idle: the first review ${firstMs.toFixed(3)} ms, the one right after it ${nextMs.toFixed(3)} ms (${(firstMs / nextMs).toFixed(1)}×)`)
await writeResult('idle-gap', { rows, afterIdle: { firstMs, nextMs } })
