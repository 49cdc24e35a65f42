// What "serving" means (src/rules/serving.ts), through audits of small manifest sets and the webhook.
import t from 'tap'
import { parseManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { configFrom, policyFrom, reviewOf } from '../helpers/objects.ts'

const deployment = (name: string, containers: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: ${containers}
`
const service = (name: string, selector: string, targetPort: string | number) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {selector: {app: ${selector}}, ports: [{port: 80, targetPort: ${targetPort}}]}
`
const audit = (...docs: string[]) =>
  auditManifests(parseManifests(docs.join('---\n'), 'set.yaml').manifests, configFrom(), { defaultNamespace: 'shop' }).findings.filter((f) => f.rule === 'readiness-probe')

t.test('a Service that targets a container port makes that container serving, and says so', async (t) => {
  const found = audit(deployment('web', '[{name: web, image: web, ports: [{name: http, containerPort: 8080}]}, {name: exporter, image: exp, ports: [{name: metrics, containerPort: 9100}]}]'), service('web', 'web', 'http'))
  t.same(found.map((f) => f.container), ['web'], 'the exporter beside it is not serving')
  t.equal(found[0]!.because, 'serving: Service shop/web targets its port http')
})

t.test('a Service that selects the pods but targets no declared port: any regular container may serve', async (t) => {
  const found = audit(deployment('web', '[{name: web, image: web}]'), service('web', 'web', 8080))
  t.same(found.map((f) => f.container), ['web'])
  t.equal(found[0]!.because, 'serving: Service shop/web selects its pods')
})

t.test('files that show the namespace’s Services, none of which selects the pods: nothing serves', async (t) => {
  t.same(audit(deployment('loadgen', '[{name: loadgen, image: locust, ports: [{containerPort: 8089}]}]'), deployment('web', '[{name: web, image: web, readinessProbe: {tcpSocket: {port: 80}}, ports: [{containerPort: 80}]}]'), service('web', 'web', 80)), [])
})

t.test('without Service knowledge, a declared port counts unless it is metrics or health only', async (t) => {
  t.same(audit(deployment('agent', '[{name: agent, image: a, ports: [{name: metrics, containerPort: 9100}, {name: healthz-port, containerPort: 8081}]}]')), [], 'metrics and health only')
  const found = audit(deployment('api', '[{name: api, image: a, ports: [{name: http-metrics, containerPort: 9100}, {name: grpc, containerPort: 9000}]}]'))
  t.equal(found[0]!.because, 'serving: it declares containerPort grpc')
  t.same(audit(deployment('rbac', '[{name: kube-rbac-proxy, image: p, ports: [{name: https, containerPort: 8443}]}]')), [], 'kube-rbac-proxy is ignored by default')
})

t.test('the webhook without a Service yet: declared ports decide (its Service may come next)', async (t) => {
  const object = parseManifests(deployment('web', '[{name: web, image: web, ports: [{containerPort: 80}]}]'), 'x.yaml').manifests[0]!.object
  const { findings } = evaluate(reviewOf({ ...object, metadata: { ...object.metadata, namespace: 'shop' } }), policyFrom())
  t.ok(findings.some((f) => f.rule === 'readiness-probe'))
})
