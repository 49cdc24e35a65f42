// `hitless serve --kubeconfig` against the test API server: the real CLI wiring, the cache behind the
// Service rules, the version behind pre-stop's style, and Namespaces behind modes and exemptions.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CACHED_RESOURCES } from '../../src/contract/registry.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { startCli } from '../helpers/cli.ts'
import { FakeApiServer } from '../helpers/fake-apiserver.ts'
import { admissionReview, decodePatch } from '../helpers/objects.ts'
import { postJson, testCertificates } from '../helpers/tls.ts'

const deployment = (name: string, namespace: string, labels: Record<string, string>, extra: object = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, ...extra },
  spec: {
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 } } }] },
    },
  },
})
const service = (name: string, namespace: string, selector: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector, ports: [{ port: 80, targetPort: 'http' }] },
})

const fake = new FakeApiServer()
fake.seed([
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'staging', labels: { 'hitless.dev/mode': 'audit' } } },
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'legacy', annotations: { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'migrating', 'hitless.dev/exempt-until': new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10) } },
  },
  service('web', 'shop', { app: 'web' }),
  deployment('web', 'shop', { app: 'web' }),
])
await fake.start()
const dir = await mkdtemp(join(tmpdir(), 'hitless-serve-cluster-'))
const certs = await testCertificates()
await writeFile(join(dir, 'tls.crt'), certs.cert)
await writeFile(join(dir, 'tls.key'), certs.key)
const kubeconfig = await fake.writeKubeconfig(join(dir, 'kubeconfig'))
const server = startCli(
  ['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--kubeconfig', kubeconfig],
  (l) => l['msg'] === 'hitless is serving /mutate and /validate',
  { cwd: dir },
)
t.teardown(async () => {
  server.child.kill('SIGTERM')
  await server.exited
  await fake.stop()
})
const ready = await server.started
const url = ready['url'] as string

function readyz(): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    get(`${url}/readyz`, { ca: certs.ca }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }))
    }).on('error', reject)
  })
}
const review = async (endpoint: string, body: object) => JSON.parse((await postJson(url, `/${endpoint}?timeout=5s`, body, { ca: certs.ca })).body).response

t.test('ready once every kind has synced, with per-kind detail', async (t) => {
  t.equal(ready['cluster'], 'on')
  let state = await readyz()
  for (let i = 0; i < 100 && state.status !== 200; i++) state = await readyz()
  t.equal(state.status, 200)
  t.equal(state.body.detail.cache.length, CACHED_RESOURCES.length)
  t.ok(state.body.detail.cache.every((k: { synced: boolean }) => k.synced))
})

t.test('a relabel that orphans a live Service is denied, naming the Service', async (t) => {
  const old = deployment('web', 'shop', { app: 'web' })
  const relabelled = deployment('web', 'shop', { app: 'web-v2' })
  const response = await review('validate', admissionReview(relabelled, { operation: 'UPDATE', oldObject: old }))
  t.equal(response.allowed, false)
  t.match(response.status.message, /\[service-selector\] this change would leave Service shop\/web with no endpoints: its selector app=web no longer matches the pod labels \(app=web-v2\)/)
})

t.test('a Service created before its pods only warns; targetPort mismatches deny', async (t) => {
  const early = await review('validate', admissionReview(service('api', 'shop', { app: 'api' })))
  t.equal(early.allowed, true)
  t.match(early.warnings, [/hitless \[service-selector\]: Service shop\/api selects no pods/])
  const wrongPort = { ...service('web2', 'shop', { app: 'web' }), spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'https' }] } }
  const denied = await review('validate', admissionReview(wrongPort))
  t.match(denied.status.message, /\[service-target-port\] Service shop\/web2 port 80 targets port "https", which Deployment web does not declare/)
})

t.test('watch events reach the rules', async (t) => {
  fake.add(deployment('api', 'shop', { app: 'api' }))
  let response: any
  for (let i = 0; i < 100; i++) {
    response = await review('validate', admissionReview(service('api', 'shop', { app: 'api' })))
    if (!response.warnings) break
    await new Promise((r) => setTimeout(r, 20))
  }
  t.same(response, { uid: response.uid, allowed: true }, 'the new Deployment is seen')
})

t.test('pre-stop style auto follows the API server version (1.28: exec)', async (t) => {
  const bare = deployment('new', 'shop', { app: 'new' })
  const response = await review('mutate', admissionReview(bare))
  t.same((decodePatch(response.patch)[0] as { value: unknown }).value, { preStop: { exec: { command: ['sleep', '5'] } } })
})

t.test('namespace mode labels and namespace exemptions come from the cache', async (t) => {
  const bare = deployment('new', 'staging', { app: 'new' })
  const audit = await review('mutate', admissionReview(bare))
  t.same(audit.warnings, ['[audit] hitless [pre-stop]: would patch: container "web" has no preStop hook'])
  t.notOk(audit.patch)
  const exempt = await review('mutate', admissionReview({ ...bare, metadata: { name: 'new', namespace: 'legacy' } }))
  t.notOk(exempt.patch)
  t.match(exempt.warnings, [/hitless \[pre-stop\]: exempted for container "web" by its namespace until/])
})

t.test('an API server that accepts connections and never answers does not keep hitless from listening', async (t) => {
  const { createServer } = await import('node:net')
  const held: import('node:net').Socket[] = []
  const silent = createServer((socket) => void held.push(socket)) // accepts, reads nothing, answers nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of held) socket.destroy()
    silent.close()
  })
  const dir = await mkdtemp(join(tmpdir(), 'hitless-silent-'))
  const kubeconfig = join(dir, 'config')
  const port = (silent.address() as { port: number }).port
  await writeFile(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'silent',
    clusters: [{ name: 'silent', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'silent', context: { cluster: 'silent', user: 'u' } }],
  }))
  const serve = startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--kubeconfig', kubeconfig, '--cluster', 'on', '--shutdown-delay', '0'], (line) => line['msg'] === 'hitless is serving /mutate and /validate')
  t.teardown(() => serve.child.kill('SIGKILL'))
  const serving = await serve.started
  t.ok(serving['url'], 'listening while the API server has not said a word')
  t.notOk(serve.lines.some((l) => l['msg'] === 'API server version'), 'its version is still unknown')
  t.notOk(serve.lines.some((l) => /cannot read the API server version/.test(String(l['msg']))), 'and nobody waited for /version to time out first')
})
