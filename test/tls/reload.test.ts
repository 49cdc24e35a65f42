// Certificate hot reload the way a Secret volume updates: files are links into a `..data` directory
// link that is swapped atomically. Under continuous load, no request may fail.
import { mkdir, mkdtemp, rename, symlink, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import t from 'tap'
import { createLogger } from '../../src/log/log.ts'
import { startServer } from '../../src/server.ts'
import { createCertificateAuthority, issueServingCertificate } from '../../src/tls/certificates.ts'
import { admissionReview, loadYaml, policyFrom } from '../helpers/objects.ts'

const ca = await createCertificateAuthority('reload CA', 2)
const issue = () => issueServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 2 })
const lines: Record<string, unknown>[] = []
const logger = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(...String(c).split('\n').filter(Boolean).map((l) => JSON.parse(l))), done()) }))

/** A Secret-volume-like directory: tls.crt -> ..data/tls.crt, ..data -> ..<version>. */
async function secretVolume() {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-secret-'))
  let version = 0
  const publish = async (pair: { cert: string; key: string }) => {
    const target = `..v${++version}`
    await mkdir(join(dir, target))
    await writeFile(join(dir, target, 'tls.crt'), pair.cert)
    await writeFile(join(dir, target, 'tls.key'), pair.key)
    await symlink(target, join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data'))
  }
  return { dir, publish }
}

function serialOf(url: string, agent?: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/healthz', url), { ca: ca.cert, agent: agent ?? false }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber
      res.resume()
      res.on('end', () => resolve(serial))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('a renewed certificate is served to new connections; open ones keep working; no request fails', async (t) => {
  const first = await issue()
  const volume = await secretVolume()
  await volume.publish(first)
  await symlink('..data/tls.crt', join(volume.dir, 'tls.crt'))
  await symlink('..data/tls.key', join(volume.dir, 'tls.key'))
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    tls: first,
    tlsFiles: { certPath: join(volume.dir, 'tls.crt'), keyPath: join(volume.dir, 'tls.key') },
    policy: policyFrom(),
    logger,
  })
  t.teardown(() => server.close())
  const before = await serialOf(server.url)

  // Continuous load over keep-alive connections while the certificate changes.
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca: ca.cert })
  const body = JSON.stringify(admissionReview(loadYaml('readiness-probe/passes-has-probe.yaml')))
  let ok = 0
  let failed = 0
  let running = true
  const worker = async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const req = request(new URL('/validate', server.url), { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume()
          res.on('end', () => ((res.statusCode === 200 ? ok++ : failed++), resolve()))
        })
        req.on('error', () => (failed++, resolve()))
        req.end(body)
      })
    }
  }
  const load = Promise.all([worker(), worker(), worker(), worker()])
  await new Promise((r) => setTimeout(r, 200))
  await volume.publish(await issue())
  let after = before
  for (let i = 0; i < 100 && after === before; i++) {
    await new Promise((r) => setTimeout(r, 50))
    after = await serialOf(server.url)
  }
  await new Promise((r) => setTimeout(r, 200))
  running = false
  await load
  agent.destroy()
  t.not(after, before, 'new connections get the new certificate')
  t.ok(ok > 50, `requests kept flowing (${ok})`)
  t.equal(failed, 0, 'no request failed')
  t.ok(lines.some((l) => l['msg'] === 'serving certificate reloaded'))

  const metrics = await server.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /^hitless_certificate_expiry_timestamp_seconds \d{10}$/m)
})

t.test('a bad new pair is rejected with a log line and the old one kept', async (t) => {
  const first = await issue()
  const dir = await mkdtemp(join(tmpdir(), 'hitless-tls-'))
  await writeFile(join(dir, 'tls.crt'), first.cert)
  await writeFile(join(dir, 'tls.key'), first.key)
  const server = await startServer({ host: '127.0.0.1', port: 0, tls: first, tlsFiles: { certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') }, policy: policyFrom(), logger })
  t.teardown(() => server.close())
  const serial = await serialOf(server.url)
  const other = await issue()
  await writeFile(join(dir, 'tls.crt'), other.cert) // key not updated: they no longer match
  t.equal(await server.certificates!.reload(), false)
  t.ok(lines.some((l) => l['msg'] === 'rejected the new certificate; keeping the current one' && /does not match/.test(String(l['err']))))
  t.equal(await serialOf(server.url), serial, 'still serving the old certificate')
  await writeFile(join(dir, 'tls.crt'), 'not a certificate')
  t.equal(await server.certificates!.reload(), false, 'garbage is rejected too')
  await writeFile(join(dir, 'tls.crt'), other.cert)
  await writeFile(join(dir, 'tls.key'), other.key)
  t.equal(await server.certificates!.reload(), true, 'a good pair is then taken')
})
