// `hitless serve` without TLS files: a development CA and certificate under .hitless/, made once and
// reused (split from serve.test.ts: two servers started here, so the files run side by side).
import { readFileSync, statSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { RULES } from '../../src/rules/index.ts'
import { startCli } from '../helpers/cli.ts'
import { getJson } from '../helpers/tls.ts'

t.test('without TLS files it makes a development CA and certificate under .hitless/', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'hitless-serve-'))
  const server = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--cluster', 'off'], (l) => l['msg'] === 'hitless is serving /mutate and /validate', { cwd })
  const ready = await server.started
  const notice = server.lines.find((l) => typeof l['caPath'] === 'string')!
  t.equal(notice['caPath'], join(cwd, '.hitless', 'dev-certs', 'ca.crt'), 'logs where the CA is')
  t.equal(statSync(join(cwd, '.hitless', 'dev-certs', 'tls.key')).mode & 0o777, 0o600, 'the key is private')
  const ca = readFileSync(notice['caPath'] as string, 'utf8')
  const url = (ready['url'] as string).replace('127.0.0.1', 'localhost')
  t.same(await getJson(`${url}/healthz`, ca), { status: 200, body: { ok: true } }, 'valid for localhost')
  t.same((await getJson(`${ready['url']}/readyz`, ca)).status, 200, 'and for 127.0.0.1')
  t.same(ready['rules'], Object.fromEntries(RULES.map((r) => [r.id, r.defaultAction])), 'every rule at its default action')
  t.equal(ready['cluster'], 'off')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'exits cleanly on SIGTERM')

  const again = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--cluster', 'off'], (l) => typeof l['caPath'] === 'string', { cwd })
  t.equal((await again.started)['created'], false, 'reuses a valid development certificate')
  again.child.kill('SIGTERM')
  await again.exited
})
