import { request as httpRequest } from 'node:http'
import { Agent } from 'node:https'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../src/log/log.ts'
import { startServer } from '../src/server.ts'
import { admissionReview, decodePatch, FIXTURES, loadYaml, policyFrom } from './helpers/objects.ts'
import { postJson, testCertificates } from './helpers/tls.ts'

const certs = await testCertificates()
const captured = JSON.parse(readFileSync(new URL('admission/apiserver-v1.28-create-deployment.json', FIXTURES), 'utf8'))
const quiet = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }))

const server = await startServer({ host: '127.0.0.1', port: 0, tls: certs, policy: policyFrom(), logger: quiet })
t.teardown(() => server.close())

t.test('answers over real TLS with a CA-issued certificate', async (t) => {
  const result = await postJson(server.url, '/mutate?timeout=5s', JSON.stringify(captured), { ca: certs.ca })
  t.equal(result.statusCode, 200)
  t.match(result.protocol, /^TLSv1\.[23]$/)
  const response = JSON.parse(result.body).response
  t.equal(response.uid, captured.request.uid)
  t.same(decodePatch(response.patch), [
    { op: 'add', path: '/spec/template/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 5 } } } },
  ])
})

t.test('a client that does not trust the CA is refused', async (t) => {
  const other = await testCertificates()
  await t.rejects(postJson(server.url, '/validate', captured, { ca: other.ca }), { code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/ })
})

t.test('keep-alive: many reviews over one connection, as the API server sends them', async (t) => {
  let connections = 0
  const count = () => connections++
  server.app.server.on('secureConnection', count)
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: certs.ca })
  const object = loadYaml('readiness-probe/fires-deployment-no-probe.yaml')
  for (let i = 0; i < 20; i++) {
    const result = await postJson(server.url, '/validate?timeout=5s', admissionReview(object, { uid: `k${i}` }), { ca: certs.ca, agent })
    t.equal(JSON.parse(result.body).response.uid, `k${i}`)
  }
  agent.destroy()
  server.app.server.off('secureConnection', count)
  t.equal(connections, 1)
})

t.test('concurrent reviews each get their own answer', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: certs.ca })
  const results = await Promise.all(
    Array.from({ length: 64 }, (_, i) => {
      const body = structuredClone(captured)
      body.request.uid = `c${i}`
      return postJson(server.url, i % 2 ? '/validate' : '/mutate', body, { ca: certs.ca, agent })
    }),
  )
  agent.destroy()
  t.same(results.map((r) => JSON.parse(r.body).response.uid), Array.from({ length: 64 }, (_, i) => `c${i}`))
  t.same(results.map((r) => JSON.parse(r.body).response.allowed), Array.from({ length: 64 }, (_, i) => i % 2 === 0))
})

t.test('the admission port never speaks plain HTTP', async (t) => {
  const port = new URL(server.url).port
  const outcome = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', method: 'GET' }, (res) => resolve(`status ${res.statusCode}`))
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    req.end()
  })
  t.notMatch(outcome, /^status 200/, `plain HTTP got: ${outcome}`)
})
