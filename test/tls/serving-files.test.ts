// TLS files hitless cannot use, as a pod gets them from a Secret that lacks a key, holds an empty value
// or a key of another certificate: one line naming the file, the Secret and the command that makes the
// pair. `hitless serve` exits 1 with that line alone: never a stack trace, never a listener without a
// certificate.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { readServingFiles } from '../../src/tls/serving-files.ts'
import { runCli } from '../helpers/cli.ts'
import { testCertificates } from '../helpers/tls.ts'

const dir = await mkdtemp(join(tmpdir(), 'hitless-tls-files-'))
const [pair, other] = [await testCertificates(), await testCertificates()]
const secret = 'hitless-system/hitless-tls'
const command = 'make the certificate and key with: certs-script/generate.sh --apply --namespace hitless-system --secret hitless-tls (or the cert-manager overlay, manifests/overlays/cert-manager)'

async function files(name: string, cert: string | undefined, key: string | undefined) {
  const at = join(dir, name)
  await mkdir(at)
  if (cert !== undefined) await writeFile(join(at, 'tls.crt'), cert)
  if (key !== undefined) await writeFile(join(at, 'tls.key'), key)
  return { certPath: join(at, 'tls.crt'), keyPath: join(at, 'tls.key') }
}

t.test('what is wrong, where it comes from, what makes it', async (t) => {
  const noCert = await files('no-cert', undefined, pair.key)
  await t.rejects(readServingFiles({ ...noCert, secret }), { name: 'ServingFilesError', message: `cannot serve: ${noCert.certPath} does not exist: TLS Secret ${secret} has no key "tls.crt"; ${command}` })
  const emptyKey = await files('empty-key', pair.cert, '\n')
  await t.rejects(readServingFiles({ ...emptyKey, secret }), { message: `cannot serve: ${emptyKey.keyPath} is empty (TLS Secret ${secret}); ${command}` })
  const mismatched = await files('mismatched', pair.cert, other.key)
  await t.rejects(readServingFiles({ ...mismatched, secret }), { message: `cannot serve: ${mismatched.keyPath} does not go with ${mismatched.certPath}: the private key does not match the certificate (TLS Secret ${secret}); ${command}` })
  const garbage = await files('garbage', 'hello', 'world')
  await t.rejects(readServingFiles({ ...garbage, secret }), { message: `cannot serve: ${garbage.certPath} holds no PEM certificate (TLS Secret ${secret}); ${command}` })
  const notKey = await files('not-key', pair.cert, pair.cert)
  await t.rejects(readServingFiles({ ...notKey, secret }), { message: new RegExp(`^cannot serve: ${notKey.keyPath} holds no PEM private key`) })
  await t.rejects(readServingFiles({ certPath: dir, keyPath: noCert.keyPath }), { message: `cannot serve: cannot read ${dir} (EISDIR); make the certificate and key with: certs-script/generate.sh --out DIR (then --tls-cert DIR/tls.crt --tls-key DIR/tls.key)` })
  const good = await files('good', pair.cert, pair.key)
  t.same(await readServingFiles({ ...good, secret }), { cert: pair.cert, key: pair.key })
})

t.test('serve exits 1 with that one line', async (t) => {
  const paths = await files('serve', undefined, pair.key)
  const result = await runCli(['serve', '--cluster', 'off', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', paths.certPath, '--tls-key', paths.keyPath], {
    env: { POD_NAMESPACE: 'hitless-system', HITLESS_TLS_SECRET: 'hitless-tls' },
  })
  t.equal(result.code, 1)
  t.equal(result.stdout, '', 'nothing was served')
  t.equal(result.stderr, `hitless serve: cannot serve: ${paths.certPath} does not exist: TLS Secret ${secret} has no key "tls.crt"; ${command}\n`)
})
