// What "serving" means (src/rules/serving.ts), through audits of small manifest sets and the webhook.
import t from 'tap'
import { parseManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { storeFrom } from '../../src/cluster/ingest.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
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

// Issue 26: "serving" is about the ports clients use.
const webhook = (objects: string, rule = 'readiness-probe') => {
  const all = parseManifests(objects, 'set.yaml').manifests.map(({ object }) => ({ ...object, metadata: { namespace: 'shop', ...object.metadata } }))
  const workload = all.find((o) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(o.kind!))!
  return evaluate(reviewOf(workload), buildPolicy(configFrom(), { cluster: storeFrom(all) })).findings.filter((f) => f.rule === rule)
}
const auditAll = (text: string, rule = 'readiness-probe') =>
  auditManifests(parseManifests(text, 'set.yaml').manifests, configFrom(), { defaultNamespace: 'shop' }).findings.filter((f) => f.rule === rule)

const exporter = (sidecar: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter}
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      containers:
      - {name: node-exporter, image: ne, args: [--web.listen-address=127.0.0.1:9100]}
      - {name: ${sidecar}, image: proxy, ports: [{name: https, containerPort: 9100}]}
---
apiVersion: v1
kind: Service
metadata: {name: node-exporter}
spec: {selector: {app: node-exporter}, ports: [{name: https, port: 9100, targetPort: https}]}
`

t.test('a Service that targets only a sidecar’s port makes that sidecar serving, not its neighbours', async (t) => {
  for (const run of [auditAll, webhook]) {
    t.same(run(exporter('kube-rbac-proxy')), [], 'the sidecar is kube-rbac-proxy (ignored): nothing is serving, the main container least of all')
    t.same(run(exporter('kube-rbac-proxy'), 'pre-stop'), [], 'no preStop patch for the main container either')
    const found = run(exporter('auth-proxy'))
    t.same(found.map((f) => f.container), ['auth-proxy'], 'a sidecar not ignored: only it')
    t.equal(found[0]!.because, 'serving: Service shop/node-exporter targets its port https')
  }
})

const controller = (service: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: controller}
spec:
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      containers:
      - {name: manager, image: m, ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9090}]}
---
apiVersion: v1
kind: Service
${service}
${extra}`

t.test('metrics-only Services make nothing serving: by port name', async (t) => {
  for (const name of ['metrics', 'http-metrics', 'https-metrics']) {
    const set = controller(`metadata: {name: controller-metrics}\nspec: {selector: {app: controller}, ports: [{name: ${name}, port: 8443, targetPort: 8080}]}`)
    t.same(auditAll(set), [], `Service port ${name} (audit)`)
    t.same(webhook(set), [], `Service port ${name} (webhook)`)
  }
  const targetName = controller(`metadata: {name: controller}\nspec: {selector: {app: controller}, ports: [{port: 80, targetPort: http-metrics}]}`).replace('name: http, containerPort: 8080', 'name: http-metrics, containerPort: 8080')
  t.same(auditAll(targetName), [], 'the container port it targets is named for metrics')
})

t.test('metrics-only Services make nothing serving: by ServiceMonitor', async (t) => {
  const service = `metadata: {name: controller, labels: {app: controller}}\nspec: {selector: {app: controller}, ports: [{name: https, port: 8443, targetPort: 8080}]}`
  const monitor = (namespace: string) => `---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: controller, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: controller}}
  namespaceSelector: {matchNames: [shop]}
  endpoints: [{port: https, scheme: https}]
`
  t.same(auditAll(controller(service, monitor('shop'))), [], 'in the Service’s namespace')
  t.same(auditAll(controller(service, monitor('monitoring'))), [], 'from another namespace, naming this one')
  t.same(webhook(controller(service, monitor('monitoring'))), [], 'the webhook reads it from its cache')
  const found = auditAll(controller(service))
  t.equal(found[0]?.because, 'serving: Service shop/controller targets its port 8080', 'without the ServiceMonitor: a client port')
  const ingress = `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: controller}
spec: {defaultBackend: {service: {name: controller, port: {number: 8443}}}}
`
  t.equal(auditAll(controller(service, monitor('shop') + ingress))[0]?.because, 'serving: Service shop/controller targets its port 8080', 'an Ingress sends it clients: serving, scraped or not')
})

t.test('metrics-only Services make nothing serving: by PodMonitor', async (t) => {
  const set = controller(
    `metadata: {name: controller}\nspec: {selector: {app: controller}, ports: [{name: web, port: 80, targetPort: admin}]}`,
    `---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: controller}
spec: {selector: {matchLabels: {app: controller}}, podMetricsEndpoints: [{port: admin}]}
`,
  )
  t.same(auditAll(set), [])
  t.same(webhook(set), [])
})

t.test('metrics-only Services make nothing serving: by the Service’s Prometheus scrape annotation', async (t) => {
  const annotated = (port: string) => controller(`metadata: {name: controller, annotations: {prometheus.io/scrape: "true"${port}}}\nspec: {selector: {app: controller}, ports: [{name: http, port: 80, targetPort: 8080}]}`)
  t.same(auditAll(annotated('')), [], 'no prometheus.io/port: every port is scraped')
  t.same(auditAll(annotated(', prometheus.io/port: "8080"')), [], 'the port it names')
  t.equal(auditAll(annotated(', prometheus.io/port: "9090"'))[0]?.because, 'serving: Service shop/controller targets its port 8080', 'another port is scraped: this one has clients')
  const podAnnotated = controller(`metadata: {name: controller}\nspec: {selector: {app: controller}, ports: [{name: http, port: 80, targetPort: http}]}`).replace(
    'metadata: {labels: {app: controller}}',
    'metadata: {labels: {app: controller}, annotations: {prometheus.io/scrape: "true", prometheus.io/port: "8080"}}',
  )
  t.equal(auditAll(podAnnotated)[0]?.because, 'serving: Service shop/controller targets its port http', 'pod annotations are no evidence about the Service (Prometheus scrapes the pods without it)')
})

t.test('a Service with a client port and a metrics port: only the client port makes a container serving', async (t) => {
  const set = controller(`metadata: {name: controller}\nspec: {selector: {app: controller}, ports: [{name: metrics, port: 8080, targetPort: 8080}, {name: grpc, port: 9666, targetPort: 9666}]}`)
  t.equal(auditAll(set)[0]?.because, 'serving: Service shop/controller selects its pods', 'the client port targets no declared port: any regular container may be the one')
})

const database = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-headless
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: postgres, image: pg, ports: [{name: postgres, containerPort: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
`

t.test('files that lack a Service they name do not show every Service of the namespace: declared ports decide', async (t) => {
  const found = auditAll(database)
  t.same(found.map((f) => f.container), ['postgres'])
  t.equal(found[0]!.because, 'serving: it declares containerPort postgres; the files lack Service shop/db-headless that StatefulSet db names as its serviceName, so they do not hold every Service of the namespace')
  const withGoverning = database + '---\napiVersion: v1\nkind: Service\nmetadata: {name: db-headless}\nspec: {clusterIP: None, selector: {app: other}, ports: [{port: 5432}]}\n'
  t.same(auditAll(withGoverning), [], 'the governing Service is in the files (selecting other pods): nothing routes to these')
  const ingress = withGoverning + '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: front}\nspec: {defaultBackend: {service: {name: storefront, port: {number: 80}}}}\n'
  t.equal(auditAll(ingress)[0]?.because, 'serving: it declares containerPort postgres; the files lack Service shop/storefront that Ingress front sends traffic to, so they do not hold every Service of the namespace')
})

t.test('liveness-probe judges serving containers only', async (t) => {
  const probes = '{httpGet: {path: /health, port: 8080}}'
  const worker = deployment('worker', `[{name: worker, image: w, livenessProbe: ${probes}, readinessProbe: ${probes}}]`)
  t.same(auditAll(worker + '---\n' + service('web', 'web', 80), 'liveness-probe'), [], 'a worker no Service selects, in files that show the namespace’s Services')
  const found = auditAll(deployment('web', `[{name: web, image: w, ports: [{name: http, containerPort: 8080}], livenessProbe: ${probes}, readinessProbe: ${probes}}]`) + '---\n' + service('web', 'web', 'http'), 'liveness-probe')
  t.equal(found[0]?.because, 'serving: Service shop/web targets its port http')
})
