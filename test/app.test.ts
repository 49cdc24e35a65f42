import { readFileSync } from 'node:fs'
import t from 'tap'
import fastJsonPatch from 'fast-json-patch'
import { testApp } from './helpers/app.ts'
import { admissionReview, decodePatch, FIXTURES, loadYaml } from './helpers/objects.ts'

const captured = JSON.parse(readFileSync(new URL('admission/apiserver-v1.28-create-deployment.json', FIXTURES), 'utf8'))
const json = { 'content-type': 'application/json' }

t.test('a review captured from kube-apiserver v1.28', async (t) => {
  const { app, lines } = testApp()
  const mutate = await app.inject({ method: 'POST', url: '/mutate?timeout=5s', headers: json, payload: captured })
  t.equal(mutate.statusCode, 200)
  const mutated = mutate.json()
  t.equal(mutated.apiVersion, 'admission.k8s.io/v1')
  t.equal(mutated.kind, 'AdmissionReview')
  t.match(mutated.response, { uid: captured.request.uid, allowed: true, patchType: 'JSONPatch' })
  t.same(mutated.response.warnings, ['hitless [pre-stop]: added a 5s preStop sleep to container "web"'])
  const patched = fastJsonPatch.applyPatch(structuredClone(captured.request.object), decodePatch(mutated.response.patch), true, false).newDocument
  t.same(patched.spec.template.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } })

  const validate = await app.inject({ method: 'POST', url: '/validate?timeout=5s', headers: json, payload: captured })
  const denied = validate.json().response
  t.match(denied, { uid: captured.request.uid, allowed: false, status: { code: 403 } })
  t.notOk(denied.patch, '/validate never patches')
  const message: string = denied.status.message
  t.match(message, /^hitless: Deployment default\/demo2 has 2 problems/, 'names the object')
  t.match(message, /\[readiness-probe\] container "web" has no readinessProbe/, 'names rule and container')
  t.match(message, /\[pre-stop\] container "web" has no preStop hook/, 'reports every finding')
  t.match(message, /fix:\n\s+spec:\n\s+template:\n\s+spec:\n\s+containers:\n\s+- name: web\n\s+readinessProbe:/, 'shows the fix as YAML')

  const afterMutation = structuredClone(captured)
  afterMutation.request.object = patched
  const again = await app.inject({ method: 'POST', url: '/mutate', headers: json, payload: afterMutation })
  t.notOk(again.json().response.patch, 'reinvocation on the patched object patches nothing')

  const decision = lines.find((l) => l['msg'] === 'admission decision' && l['endpoint'] === 'validate')
  t.match(decision, {
    level: 30,
    uid: captured.request.uid,
    operation: 'CREATE',
    kind: 'Deployment',
    namespace: 'default',
    name: 'demo2',
    user: 'admin',
    dryRun: false,
    decision: 'deny',
    rules: [
      { rule: 'readiness-probe', action: 'deny', container: 'web' },
      { rule: 'pre-stop', action: 'mutate', container: 'web' },
    ],
  })
  t.type(decision?.['latencyMs'], 'number')
  t.equal(lines.filter((l) => l['msg'] === 'admission decision').length, 3, 'one line per decision, no request noise')
})

t.test('a good object is allowed untouched on both endpoints', async (t) => {
  const { app } = testApp()
  const object = loadYaml('readiness-probe/passes-has-probe.yaml') as any
  object.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 5 } } }
  for (const url of ['/mutate', '/validate']) {
    const response = (await app.inject({ method: 'POST', url, headers: json, payload: admissionReview(object, { uid: 'ok' }) })).json().response
    t.same(response, { uid: 'ok', allowed: true }, url)
  }
})

