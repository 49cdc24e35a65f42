// The TLS hitless offers, probed as a scanner would: TLS 1.2 and 1.3 only; on 1.2 only ECDHE key
// exchange with AEAD ciphers, with an ECDSA and with an RSA key (with RSA, static-RSA suites would
// otherwise be offered); the same after a certificate reload.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { connect, type SecureVersion } from 'node:tls'
import t from 'tap'
import { createLogger } from '../../src/log/log.ts'
import { startServer } from '../../src/server.ts'
import { policyFrom } from '../helpers/objects.ts'
import { testCertificates } from '../helpers/tls.ts'

const quiet = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }))

function handshake(port: number, options: { ciphers?: string; minVersion?: SecureVersion; maxVersion?: SecureVersion }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options })
    socket.once('secureConnect', () => {
      const cipher = socket.getCipher().name
      socket.end()
      resolve(cipher)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code ?? error.message}`))
  })
}

async function rsaPair(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-rsa-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
  return { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') }
}

const weak = [
  ['AES128-SHA', 'static RSA, CBC, SHA-1'],
  ['AES256-GCM-SHA384', 'static RSA key exchange (no forward secrecy)'],
  ['ECDHE-RSA-AES128-SHA', 'CBC with SHA-1'],
  ['ECDHE-ECDSA-AES128-SHA256', 'CBC'],
  ['ECDHE-RSA-AES256-SHA384', 'CBC'],
] as const

for (const [name, pair] of [['ECDSA', () => testCertificates()], ['RSA', rsaPair]] as const) {
  t.test(`${name} key: only ECDHE with AEAD on TLS 1.2, and TLS 1.3`, async (t) => {
    const tls = await pair()
    const server = await startServer({ host: '127.0.0.1', port: 0, tls: { cert: tls.cert, key: tls.key }, policy: policyFrom(), logger: quiet })
    t.teardown(() => server.close())
    const port = Number(new URL(server.url).port)
    for (const [cipher, why] of weak) {
      t.match(await handshake(port, { ciphers: cipher, maxVersion: 'TLSv1.2' }), /^refused/, `${cipher} (${why}) is refused`)
    }
    t.match(await handshake(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), /^refused/, 'TLS 1.1 is refused')
    const tls12 = await handshake(port, { maxVersion: 'TLSv1.2' })
    t.match(tls12, /^ECDHE-(RSA|ECDSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/, `TLS 1.2 negotiates ${tls12}`)
    t.match(await handshake(port, { minVersion: 'TLSv1.3' }), /^TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$/, 'TLS 1.3 works')
  })
}
