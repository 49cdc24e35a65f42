// The install checks as a running hitless shows them: real HTTPS on loopback, /readyz read by a client
// that trusts the test CA, the certificate replaced on disk the way a Secret volume is and reloaded.
// What fails readiness (a webhook configuration's name or caBundle, an expired certificate) and what
// only warns (the configured Service while no configuration is known, configurations hitless may not
// read); each problem logged once when it appears and once when it is gone.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { InstallChecks, type WebhookSource } from '../../src/install/checks.ts'
import type { ServingTarget } from '../../src/install/serving-check.ts'
import { createLogger } from '../../src/log/log.ts'
import { startServer } from '../../src/server.ts'
import { createCertificateAuthority, issueServingCertificate } from '../../src/tls/certificates.ts'
import { policyFrom } from '../helpers/objects.ts'

const ca = await createCertificateAuthority('install CA', 2)
const otherCa = await createCertificateAuthority('other CA', 2)
const forService = await issueServingCertificate(ca, { dnsNames: ['hitless.hitless-system.svc', 'localhost'], ipAddresses: ['127.0.0.1'], days: 2 })
const forElsewhere = await issueServingCertificate(ca, { dnsNames: ['hitless.default.svc', 'localhost'], ipAddresses: ['127.0.0.1'], days: 2 })

function capture() {
  const lines: Record<string, any>[] = []
  const logger = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(...String(c).split('\n').filter(Boolean).map((l) => JSON.parse(l))), done()) }))
  return { lines, logger }
}

const validating = (caBundle: string): ServingTarget => ({
  who: 'ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev',
  host: 'hitless.hitless-system.svc',
  caBundle,
  via: { service: { namespace: 'hitless-system', name: 'hitless' } },
})

/** Webhook configurations as the checks read them; the test changes them as a kubectl patch would. */
function webhookSource(targets: ServingTarget[] | undefined, problems: string[] = []) {
  const source = { name: 'hitless', targets: () => targets, problems: () => problems, state: () => ({ name: 'hitless', found: [], kinds: [] }) }
  return { source: source as WebhookSource, set: (next: ServingTarget[] | undefined) => void (targets = next) }
}

async function serving(checks: InstallChecks, pair: { cert: string; key: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-install-'))
  const files = { certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') }
  await writeFile(files.certPath, pair.cert)
  await writeFile(files.keyPath, pair.key)
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    tls: pair,
    tlsFiles: files,
    policy: policyFrom(),
    logger: createLogger('silent'),
    readiness: () => checks.readiness(),
    onCertificate: (cert) => checks.setCertificate(cert),
  })
  const readyz = () =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      get(`${server.url}/readyz`, { ca: ca.cert, agent: false }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }))
      }).on('error', reject)
    })
  /** Writes a new pair and loads it (the file watcher would, a moment later). */
  const replace = async (next: { cert: string; key: string }) => {
    await writeFile(files.certPath, next.cert)
    await writeFile(files.keyPath, next.key)
    await server.certificates!.reload()
  }
  return { server, readyz, replace }
}

t.test('a certificate for another Service name fails /readyz with the fix, and passes once a right one is reloaded', async (t) => {
  const { lines, logger } = capture()
  const checks = new InstallChecks({ logger, webhooks: webhookSource([validating(ca.cert)]).source })
  const { server, readyz, replace } = await serving(checks, forElsewhere)
  t.teardown(() => server.close())
  const bad = await readyz()
  t.equal(bad.status, 503)
  t.match(bad.body.reasons, [
    'ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev calls hitless.hitless-system.svc, but the serving certificate is valid only for DNS:hitless.default.svc, DNS:localhost, IP Address:127.0.0.1; fix: issue the certificate for hitless.hitless-system.svc: certs-script/generate.sh --apply --namespace hitless-system --service hitless',
  ])
  t.match(bad.body.detail.install.problems, [{ check: 'certificate-name', failsReadiness: true }])
  checks.recheck()
  checks.recheck()
  const errors = lines.filter((l) => l['level'] === 50 && l['check'] === 'certificate-name')
  t.equal(errors.length, 1, 'logged once, not per check')
  t.match(errors[0], { who: 'ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev', fix: /certs-script/ })

  await replace(forService)
  const good = await readyz()
  t.equal(good.status, 200)
  t.same(good.body.reasons, [])
  t.ok(lines.some((l) => l['msg'] === 'install check passes now'), 'the fix is logged')
})

t.test('a caBundle that does not match fails /readyz until the webhook configuration is patched', async (t) => {
  const { logger } = capture()
  const webhooks = webhookSource([validating(otherCa.cert)])
  const checks = new InstallChecks({ logger, webhooks: webhooks.source })
  const { server, readyz } = await serving(checks, forService)
  t.teardown(() => server.close())
  const bad = await readyz()
  t.equal(bad.status, 503)
  t.match(bad.body.reasons, [/webhook validate.hitless.dev: its caBundle \(CN=other CA\) does not verify the serving certificate \(issued by CN=install CA\); fix: .*certs-script\/generate.sh --apply.*cert-manager.io\/inject-ca-from/])
  webhooks.set([validating(ca.cert)])
  checks.recheck() // what a watch event on the configuration does
  t.equal((await readyz()).status, 200)
})

t.test('the configured Service only warns while no webhook configuration is known; so do configurations hitless may not read', async (t) => {
  const { lines, logger } = capture()
  const checks = new InstallChecks({ logger, service: { namespace: 'hitless-system', name: 'hitless' }, webhooks: webhookSource([], ['RBAC: hitless may not list mutatingwebhookconfigurations.admissionregistration.k8s.io (HTTP 403); fix: …']).source })
  const { server, readyz } = await serving(checks, forElsewhere)
  t.teardown(() => server.close())
  const state = await readyz()
  t.equal(state.status, 200)
  t.match(state.body.reasons, [/^warning: Service hitless-system\/hitless calls hitless.hitless-system.svc, but the serving certificate is valid only for/, /^warning: cannot check the webhook configurations: RBAC: hitless may not list mutatingwebhookconfigurations/])
  t.equal(lines.filter((l) => l['level'] === 40).length, 2, 'each logged once as a warning')
})

t.test('an expired certificate fails /readyz', async (t) => {
  const { logger } = capture()
  const checks = new InstallChecks({ logger, now: () => new Date(Date.now() + 3 * 86400_000) })
  const { server, readyz } = await serving(checks, forService)
  t.teardown(() => server.close())
  const state = await readyz()
  t.equal(state.status, 503)
  t.match(state.body.reasons, [/^the serving certificate expired at .*; fix: renew it/])
})