t.test('bad input gets a clear 4xx answer, never a crash or a 5xx', async (t) => {
  const { app, lines } = testApp({ bodyLimit: 64 * 1024 })
  const post = (payload: string | object, headers: Record<string, string> = json, url = '/validate') =>
    app.inject({ method: 'POST', url, headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
  const deployment = loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml') as any

  const malformed = await post('{"apiVersion": ')
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json(), { error: /^malformed JSON/ })

  t.same((await post('[]')).json(), { error: 'body is not an AdmissionReview: expected a JSON object' })
  t.equal((await post('"text"')).statusCode, 400)
  t.same((await post('', { 'content-type': 'application/json' })).json(), { error: 'body is empty: expected an AdmissionReview' })

  const noUid = admissionReview(deployment) as any
  delete noUid.request.uid
  const missingUid = await post(noUid)
  t.equal(missingUid.statusCode, 400)
  t.same(missingUid.json(), { error: 'request.uid is missing' })

  const beta = { ...admissionReview(deployment, { uid: 'b1' }), apiVersion: 'admission.k8s.io/v1beta1' }
  const betaAnswer = await post(beta)
  t.equal(betaAnswer.statusCode, 200)
  t.equal(betaAnswer.json().apiVersion, 'admission.k8s.io/v1beta1', 'a v1beta1 review is answered in v1beta1')
  t.match(betaAnswer.json().response, { uid: 'b1', allowed: false, status: { code: 403, message: /\[pre-stop\] container "web" has no preStop hook/ } }, 'and judged like a v1 one')
  const future = { ...admissionReview(deployment, { uid: 'f1' }), apiVersion: 'admission.k8s.io/v2' }
  t.match((await post(future)).json().response, { uid: 'f1', allowed: false, status: { code: 400, message: /unsupported apiVersion/ } }, 'an unknown version is refused clearly')

  const wrongTypes = structuredClone(deployment)
  wrongTypes.spec.template.spec.containers = 'web'
  t.match((await post(admissionReview(wrongTypes, { uid: 'w1' }))).json().response, {
    uid: 'w1',
    allowed: false,
    status: { code: 400, message: 'hitless: bad request: object.spec.template.spec.containers must be array,null' },
  })
  const wrongPort = structuredClone(deployment)
  wrongPort.spec.template.spec.containers[0].ports[0].containerPort = '80'
  t.match((await post(admissionReview(wrongPort, { uid: 'w2' }), json, '/mutate')).json().response.status, {
    message: /containers\[0\]\.ports\[0\]\.containerPort must be integer/,
  })

  const badPdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p', namespace: 'shop' }, spec: { selector: { matchExpressions: 'app' } } }
  t.match((await post(admissionReview(badPdb, { uid: 'p1' }))).json().response, { uid: 'p1', allowed: false, status: { code: 400, message: 'hitless: bad request: object.spec.selector.matchExpressions must be array,null' } }, 'a PDB is checked as deeply as hitless reads it')
  const badHpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'shop' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: '2', maxReplicas: 3 } }
  t.match((await post(admissionReview(badHpa, { uid: 'h1' }))).json().response.status, { code: 400, message: /spec\.minReplicas must be integer/ }, 'and so is an HPA')

  const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { containers: 'anything' } }
  t.same((await post(admissionReview(unknown, { uid: 'k1' }))).json().response, { uid: 'k1', allowed: true }, 'unknown kinds are allowed untouched')

  const big = admissionReview({ ...deployment, metadata: { ...deployment.metadata, annotations: { big: 'x'.repeat(70 * 1024) } } })
  const tooLarge = await post(big)
  t.equal(tooLarge.statusCode, 413)
  t.match(tooLarge.json(), { error: 'body is larger than 65536 bytes' })

  const text = await post(JSON.stringify(admissionReview(deployment)), { 'content-type': 'text/plain' })
  t.equal(text.statusCode, 415)
  t.same(text.json(), { error: 'Content-Type must be application/json' })

  const proto = await post('{"__proto__": {"allowed": true}, "kind": "AdmissionReview"}')
  t.equal(proto.statusCode, 400, 'prototype poisoning is refused')
  // Spelled with escapes too; each body is a whole review that would otherwise be judged and answered 200.
  const review = JSON.stringify(admissionReview(deployment, { uid: 'p2' }))
  for (const [key, value] of [['\\u005f_proto__', '{"x":1}'], ['__proto__', '{"x":1}'], ['constructor', '{"prototype":{"x":1}}'], ['c\\u006fnstructor', '{"prototype":{"x":1}}']]) {
    const poisoned = await post(review.replace('"metadata":{', `"metadata":{"${key}":${value},`))
    t.equal(poisoned.statusCode, 400, `a "${key}" key is refused`)
    t.match(poisoned.json(), { error: /^malformed JSON/ })
  }
  const escaped = structuredClone(deployment)
  escaped.metadata.annotations = { note: 'a <b> & constructor' }
  const withEscapes = JSON.stringify(admissionReview(escaped, { uid: 'e1' })).replaceAll('<', '\\u003c').replaceAll('&', '\\u0026')
  t.match((await post(withEscapes)).json().response, { uid: 'e1' }, 'escapes and the word in values are reviews like any other')

  const wrongMethod = await app.inject({ method: 'GET', url: '/validate' })
  t.equal(wrongMethod.statusCode, 404)
  t.same(wrongMethod.json(), { error: 'no route for GET /validate' })

  t.ok(lines.some((l) => l['decision'] === 'bad-request' && l['uid'] === 'w1'), 'bad requests are logged with their uid')
  t.notOk(lines.some((l) => (l['level'] as number) >= 50), 'nothing was logged as an error')
})

