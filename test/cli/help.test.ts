// `hitless --help`, `--version`, each command's help, and the message under a Node too old to run it
// (split from review.test.ts: some twenty Node processes, so the two files run side by side).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { runCli } from '../helpers/cli.ts'

t.test('help and version, as CLIs do', async (t) => {
  const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
  t.match(await runCli(['--version']), { code: 0, stdout: `${version}\n` })
  t.match(await runCli(['-V']), { code: 0, stdout: `${version}\n` })
  const none = await runCli([])
  t.equal(none.code, 2, 'no arguments: usage on stderr, exit 2')
  t.match(none.stderr, /Commands:\n\s+serve/)
  t.equal(none.stdout, '')
  t.match(await runCli(['--help']), { code: 0, stdout: /Usage: hitless \[options\] \[command\]/ })
  for (const command of ['serve', 'review', 'audit', 'fix', 'export-policies']) {
    const own = await runCli([command, '--help'])
    t.equal(own.code, 0, `${command} --help`)
    t.match(own.stdout, new RegExp(`Usage: hitless ${command} `))
    t.same((await runCli(['help', command])).stdout, own.stdout, `help ${command} prints the same`)
  }
  t.match((await runCli(['serve', '--help'])).stdout, /--tls-cert <file>.*\(HITLESS_TLS_CERT\)/s)
  t.match((await runCli(['audit', '--help'])).stdout, /Exit codes: 0 nothing at or above --fail-on/)
})

t.test('under an older Node it says which Node it needs, not a stack trace', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const { BIN } = await import('../helpers/cli.ts')
  const system = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' })
  const major = Number(/^v(\d+)/.exec(system.stdout ?? '')?.[1])
  // The machine's own Node (20 here) is the older one; a machine without one has nothing to show.
  if (!(major < 24)) return void t.pass('no Node older than 24 at /usr/bin/node')
  const old = spawnSync('/usr/bin/node', [BIN, 'audit', 'x.yaml'], { encoding: 'utf8' })
  t.equal(old.status, 2)
  t.match(old.stderr, /hitless needs Node\.js 24\.12 or newer \(this is v\d+/)
  t.match(old.stderr, /npm ci/)
  t.notMatch(old.stderr, /ERR_UNKNOWN_FILE_EXTENSION|    at /)
})
