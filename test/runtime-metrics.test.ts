import { Agent, get } from 'node:https'
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../src/log/log.ts'
import { loopDelayBuckets } from '../src/runtime-metrics.ts'
import { startServer } from '../src/server.ts'
import { admissionReview, loadYaml, policyFrom } from './helpers/objects.ts'
import { postJson, testCertificates } from './helpers/tls.ts'

const quiet = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }))

function metricsText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`${url}/metrics`, { ca, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve(text))
    }).on('error', reject)
  })
}

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

t.test('loop-delay buckets come from the monitor percentiles, less the sampling period', async (t) => {
  // 100 samples of a 10 ms timer: half on time, 40 % 2 ms late, 9 % 30 ms late, the slowest 200 ms late.
  const percentiles = new Map([
    [0, 10.1e6],
    [50, 10.2e6],
    [90, 12e6],
    [99, 40e6],
    [100, 210e6],
  ])
  t.same(loopDelayBuckets({ count: 100, percentiles }, [0.001, 0.002, 0.005, 0.05, 0.25], 10), [50, 90, 90, 99, 100])
  t.same(loopDelayBuckets({ count: 0, percentiles: new Map() }, [0.001], 10), [0], 'no samples yet')
})

t.test('a serving replica exports loop delay, GC pauses and new vs reused connections', async (t) => {
  const certs = await testCertificates()
  const server = await startServer({ host: '127.0.0.1', port: 0, tls: certs, policy: policyFrom(), logger: quiet })
  t.teardown(() => server.close())
  const review = JSON.stringify(admissionReview(loadYaml('readiness-probe/passes-cronjob.yaml')))
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  for (let i = 0; i < 3; i++) t.equal((await postJson(server.url, '/validate', review, { ca: certs.ca, agent })).statusCode, 200)
  t.equal((await postJson(server.url, '/validate', review, { ca: certs.ca })).statusCode, 200, 'one more on a connection of its own')

  // Short-lived garbage (~200 MB in 1 KiB arrays): the young generation is scavenged many times over.
  let kept = 0
  for (let i = 0; i < 200_000; i++) kept += new Array(128).fill(i).length
  t.equal(kept, 200_000 * 128)
  // Block the loop for 60 ms: the monitor's next sample is at least that late.
  const until = performance.now() + 60
  while (performance.now() < until);
  let text = ''
  for (let tries = 0; tries < 100; tries++) {
    text = await metricsText(server.url, certs.ca)
    if ((value(text, 'hitless_event_loop_delay_max_seconds') ?? 0) >= 0.04 && (value(text, 'hitless_gc_pause_seconds_count{kind="minor"}') ?? 0) > 0) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.equal(value(text, 'hitless_review_connections_total{connection="new"}'), 2, 'two connections carried reviews')
  t.equal(value(text, 'hitless_review_connections_total{connection="reused"}'), 2, 'two reviews came on a kept-alive connection')
  t.ok((value(text, 'hitless_tls_connections_total{session="new"}') ?? 0) >= 2, 'full handshakes counted')
  t.ok((value(text, 'hitless_event_loop_delay_max_seconds') ?? 0) >= 0.04, 'the blocked loop shows in the maximum')
  const count = value(text, 'hitless_event_loop_delay_seconds_count') ?? 0
  t.ok(count > 0, 'loop samples')
  t.equal(value(text, 'hitless_event_loop_delay_seconds_bucket{le="+Inf"}'), count)
  t.ok((value(text, 'hitless_event_loop_delay_seconds_bucket{le="0.025"}') ?? Infinity) < count, 'the 60 ms sample lies above the 25 ms bucket')
  t.ok((value(text, 'hitless_gc_pause_seconds_count{kind="minor"}') ?? 0) > 0, 'scavenges counted as minor pauses')
  t.notMatch(text, /^hitless_gc_pause_seconds_count\{kind="other"\}/m, 'every pause has a known kind')
  t.match(text, /^hitless_gc_pause_max_seconds [0-9.e-]+$/m)
})
