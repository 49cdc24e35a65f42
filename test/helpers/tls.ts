// A real CA and a serving certificate for 127.0.0.1/localhost, and an HTTPS client that trusts only
// that CA: tests talk TLS the way the API server does (caBundle, no insecure skip).
import { Agent, get, request } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { createCertificateAuthority, issueServingCertificate } from '../../src/tls/certificates.ts'

export async function testCertificates() {
  const ca = await createCertificateAuthority('hitless test CA', 2)
  const serving = await issueServingCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 2 })
  return { ca: ca.cert, ...serving }
}

/** GET over HTTPS trusting only `ca`; the body parsed as JSON. */
export function getJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }))
    }).on('error', reject)
  })
}

export interface PostResult {
  statusCode: number
  body: string
  protocol: string | null
}

/** POST like kube-apiserver: HTTP/1.1, compact JSON, Content-Length, ?timeout=5s on the path. */
export function postJson(url: string, path: string, body: unknown, options: { ca: string; agent?: Agent }): Promise<PostResult> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method: 'POST',
        ca: options.ca,
        ...(options.agent ? { agent: options.agent } : {}),
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const protocol = (res.socket as TLSSocket).getProtocol()
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            statusCode: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            protocol,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
