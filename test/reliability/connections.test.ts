// A client that holds connections cannot lock out the kubelet or the API server: idle and stalled
// connections (test/helpers/connection-attack.ts; the numbers below) against the real `hitless serve` with the
// shipped connection cap and heap, while the kubelet probes the probe port and the API server sends
// reviews, each on a new connection: every probe and every review is answered, and the replica stays
// under the shipped memory limit. The eviction at the cap itself: connections-cap.test.ts. Bounded:
// each attacker connection is opened once, 10 at a time, for at most 45 s (by default), all closed at the end.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { peakRssMiB } from '../../bench/lib/hostile-bodies.ts'
import { startCli } from '../helpers/cli.ts'
import { attack, mix, probeAndReview } from '../helpers/connection-attack.ts'
import { admissionReview, loadYaml } from '../helpers/objects.ts'
import { testCertificates } from '../helpers/tls.ts'

// The 3,000 + 3,000 at once need a few hundred TLS handshakes a second; a 2-core machine shared
// with other work manages ~50 (both ends in one place), and an attacker that saturates the replica's
// CPU with handshakes is a different attack (one no connection limit answers). So 1,200 + 1,200 here,
// 10 opened at a time: more than the cap of 1,024 in all, with the cap's eviction shown in
// connections-cap.test.ts. HITLESS_ATTACK_CONNECTIONS=3000 HITLESS_ATTACK_SECONDS=120 runs the issue's
// size by hand (with `--timeout 300`; BENCHMARKS.md has the result).
const IDLE = Number(process.env['HITLESS_ATTACK_CONNECTIONS'] ?? 1_200)
const STALLED = IDLE
const FOR_MS = Number(process.env['HITLESS_ATTACK_SECONDS'] ?? 45) * 1000
/** The shipped container's memory limit (manifests/base/deployment.yaml). */
const MEMORY_LIMIT_MIB = 512

const certs = await testCertificates()
const review = JSON.stringify(admissionReview(loadYaml('readiness-probe/passes-has-probe.yaml')))

t.test(`${IDLE} idle and ${STALLED} stalled connections against the real replica`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-connections-'))
  await writeFile(join(dir, 'tls.crt'), certs.cert)
  await writeFile(join(dir, 'tls.key'), certs.key)
  const serve = startCli(
    ['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--cluster', 'off'],
    (line) => line['msg'] === 'hitless is serving /mutate and /validate',
    { env: { NODE_OPTIONS: '--max-old-space-size=256' } },
  )
  t.teardown(() => serve.child.kill('SIGKILL'))
  const started = await serve.started
  const hostile = attack(new URL(String(started['url'])), mix(IDLE, STALLED), { forMs: FOR_MS, atOnce: 10, ca: certs.ca, review })
  let peakHeld = 0
  const watch = setInterval(() => (peakHeld = Math.max(peakHeld, hostile.held.size)), 50)
  const { probes, reviews } = await probeAndReview(String(started['probeUrl']), String(started['url']), hostile.done, 20, certs.ca, review)
  clearInterval(watch)
  hostile.stop()
  t.same(probes.filter((s) => s !== 200), [], `${probes.length} probes, all answered 200`)
  t.same(reviews.filter((s) => s !== 200), [], `${reviews.length} reviews on new connections, all answered 200`)
  t.equal(serve.child.exitCode, null, 'the replica is still running')
  const peak = peakRssMiB(serve.child.pid!)
  t.ok(peak < MEMORY_LIMIT_MIB, `peak RSS ${peak} MiB, under the shipped ${MEMORY_LIMIT_MIB} MiB limit`)
  t.ok(hostile.opened() >= 500, `the attacker opened ${hostile.opened()} connections (of ${IDLE + STALLED} within ${FOR_MS / 1000} s), up to ${peakHeld} held at once`)
})
