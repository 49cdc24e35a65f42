// The package as users get it: `npm pack` builds JavaScript into dist/ (Node does not strip types
// under node_modules), the tarball installs with `npm install -g` into a fresh prefix, and the installed
// `hitless` prints its version and audits a file; `npx hitless` works from the checkout.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../../', import.meta.url))
const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version as string
// The Node 24 the project pins: the installed command's `#!/usr/bin/env node` must find it first.
const env = { ...process.env, PATH: [dirname(process.execPath), process.env['PATH']].join(delimiter) }
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 })

t.test('npm pack → npm install -g → a working hitless', { timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-pack-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const tarball = npm(['pack', '--pack-destination', dir, '--silent'], root).trim().split('\n').pop()!
  const listing = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' })
  t.match(listing, /package\/dist\/src\/cli\/main\.js/, 'compiled JavaScript is shipped')
  t.match(listing, /package\/dist\/rules\/default\.yaml/, 'with the shipped policy')
  t.notMatch(listing, /package\/src\/|package\/test\//, 'sources and tests are not')
  const prefix = join(dir, 'prefix')
  npm(['install', '-g', '--prefix', prefix, join(dir, tarball), '--no-audit', '--no-fund', '--prefer-offline'], dir)
  const bin = join(prefix, 'bin', 'hitless')
  const shown = spawnSync(bin, ['--version'], { env, encoding: 'utf8' })
  t.equal(shown.stdout, `${version}\n`, 'hitless --version')
  const manifest = join(dir, 'web.yaml')
  await writeFile(manifest, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]\n')
  const audit = spawnSync(bin, ['audit', manifest, '--format', 'json'], { env, encoding: 'utf8', cwd: dir })
  t.equal(audit.status, 1, `an audit with a deny finding exits 1 (${audit.stderr})`)
  t.match(JSON.parse(audit.stdout).findings[0], { rule: 'readiness-probe', name: 'web' })
})

t.test('npx hitless works from the checkout', async (t) => {
  const shown = spawnSync('npx', ['--no-install', 'hitless', '--version'], { cwd: root, env, encoding: 'utf8' })
  t.equal(shown.stdout.trim().split('\n').pop(), version)
})
