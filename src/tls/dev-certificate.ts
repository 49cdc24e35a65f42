// The development certificate `hitless serve` uses when no --tls-cert/--tls-key is given, so
// `npm ci && npm start` serves HTTPS on a fresh machine. Kept under .hitless/ and reused while valid.
import { X509Certificate } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createCertificateAuthority, issueServingCertificate } from './certificates.ts'

export interface DevCertificate {
  cert: string
  key: string
  caPath: string
  certPath: string
  keyPath: string
  created: boolean
}

const DEV_NAMES = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }
const RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000

async function reusable(certPath: string, keyPath: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')])
    const parsed = new X509Certificate(cert)
    const fresh = Date.parse(parsed.validTo) - Date.now() > RENEW_BEFORE_MS
    return fresh && parsed.checkHost('localhost') && parsed.checkIP('127.0.0.1') ? { cert, key } : undefined
  } catch {
    return undefined
  }
}

export async function ensureDevCertificate(dir: string): Promise<DevCertificate> {
  const paths = { caPath: join(dir, 'ca.crt'), certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') }
  const existing = await reusable(paths.certPath, paths.keyPath)
  if (existing) return { ...existing, ...paths, created: false }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const ca = await createCertificateAuthority('hitless development CA')
  const serving = await issueServingCertificate(ca, DEV_NAMES)
  await writeFile(paths.caPath, ca.cert)
  await writeFile(paths.certPath, serving.cert)
  await writeFile(paths.keyPath, serving.key, { mode: 0o600 })
  return { ...serving, ...paths, created: true }
}
