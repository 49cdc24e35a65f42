import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { RULES } from '../../src/rules/index.ts'
import { setting } from '../../src/cli/options.ts'
import { FIXTURES } from '../helpers/objects.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { testCertificates } from '../helpers/tls.ts'

function getJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }))
    }).on('error', reject)
  })
}

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

t.test('serves given TLS files and config from flags', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-tls-'))
  const certs = await testCertificates()
  await writeFile(join(dir, 'tls.crt'), certs.cert)
  await writeFile(join(dir, 'tls.key'), certs.key)
  const config = fileURLToPath(new URL('config/warn-only.yaml', FIXTURES))
  const args = ['serve', '--cluster', 'off', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--config', config]
  const server = startCli(args, (l) => l['msg'] === 'hitless is serving /mutate and /validate', { cwd: dir })
  const ready = await server.started
  t.match(ready['rules'], { 'readiness-probe': 'warn', 'pre-stop': 'warn', 'termination-grace-period': 'warn' })
  t.equal((await getJson(`${ready['url']}/healthz`, certs.ca)).status, 200)
  t.notOk(existsSync(join(dir, '.hitless')), 'no development certificate when files are given')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})

t.test('an invalid config stops serve with the JSON path and reason', async (t) => {
  const config = fileURLToPath(new URL('config/invalid-sleep.yaml', FIXTURES))
  const result = await runCli(['serve', '--cluster', 'off', '--config', config, '--port', '0', '--probe-port', '0'])
  t.equal(result.code, 1)
  t.match(result.stderr, /invalid-sleep\.yaml: invalid config:\n\s+\$\.rules\.pre-stop\.sleepSeconds: must be >= 1/)
  const viaEnv = await runCli(['serve', '--cluster', 'off', '--port', '0', '--probe-port', '0'], { env: { HITLESS_CONFIG: config } })
  t.equal(viaEnv.code, 1, 'HITLESS_CONFIG is read too')
})

t.test('usage errors exit 2', async (t) => {
  t.match(await runCli(['serve', '--cluster', 'sometimes']), { code: 2, stderr: /--cluster must be auto, on or off/ })
  t.match(await runCli(['serve', '--cluster', 'off', '--tls-cert', 'x.crt', '--port', '0', '--probe-port', '0']), { code: 2, stderr: /--tls-cert and --tls-key go together/ })
  t.match(await runCli(['serve', '--cluster', 'off', '--port', 'http']), { code: 2, stderr: /--port must be a port number/ })
})

t.test('a flag wins over its environment variable, which wins over the default', async (t) => {
  process.env['HITLESS_TEST_SETTING'] = 'from-env'
  t.equal(setting('from-flag', 'HITLESS_TEST_SETTING', 'default'), 'from-flag')
  t.equal(setting(undefined, 'HITLESS_TEST_SETTING', 'default'), 'from-env')
  process.env['HITLESS_TEST_SETTING'] = ''
  t.equal(setting(undefined, 'HITLESS_TEST_SETTING', 'default'), 'default', 'an empty variable counts as unset')
  delete process.env['HITLESS_TEST_SETTING']
})
