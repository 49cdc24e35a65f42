// What keeps one request from taking the replica: the structure count before JSON.parse, the body
// limit answered with a 413 the client actually receives, the in-flight budget that sheds with 503,
// the server timeouts, and no per-review retention in the shared port-list table.
import { Writable } from 'node:stream'
import t from 'tap'
import { DEFAULT_BODY_LIMIT, TIMEOUTS } from '../../src/app.ts'
import { internedSize } from '../../src/cluster/records.ts'
import { structureProblem } from '../../src/http/json-body.ts'
import { createLogger } from '../../src/log/log.ts'
import { startServer } from '../../src/server.ts'
import { testApp } from '../helpers/app.ts'
import { admissionReview, policyFrom } from '../helpers/objects.ts'
import { postJson, testCertificates } from '../helpers/tls.ts'

const json = { 'content-type': 'application/json' }
const bytes = (text: string) => Buffer.from(text)

t.test('the structure count: what JSON.parse would build, outside strings', async (t) => {
  const limits = { maxContainers: 3, maxValues: 5, maxDepth: 2 }
  t.equal(structureProblem(bytes('{"a":[1,2],"b":{}}'), limits), undefined)
  t.equal(structureProblem(bytes('[{},{},{},{}]'), limits), 'more than 3 objects and arrays')
  t.equal(structureProblem(bytes('[[[1]]]'), limits), 'nested deeper than 2')
  t.equal(structureProblem(bytes('[1,2,3,4,5,6]'), limits), 'more than 5 values')
  t.equal(structureProblem(bytes('{"s":"{{{{[[[[,,,,,,\\"{{{"}'), limits), undefined, 'brackets, commas and escaped quotes inside strings do not count')
  t.match(structureProblem(bytes(`[${'{},'.repeat(300_000)}{}]`)), /more than 250000 objects and arrays/, 'the flood of empty objects')
})

t.test('too complex, too large, no room: clear 4xx/503 answers', async (t) => {
  const { app } = testApp({ bodyLimit: 1024 * 1024 })
  const flood = await app.inject({ method: 'POST', url: '/validate', headers: json, payload: `[${'{},'.repeat(300_000)}{}]` })
  t.equal(flood.statusCode, 413)
  t.match(flood.json(), { error: /body too complex: more than 250000 objects and arrays/ })
  const large = await app.inject({ method: 'POST', url: '/validate', headers: json, payload: 'x'.repeat(1024 * 1024 + 1) })
  t.equal(large.statusCode, 413)
  const tight = testApp({ budget: { maxBytes: 100, maxRequests: 10 } }).app
  const shed = await tight.inject({ method: 'POST', url: '/validate', headers: json, payload: JSON.stringify(admissionReview(null, { operation: 'DELETE', oldObject: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'b' } } })) })
  t.equal(shed.statusCode, 503, 'a body that does not fit the in-flight budget is shed')
  t.equal(shed.headers['retry-after'], '1')
  const metrics = await tight.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /hitless_requests_refused_total\{reason="overloaded"\} 1/)
})

t.test('over real TLS, a body over the limit gets its 413, not a reset', async (t) => {
  const certs = await testCertificates()
  const server = await startServer({ host: '127.0.0.1', port: 0, tls: certs, policy: policyFrom(), logger: createLogger('silent', new Writable({ write: (_c, _e, done) => done() })) })
  t.teardown(() => server.close())
  const answer = await postJson(server.url, '/validate', 'x'.repeat(DEFAULT_BODY_LIMIT + 4096), { ca: certs.ca })
  t.equal(answer.statusCode, 413)
  t.match(answer.body, /body is larger than 6291456 bytes/)
  const http = server.app.server
  t.equal(http.keepAliveTimeout, TIMEOUTS.keepAliveMs, 'keep-alive outlasts the API server’s 90 s idle timeout')
  t.ok(TIMEOUTS.keepAliveMs > 90_000)
  t.equal(http.requestTimeout, TIMEOUTS.requestMs, 'a trickled body is dropped after the request timeout')
  t.equal(http.headersTimeout, TIMEOUTS.headersMs)
})

t.test('reviewing Services keeps nothing: port lists are shared only by the cache', async (t) => {
  const { app } = testApp()
  const before = internedSize()
  for (let i = 0; i < 2000; i++) {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}`, namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ name: `p${i}`, port: 1000 + i, targetPort: 2000 + i }] } }
    await app.inject({ method: 'POST', url: '/validate', headers: json, payload: JSON.stringify(admissionReview(service)) })
  }
  t.same(internedSize(), before, 'the table did not grow')
})

t.test('a deny for a thousand containers is a summary, not a megabyte', async (t) => {
  const { app } = testApp()
  const containers = Array.from({ length: 1000 }, (_, i) => ({ name: `c${i}`, image: 'app', ports: [{ containerPort: 8000 + i }] }))
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'wide', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'wide' } }, template: { metadata: { labels: { app: 'wide' } }, spec: { containers } } } }
  const answer = (await app.inject({ method: 'POST', url: '/validate', headers: json, payload: JSON.stringify(admissionReview(deployment)) })).json().response
  t.equal(answer.allowed, false)
  const message: string = answer.status.message
  t.ok(message.length <= 17 * 1024, `${message.length} characters`)
  t.match(message, /has 2000 problems/)
  t.match(message, /… and 19\d\d more \(readiness-probe: \d+, pre-stop: \d+\)/)
  t.match(message, /annotate the object with hitless\.dev\/exempt: readiness-probe, pre-stop, hitless\.dev\/exempt-reason/, 'the exemption hint names every denied rule')
  t.ok(answer.warnings === undefined || answer.warnings.length <= 12)
})
