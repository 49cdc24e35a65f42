import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { setting } from '../../src/cli/options.ts'
import { FIXTURES } from '../helpers/objects.ts'
import { runCli, startCli } from '../helpers/cli.ts'
import { getJson, testCertificates } from '../helpers/tls.ts'

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
