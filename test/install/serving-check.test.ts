// The serving checks on real certificates (a CA, an intermediate, a CN-only certificate from openssl),
// and their verdicts held against a real TLS client: Node's, over HTTPS on loopback, with the caBundle
// as its only CA and the webhook's host as the name it verifies. (The API server's own Go client is
// held against them in test/e2e/install-edge.e2e.ts.)
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createServer, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { chainsTo, certificatesIn, servingProblems, validityProblem, type ServingTarget } from '../../src/install/serving-check.ts'
import { servingTargets } from '../../src/install/webhook-configurations.ts'
import { createCertificateAuthority, issueServingCertificate } from '../../src/tls/certificates.ts'

const dir = await mkdtemp(join(tmpdir(), 'hitless-serving-check-'))
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

/** A certificate signed by `issuer` (files in dir), with extensions as openssl writes them. */
async function issue(name: string, issuer: string, extensions: string): Promise<{ cert: string; key: string }> {
  openssl('req', ...ec, '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
  await writeFile(join(dir, `${name}.ext`), extensions)
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`)
  return { cert: await readFile(join(dir, `${name}.crt`), 'utf8'), key: await readFile(join(dir, `${name}.key`), 'utf8') }
}

openssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=root CA', '-keyout', 'root.key', '-out', 'root.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign')
const root = await readFile(join(dir, 'root.crt'), 'utf8')
const intermediate = await issue('intermediate', 'root', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n')
const viaIntermediate = await issue('leaf', 'intermediate', 'subjectAltName=DNS:hitless.hitless-system.svc,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
const cnOnly = await issue('localhost', 'root', 'extendedKeyUsage=serverAuth\n')
const clientOnly = await issue('client', 'root', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=clientAuth\n')
const ca = await createCertificateAuthority('hitless CA', 2)
const otherCa = await createCertificateAuthority('another CA', 2)
const serving = await issueServingCertificate(ca, { dnsNames: ['hitless', 'hitless.hitless-system.svc', 'localhost'], ipAddresses: ['127.0.0.1'], days: 2 })

const service = (caBundle: string | undefined): ServingTarget => ({
  who: 'ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev',
  host: 'hitless.hitless-system.svc',
  ...(caBundle === undefined ? {} : { caBundle }),
  via: { service: { namespace: 'hitless-system', name: 'hitless' } },
})
const checks = (problems: { check: string }[]) => problems.map((p) => p.check)

t.test('a certificate for the Service name, verified by the CA in caBundle: no problem', async (t) => {
  t.same(servingProblems(serving.cert, service(ca.cert)), [])
  t.same(servingProblems(serving.cert, service(otherCa.cert + ca.cert)), [], 'a bundle holding the right CA among others')
  t.same(servingProblems(serving.cert, service(undefined)), [], 'caBundle not known: names only')
})

t.test('a certificate for another name: what the webhook calls, what the certificate names, the command', async (t) => {
  const wrong = await issueServingCertificate(ca, { dnsNames: ['hitless.default.svc'], days: 2 })
  const [problem, ...rest] = servingProblems(wrong.cert, service(ca.cert))
  t.same(rest, [])
  t.equal(problem!.check, 'certificate-name')
  t.match(problem!.message, 'ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev calls hitless.hitless-system.svc, but the serving certificate is valid only for DNS:hitless.default.svc')
  t.equal(problem!.fix, 'issue the certificate for hitless.hitless-system.svc: certs-script/generate.sh --apply --namespace hitless-system --service hitless')
})

t.test('a name only in the CN is called out: the API server reads only subjectAltName', async (t) => {
  const target: ServingTarget = { who: 'MutatingWebhookConfiguration hitless, webhook mutate.hitless.dev', host: 'localhost', caBundle: root, via: { url: 'https://localhost:8443/mutate' } }
  const [problem] = servingProblems(cnOnly.cert, target)
  t.match(problem, { check: 'certificate-name', message: /calls localhost, which the serving certificate has only as its CN; the API server reads only subjectAltName \(names: none\)/, fix: /certs-script\/generate.sh --dns localhost/ })
})

t.test('a caBundle of another CA, an empty one, and a chain through an intermediate', async (t) => {
  const [wrong] = servingProblems(serving.cert, service(otherCa.cert))
  t.match(wrong, { check: 'ca-bundle', message: /its caBundle \(CN=another CA\) does not verify the serving certificate \(issued by CN=hitless CA\)/, fix: /certs-script\/generate.sh --apply .*cert-manager.io\/inject-ca-from/ })
  t.match(servingProblems(serving.cert, service('')), [{ check: 'ca-bundle', message: /has no caBundle, and the serving certificate \(issued by CN=hitless CA\) is not from a public CA/ }])
  const chain = viaIntermediate.cert + intermediate.cert
  t.same(servingProblems(chain, service(root)), [], 'leaf + intermediate sent, root in caBundle')
  t.same(servingProblems(viaIntermediate.cert, service(intermediate.cert)), [], 'the intermediate itself as the anchor')
  t.same(checks(servingProblems(viaIntermediate.cert, service(root))), ['ca-bundle'], 'the intermediate not sent: no path to the root')
  t.ok(chainsTo(certificatesIn(serving.cert), certificatesIn(serving.cert)), 'a self-signed-style bundle holding the leaf itself')
})

t.test('a certificate without serverAuth', async (t) => {
  t.same(checks(servingProblems(clientOnly.cert, { who: 'w', host: 'localhost', caBundle: root, via: { url: 'https://localhost/' } })), ['certificate-usage'])
})

t.test('validity: expired and not yet valid', async (t) => {
  const notAfter = new X509Certificate(serving.cert).validToDate
  t.equal(validityProblem(serving.cert, new Date()), undefined)
  t.match(validityProblem(serving.cert, new Date(notAfter.getTime() + 1000)), /^the serving certificate expired at /)
  t.match(validityProblem(serving.cert, new Date(Date.now() - 3600_000)), /^the serving certificate is not valid before /)
})

t.test('targets from webhook configurations as the API server stores them', async (t) => {
  const bundle = Buffer.from(ca.cert).toString('base64')
  const targets = servingTargets('ValidatingWebhookConfiguration', {
    metadata: { name: 'hitless' },
    webhooks: [
      { name: 'validate.hitless.dev', clientConfig: { service: { name: 'hitless', namespace: 'hitless-system', path: '/validate' }, caBundle: bundle } },
      { name: 'url.hitless.dev', clientConfig: { url: 'https://[::1]:8443/validate' } },
    ],
  } as never)
  t.same(targets, [
    { who: 'ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev', host: 'hitless.hitless-system.svc', caBundle: ca.cert, via: { service: { namespace: 'hitless-system', name: 'hitless' } } },
    { who: 'ValidatingWebhookConfiguration hitless, webhook url.hitless.dev', host: '::1', caBundle: '', via: { url: 'https://[::1]:8443/validate' } },
  ])
})

/** Whether Node's TLS client, trusting only `caBundle` and verifying `servername`, accepts the server. */
async function accepted(chain: string, key: string, caBundle: string, host: string): Promise<boolean> {
  const server = createServer({ cert: chain, key }, (_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  try {
    return await new Promise<boolean>((resolve) => {
      const options = { host: '127.0.0.1', port, path: '/', ca: caBundle, ...(host === '127.0.0.1' ? {} : { servername: host }), agent: false as const }
      const req = request(options, (res) => (res.resume(), resolve(true)))
      req.on('error', () => resolve(false))
      req.end()
    })
  } finally {
    server.close()
  }
}

// Not the CN-only certificate: Node's client still falls back to the CN, Go's (the API server's) does
// not since Go 1.15; the e2e holds that case against the API server itself.
t.test("the verdicts agree with a real TLS client's", async (t) => {
  const cases: [string, string, string, string, string][] = [
    ['right CA, right name', serving.cert, serving.key, ca.cert, 'localhost'],
    ['right CA, an IP', serving.cert, serving.key, ca.cert, '127.0.0.1'],
    ['other CA', serving.cert, serving.key, otherCa.cert, 'localhost'],
    ['wrong name', serving.cert, serving.key, ca.cert, 'hitless.example'],
    ['via intermediate', viaIntermediate.cert + intermediate.cert, viaIntermediate.key, root, 'localhost'],
    ['intermediate not sent', viaIntermediate.cert, viaIntermediate.key, root, 'localhost'],
  ]
  for (const [what, chain, key, caBundle, host] of cases) {
    const ours = servingProblems(chain, { who: what, host, caBundle, via: { url: `https://${host}/` } }).length === 0
    t.equal(ours, await accepted(chain, key, caBundle, host), what)
  }
})
