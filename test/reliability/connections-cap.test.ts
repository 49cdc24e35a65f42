// At the connection cap a newcomer displaces the least useful connection instead of being refused
// (src/http/connections.ts): at a small cap (128, reached however slowly this machine opens TLS
// connections), idle and stalled connections (test/helpers/connection-attack.ts), held until the server
// closes them, while the kubelet probes the probe port and the API server sends reviews on new
// connections: every probe and review is answered, during the flood and after it, and connections were
// evicted to make room. Twice: with the shipped grace (1 s), and with a grace longer than the test, so
// that every attacker connection stays young throughout (a flood faster than the grace, whatever this
// machine's speed): the oldest young one then goes, never the newcomer. Bounded: each connection is
// opened once, at most 20 at a time, for at most 30 s.
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../src/log/log.ts'
import { startServer } from '../../src/server.ts'
import { DEFAULT_CONNECTION_LIMITS } from '../../src/http/connections.ts'
import { attack, mix, probeAndReview, send } from '../helpers/connection-attack.ts'
import { admissionReview, loadYaml, policyFrom } from '../helpers/objects.ts'
import { testCertificates } from '../helpers/tls.ts'

const certs = await testCertificates()
const review = JSON.stringify(admissionReview(loadYaml('readiness-probe/passes-has-probe.yaml')))
const quiet = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }))
const CAP = 128

for (const [name, graceMs] of [
  ['the shipped grace', DEFAULT_CONNECTION_LIMITS.graceMs],
  ['every attacker connection young (grace 10 min)', 600_000],
] as const) {
  t.test(`at the cap, newcomers displace idle and stalled connections: ${name}`, async (t) => {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      probePort: 0,
      tls: certs,
      policy: policyFrom(),
      logger: quiet,
      maxConnections: CAP,
      connectionLimits: { graceMs },
    })
    t.teardown(() => server.close())
    const hostile = attack(new URL(server.url), mix(300, 300), { forMs: 30_000, atOnce: 20, ca: certs.ca, review })
    const { probes, reviews } = await probeAndReview(server.probeUrl!, server.url, hostile.done, 20, certs.ca, review)
    t.same(probes.filter((s) => s !== 200), [], `${probes.length} probes, all answered 200`)
    t.same(reviews.filter((s) => s !== 200), [], `${reviews.length} reviews on new connections while the attacker opened ${hostile.opened()}, all answered 200`)
    // The cap is now held by what the attacker kept: each new review connection displaces one of them.
    const after: number[] = []
    for (let i = 0; i < 20; i++) after.push(await send(server.url, certs.ca, review))
    const held = hostile.held.size
    hostile.stop()
    t.same(after.filter((s) => s !== 200), [], `${after.length} reviews on new connections with ${held} attacker connections still held, all answered 200`)
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' })
    const evicted = Number(/hitless_connections_closed_total\{reason="evicted"\} (\d+)/.exec(metrics.body)?.[1] ?? 0)
    t.ok(evicted > 0, `${evicted} connections evicted at the cap of ${CAP} (${hostile.opened()} opened by the attacker)`)
  })
}
