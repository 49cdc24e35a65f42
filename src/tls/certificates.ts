// A small CA and serving certificates issued by it, in PEM. Used for the development certificate of
// `npm start` and by tests that need a real TLS chain; production certificates come from
// certs-script/ or cert-manager.
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const DAY_MS = 24 * 60 * 60 * 1000

export interface CertificateAuthority {
  cert: string
  key: string
  keys: webcrypto.CryptoKeyPair
  certificate: x509.X509Certificate
}

export interface ServingCertificate {
  cert: string
  key: string
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
}

async function privateKeyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey)
  return x509.PemConverter.encode(der, 'PRIVATE KEY')
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now()
  // Back-dated a little so a clock slightly behind ours still accepts it.
  return { notBefore: new Date(now - 5 * 60 * 1000), notAfter: new Date(now + days * DAY_MS) }
}

export async function createCertificateAuthority(commonName: string, days = 365): Promise<CertificateAuthority> {
  const keys = await generateKeys()
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    ...validity(days),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return { cert: certificate.toString('pem'), key: await privateKeyPem(keys), keys, certificate }
}

export interface ServingNames {
  dnsNames: string[]
  ipAddresses?: string[]
  days?: number
}

export async function issueServingCertificate(ca: CertificateAuthority, names: ServingNames): Promise<ServingCertificate> {
  const keys = await generateKeys()
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${names.dnsNames[0] ?? names.ipAddresses?.[0] ?? 'hitless'}`,
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    ...validity(names.days ?? 365),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...(names.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  })
  return { cert: certificate.toString('pem') + '\n', key: await privateKeyPem(keys) }
}
