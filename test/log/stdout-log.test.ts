// hitless serve's stdout (src/log/log.ts, decision 0046): written off the event loop, and a reader that
// stops reading costs dropped lines, counted, not memory. A real FIFO and a real reader.
import { execFileSync, spawn } from 'node:child_process'
import { openSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createLogger, stdoutLog, type StdoutLog } from '../../src/log/log.ts'
import { createMetrics } from '../../src/metrics.ts'

async function until(what: string, check: () => boolean, seconds = 20): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((wait) => setTimeout(wait, 20))
  }
}

/** Ends the stream and closes its file descriptor. */
function closed(out: StdoutLog): Promise<void> {
  return new Promise((done) => {
    out.stream.once('close', () => done())
    out.stream.end()
  })
}

const lines = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)

t.test('a stdout nobody reads: lines beyond the bound are dropped and counted, the rest arrive once it is read', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-log-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const fifo = join(dir, 'stdout')
  execFileSync('mkfifo', [fifo])
  // Opened read-write so the open does not wait for a reader; nothing reads it until the end.
  const fd = openSync(fifo, 'r+')
  const maxBytes = 256 * 1024
  const out = stdoutLog(fd, maxBytes)
  const logger = createLogger('info', out.stream)
  const padding = 'x'.repeat(400)
  const written = 3000 // ~1.3 MB of lines: the pipe's buffer (64 KiB) and the bound are both exceeded
  for (let i = 0; i < written; i++) logger.info({ n: i, padding }, 'admission decision')
  t.ok(out.droppedLines() > 0, `lines were dropped (${out.droppedLines()})`)
  t.ok(out.droppedLines() < written, 'not every line')

  const metrics = createMetrics({ logDrops: out.droppedLines })
  t.match(await metrics.registry.metrics(), new RegExp(`^hitless_log_lines_dropped_total ${out.droppedLines()}$`, 'm'), 'the count is a metric')

  // Now read it: what was kept arrives, in order, and kept + dropped is all of it.
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] })
  let received = ''
  reader.stdout.setEncoding('utf8').on('data', (chunk: string) => (received += chunk))
  const kept = written - out.droppedLines()
  await until('the kept lines', () => received.split('\n').length - 1 >= kept, 30)
  const numbers = lines(received).map((line) => line['n'] as number)
  t.equal(numbers.length, kept, `${kept} lines kept`)
  t.ok(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!), 'in order')
  t.equal(numbers[0], 0, 'the earliest lines are the ones kept')
  await closed(out)
  reader.kill()
})
