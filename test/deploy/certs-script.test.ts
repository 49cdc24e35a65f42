// certs-script/generate.sh run for real in a temp dir, its output checked with openssl.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const script = fileURLToPath(new URL('../../certs-script/generate.sh', import.meta.url))
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' })
const run = (args: string[], env: Record<string, string> = {}) => spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } })

t.test('a CA and a serving certificate for the Service, private keys 600, idempotent', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'hitless-certs-'))
  const first = run(['--out', out, '--ip', '127.0.0.1', '--dns', 'hitless.local'])
  t.equal(first.status, 0, first.stderr)
  t.match(openssl('verify', '-CAfile', join(out, 'ca.crt'), join(out, 'tls.crt')), /tls\.crt: OK/, 'the chain verifies')
  const sans = openssl('x509', '-in', join(out, 'tls.crt'), '-noout', '-ext', 'subjectAltName')
  for (const name of ['DNS:hitless.hitless-system.svc', 'DNS:hitless.hitless-system.svc.cluster.local', 'DNS:hitless.local', 'IP Address:127.0.0.1']) t.match(sans, name)
  t.match(openssl('x509', '-in', join(out, 'tls.crt'), '-noout', '-ext', 'extendedKeyUsage'), /TLS Web Server Authentication/)
  for (const key of ['ca.key', 'tls.key']) t.equal((await stat(join(out, key))).mode & 0o777, 0o600, `${key} is 600`)
  const ca = await readFile(join(out, 'ca.crt'), 'utf8')
  const second = run(['--out', out])
  t.equal(second.status, 0)
  t.match(second.stdout, /reusing the CA/)
  t.equal(await readFile(join(out, 'ca.crt'), 'utf8'), ca, 'the CA (and so every caBundle) stays the same')
  t.match(openssl('verify', '-CAfile', join(out, 'ca.crt'), join(out, 'tls.crt')), /OK/)
})

t.test('--apply creates the Secret and patches caBundle into both webhook configurations', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-certs-apply-'))
  const log = join(dir, 'kubectl.log')
  // A kubectl that records its arguments and answers like a cluster with one webhook per configuration.
  await writeFile(join(dir, 'kubectl'), `#!/usr/bin/env bash\necho "$*" >> "${log}"\ncase "$1" in\n  create) echo "apiVersion: v1\\nkind: Secret" ;;\n  get) printf x ;;\n  apply) cat > /dev/null ;;\nesac\n`)
  await chmod(join(dir, 'kubectl'), 0o755)
  const result = run(['--out', join(dir, 'certs'), '--apply'], { PATH: `${dir}:${process.env['PATH']}` })
  t.equal(result.status, 0, result.stderr)
  const calls = (await readFile(log, 'utf8')).trim().split('\n')
  // create | apply run as one pipeline, so they may log in either order.
  t.ok(calls.some((c) => /^create secret generic hitless-tls --namespace hitless-system --type=kubernetes\.io\/tls --from-file=tls\.crt=.*tls\.crt --from-file=tls\.key=.*tls\.key --from-file=ca\.crt=.*ca\.crt --dry-run=client -o yaml$/.test(c)), 'renders the Secret, with ca.crt')
  t.ok(calls.includes('apply -f -'), 'and applies it')
  const bundle = Buffer.from(await readFile(join(dir, 'certs', 'ca.crt'))).toString('base64')
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const patch = calls.find((c) => c.startsWith(`patch ${kind} hitless`))
    t.ok(patch?.includes(`"path":"/webhooks/0/clientConfig/caBundle","value":"${bundle}"`), `${kind} gets the CA`)
  }
})

t.test('--help and bad options', async (t) => {
  t.match(run(['--help']), { status: 0, stdout: /Usage: certs-script\/generate\.sh/ })
  t.match(run(['--bogus']), { status: 2, stderr: /unknown option --bogus/ })
  t.match(run(['--days', 'many']), { status: 2, stderr: /--days must be a number/ })
})