t.test('scale and status subresources, DELETE and controller-owned pods pass untouched', async (t) => {
  const { app, lines } = testApp()
  const deployment = loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml')
  const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 5 } }
  const reviews = [
    admissionReview(scale, { subResource: 'scale', operation: 'UPDATE', oldObject: scale }),
    admissionReview(deployment, { subResource: 'status', operation: 'UPDATE', oldObject: deployment }),
    admissionReview(null, { operation: 'DELETE', oldObject: deployment }),
    admissionReview(loadYaml('readiness-probe/passes-controller-owned-pod.yaml'), { user: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] } }),
  ]
  for (const review of reviews) {
    for (const url of ['/mutate', '/validate']) {
      const response = (await app.inject({ method: 'POST', url, headers: json, payload: review })).json().response
      t.same(response, { uid: review.request.uid, allowed: true })
    }
  }
  t.same(
    [...new Set(lines.map((l) => l['skipped']))],
    ['subresource scale', 'subresource status', 'operation DELETE', 'controlled by ReplicaSet/web-7d9f8'],
    'the log says why each was skipped',
  )
  // Anyone can write an ownerReference: a person's Pod that claims a controller is judged all the same.
  const claimed = admissionReview(loadYaml('readiness-probe/passes-controller-owned-pod.yaml'))
  const answer = (await app.inject({ method: 'POST', url: '/validate', headers: json, payload: claimed })).json().response
  t.equal(answer.allowed, false, 'alice claiming a ReplicaSet owner is judged')
})

t.test('health and readiness', async (t) => {
  const { app } = testApp()
  t.same((await app.inject({ method: 'GET', url: '/healthz' })).json(), { ok: true })
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  const notReady = testApp({ readiness: () => ({ ready: false, reasons: ['config not loaded'] }) }).app
  const answer = await notReady.inject({ method: 'GET', url: '/readyz' })
  t.equal(answer.statusCode, 503)
  t.same(answer.json(), { ready: false, reasons: ['config not loaded'] })
})

t.test('many warnings are capped and clipped', async (t) => {
  const { app } = testApp({ config: 'rules: {readiness-probe: {action: warn}, pre-stop: {action: warn}}' })
  const object = loadYaml('readiness-probe/fires-deployment-no-probe.yaml') as any
  const container = object.spec.template.spec.containers[0]
  object.spec.template.spec.containers = Array.from({ length: 20 }, (_, i) => ({ ...container, name: `c${i}-${'n'.repeat(150)}`, lifecycle: undefined }))
  const response = (await app.inject({ method: 'POST', url: '/validate', headers: json, payload: admissionReview(object) })).json().response
  t.equal(response.allowed, true)
  t.equal(response.warnings.length, 12)
  t.ok(response.warnings.every((w: string) => w.length <= 160))
  t.equal(response.warnings.at(-1), 'hitless: 29 more findings not shown')
})
