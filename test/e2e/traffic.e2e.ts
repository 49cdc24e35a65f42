// The traffic-path rules against a real kube-apiserver v1.20: Ingresses (networking.k8s.io/v1), Gateway
// API HTTPRoutes from the real CRDs in ../shared/crds (installed while hitless runs: its cache must go
// from "no such resource" to watching them), Service updates and deletions seen from both sides, and
// Nodes created by hand for requests-fit-nodes. v1.20 refuses the HTTPRoute CRD as shipped (its schema
// has `default: ""`, which this server rejects; ../shared/crds/README.md), so the test drops those lines
// in memory when installing it; the shared file is never edited.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { derivedWebhooks, httpsGet, TestCluster, waitFor } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()

const webhooks = derivedWebhooks(cluster, ['validating'])
const apply = (yaml: string) => cluster.kubectl(['apply', '-f', '-'], yaml)
const dryRunDenied = (yaml: string) => cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], yaml).status !== 0
const crd = (file: string) => readFileSync(new URL(`../../../shared/crds/${file}`, import.meta.url), 'utf8')

const container = '{name: web, image: nginx, ports: [{name: http, containerPort: 8080}], readinessProbe: {tcpSocket: {port: 8080}}, lifecycle: {preStop: {exec: {command: [sleep, "5"]}}}}'
const workload = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: edge}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [${container}]}
`
const service = (ports: string) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: edge}
spec: {selector: {app: web}, ports: ${ports}}
`
const ingress = (port: number) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: edge}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: ${port}}}}}
`
const route = (port: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: edge}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: web, port: ${port}}]
`

t.before(async () => {
  cluster.kubectl(['create', 'namespace', 'edge'])
  cluster.kubectl(['label', 'namespace', 'kube-system', 'hitless.dev/ignore=true'])
  const applied = apply(webhooks)
  if (applied.status !== 0) throw new Error(`registering the webhook failed: ${applied.stderr}`)
  for (const yaml of [workload, service('[{name: http, port: 80, targetPort: http}, {name: admin, port: 9000, targetPort: http}]')]) {
    const result = apply(yaml)
    if (result.status !== 0) throw new Error(`setting up: ${result.stderr}`)
  }
})

t.test('ingress-backend: an Ingress UPDATE to a port its Service lacks is denied; a Service UPDATE that drops a used port too', async (t) => {
  const created = apply(ingress(80))
  t.equal(created.status, 0, created.stderr)
  await waitFor('the Ingress and Service in the cache', async () => dryRunDenied(ingress(8080)))
  const wrong = apply(ingress(8080))
  t.not(wrong.status, 0, 'denied')
  t.match(wrong.stderr, /\[ingress-backend\] Ingress edge\/shop: rules\[0\]\.http\.paths\[0\] \(shop\.example\.com\/\) sends traffic to port 8080 of Service edge\/web, which has no such port \(it has 80 "http", 9000 "admin"\)/)
  const dropped = apply(service('[{name: admin, port: 9000, targetPort: http}]'))
  t.not(dropped.status, 0, 'the Service update is denied')
  t.match(dropped.stderr, /\[ingress-backend\] this change removes port 80 from Service edge\/web, which Ingress edge\/shop sends traffic to/)
})

t.test('route-backend: with the Gateway API CRD installed live, an HTTPRoute UPDATE to a missing port is denied', async (t) => {
  // v1.20 rejects `default: ""` in CRD schemas: drop those lines, in memory (../shared/crds/README.md).
  const httproutes = crd('gateway.networking.k8s.io_httproutes.yaml').split('\n').filter((line) => !/^\s*default: ""\s*$/.test(line)).join('\n')
  // kubectl 1.20 validates client-side against a schema without x-kubernetes-validations (the server drops them).
  const installed = cluster.kubectl(['apply', '--validate=false', '-f', '-'], httproutes)
  t.equal(installed.status, 0, installed.stderr)
  await waitFor('the HTTPRoute CRD served', async () => cluster.kubectl(['get', 'httproutes', '-n', 'edge']).status === 0)
  // hitless's cache found no such resource at start and looks again every 30 s.
  await waitFor('hitless watching HTTPRoutes', async () => {
    const ready = await httpsGet(`${cluster.hitlessUrl}/readyz`, cluster.ca)
    const kinds = ready.status === 200 ? (JSON.parse(ready.body).detail.cache as { kind: string; absent?: boolean; watching: boolean }[]) : []
    return kinds.some((k) => k.kind === 'HTTPRoute' && !k.absent && k.watching)
  }, 90_000)
  const created = apply(route(80))
  t.equal(created.status, 0, created.stderr)
  await waitFor('the HTTPRoute in the cache', async () => dryRunDenied(route(8080)))
  const wrong = apply(route(8080))
  t.not(wrong.status, 0, 'denied')
  t.match(wrong.stderr, /\[route-backend\] HTTPRoute edge\/shop: rules\[0\]\.backendRefs\[0\] sends traffic to port 8080 of Service edge\/web, which has no such port/)
})

t.test('a Service DELETE that orphans an Ingress is allowed, with a warning', async (t) => {
  const deleted = cluster.kubectl(['delete', 'service', 'web', '-n', 'edge'])
  t.equal(deleted.status, 0, deleted.stderr)
  t.match(deleted.stderr, /Warning: hitless \[ingress-backend\]: deleting Service edge\/web, which Ingress edge\/shop sends traffic to/)
})

t.test('requests-fit-nodes: a Deployment that requests more memory than any node has is denied', async (t) => {
  for (const [name, memory] of [['node-a', '7Gi'], ['node-b', '15Gi']]) {
    const node = `apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/hostname: ${name}}}
status: {allocatable: {cpu: "4", memory: ${memory}, pods: "110"}, capacity: {cpu: "4", memory: ${memory}, pods: "110"}}
`
    t.equal(cluster.kubectl(['create', '-f', '-'], node).status, 0, `Node ${name} created`)
  }
  const big = workload.replace('name: web, namespace: edge', 'name: big, namespace: edge').replaceAll('app: web', 'app: big').replace('readinessProbe', 'resources: {requests: {memory: 32Gi}}, readinessProbe')
  // The API server taints every new Node node.kubernetes.io/not-ready (TaintNodesByCondition): a
  // condition, not a place the pod can never go, so hitless leaves it out.
  await waitFor('the Nodes in the cache', async () => dryRunDenied(big))
  const result = apply(big)
  t.not(result.status, 0, 'denied')
  t.match(result.stderr, /\[requests-fit-nodes\] no node can run the pods of Deployment edge\/big: they request memory 32Gi .* and the largest of the 2 nodes they may run on has 15Gi allocatable/)
  const fits = apply(big.replace('memory: 32Gi', 'memory: 4Gi'))
  t.equal(fits.status, 0, fits.stderr)
})
