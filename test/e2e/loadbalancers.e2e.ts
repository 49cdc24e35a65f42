// The load-balancer rules against a real kube-apiserver v1.20, with hitless configured to deny
// (lb-readiness-gate, lb-deregistration: action deny) so that each transition that breaks a target
// shows as a refusal, and a CREATE as a warning. The Namespace label that makes the AWS Load Balancer
// Controller inject its readiness gate, an alb Ingress and an NLB Service with their annotations, and
// TargetGroupBindings from a minimal structural CRD (test/fixtures/crds: the upstream CRD is not
// available offline), installed while hitless runs. Namespaces reach /validate through their own
// webhook, as in manifests/base/webhooks.yaml.
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { namespaceGateRules } from '../../src/model/namespace-gate.ts'
import { derivedWebhooks, httpsGet, TestCluster, waitFor } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()
const config = join(cluster.dir, 'lb-rules.yaml')
await writeFile(config, 'rules:\n  lb-readiness-gate: {action: deny}\n  lb-deregistration: {action: deny}\n')
const replica = await cluster.startReplica(['--config', config])

const kubectl = (args: string[], stdin?: string) => cluster.kubectl(args, stdin)
const apply = (yaml: string) => kubectl(['apply', '-f', '-'], yaml)
const dryRunDenied = (yaml: string) => kubectl(['apply', '--dry-run=server', '-f', '-'], yaml).status !== 0
const ca = Buffer.from(cluster.ca).toString('base64')
const namespacesWebhook = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hitless-namespaces}
webhooks:
  - name: namespaces.validate.hitless.dev
    clientConfig: {url: "${replica.url}/validate", caBundle: "${ca}"}
    admissionReviewVersions: [v1]
    sideEffects: None
    timeoutSeconds: 5
    matchPolicy: Equivalent
    failurePolicy: Fail
    rules: ${JSON.stringify(namespaceGateRules())}
`

const container = '{name: web, image: nginx, ports: [{name: http, containerPort: 8080}], readinessProbe: {tcpSocket: {port: 8080}}, lifecycle: {preStop: {exec: {command: [sleep, "30"]}}}}'
const deployment = (namespace: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {terminationGracePeriodSeconds: 60, containers: [${container}]}
`
// An NLB (annotations given) is a Service of type LoadBalancer; the others are NodePorts, as for an ALB.
const service = (namespace: string, name: string, annotations?: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}, annotations: ${annotations ?? '{}'}}
spec: {type: ${annotations ? 'LoadBalancer' : 'NodePort'}, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
`
const ingress = (delay: number) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: aws
  annotations: {alb.ingress.kubernetes.io/target-type: ip, alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=${delay}}
spec:
  ingressClassName: alb
  defaultBackend: {service: {name: web, port: {number: 80}}}
`
const binding = (targetType: string) => `apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata: {name: web-tg, namespace: plain}
spec:
  serviceRef: {name: web, port: 80}
  targetGroupARN: arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef
  targetType: ${targetType}
`

t.before(async () => {
  kubectl(['label', 'namespace', 'kube-system', 'hitless.dev/ignore=true'])
  const webhooks = derivedWebhooks(cluster, ['validating']).replace(`${cluster.hitlessUrl}/validate`, `${replica.url}/validate`)
  for (const yaml of [webhooks, namespacesWebhook]) {
    const applied = apply(yaml)
    if (applied.status !== 0) throw new Error(`registering the webhooks failed: ${applied.stderr}`)
  }
  for (const args of [['create', 'namespace', 'aws'], ['label', 'namespace', 'aws', 'elbv2.k8s.aws/pod-readiness-gate-inject=enabled'], ['create', 'namespace', 'plain']]) {
    const result = kubectl(args)
    if (result.status !== 0) throw new Error(`setting up: ${result.stderr}`)
  }
  for (const yaml of [deployment('aws'), service('aws', 'web'), ingress(30), deployment('plain'), service('plain', 'web')]) {
    const result = apply(yaml)
    if (result.status !== 0 || /hitless \[lb-/.test(result.stderr)) throw new Error(`setting up: ${result.stderr}`)
  }
})

t.test('lb-readiness-gate: removing the Namespace label over ALB IP targets is denied; keeping it is not', async (t) => {
  const unlabel = ['label', 'namespace', 'aws', 'elbv2.k8s.aws/pod-readiness-gate-inject-']
  await waitFor('the Ingress, Service and Deployment in the cache', async () => kubectl([...unlabel, '--dry-run=server']).status !== 0)
  const removed = kubectl(unlabel)
  t.not(removed.status, 0, 'denied')
  t.match(removed.stderr, /\[lb-readiness-gate\] no load balancer readiness gate for Deployment aws\/web: Namespace aws loses elbv2\.k8s\.aws\/pod-readiness-gate-inject=enabled, and its pods are IP targets of Ingress aws\/shop \(alb, target-type ip\) → Service web/)
  const other = kubectl(['label', 'namespace', 'aws', 'team=shop'])
  t.equal(other.status, 0, other.stderr)
})

t.test('lb-deregistration: an Ingress UPDATE that raises the delay above the pods’ preStop sleep is denied', async (t) => {
  const raised = apply(ingress(120))
  t.not(raised.status, 0, 'denied')
  t.match(raised.stderr, /\[lb-deregistration\] Deployment aws\/web: preStop sleep 30 s < deregistration delay 120 s \(deregistration_delay\.timeout_seconds on Ingress shop\) of Ingress aws\/shop \(alb, target-type ip\) → Service web/)
  t.equal(apply(ingress(20)).status, 0, 'a delay the sleep covers is admitted')
})

t.test('an NLB Service with IP targets: an UPDATE to IP targets denied, a CREATE warned of', async (t) => {
  const nlb = '{service.beta.kubernetes.io/aws-load-balancer-type: external, service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip}'
  await waitFor('the plain Deployment in the cache', async () => dryRunDenied(service('plain', 'web', nlb)))
  const updated = apply(service('plain', 'web', nlb))
  t.not(updated.status, 0, 'the UPDATE that makes the pods IP targets is denied')
  t.match(updated.stderr, /\[lb-readiness-gate\] no load balancer readiness gate for Deployment plain\/web: Namespace plain lacks elbv2\.k8s\.aws\/pod-readiness-gate-inject=enabled, and its pods are IP targets of Service plain\/web \(NLB, target-type ip\)/)
  const created = apply(service('plain', 'web-nlb', nlb))
  t.equal(created.status, 0, created.stderr)
  t.match(created.stderr, /Warning: hitless \[lb-readiness-gate\]: no load balancer readiness gate for Deployment plain\/web: Namespace plain lacks elbv2\.k8s\.aws\/pod-readiness-gate-inject=enabled/)
  t.match(created.stderr, /Warning: hitless \[lb-deregistration\]: Deployment plain\/web: preStop sleep 30 s < deregistration delay 300 s \(deregistration_delay\.timeout_seconds, the default\)/)
  t.equal(kubectl(['delete', 'service', 'web-nlb', '-n', 'plain']).status, 0)
})

t.test('TargetGroupBinding: the CRD installed live; an UPDATE from instance to ip targets is denied', async (t) => {
  const crd = readFileSync(new URL('../fixtures/crds/elbv2.k8s.aws_targetgroupbindings.yaml', import.meta.url), 'utf8')
  const installed = apply(crd)
  t.equal(installed.status, 0, installed.stderr)
  await waitFor('the CRD served', async () => kubectl(['get', 'targetgroupbindings', '-n', 'plain']).status === 0)
  // hitless's cache found no such resource at start and looks again every 30 s (decision 0017).
  await waitFor('hitless watching TargetGroupBindings', async () => {
    const ready = await httpsGet(`${replica.url}/readyz`, cluster.ca)
    const kinds = ready.status === 200 ? (JSON.parse(ready.body).detail.cache as { kind: string; absent?: boolean; watching: boolean }[]) : []
    return kinds.some((k) => k.kind === 'TargetGroupBinding' && !k.absent && k.watching)
  }, 90_000)
  const created = apply(binding('instance'))
  t.equal(created.status, 0, created.stderr)
  t.notMatch(created.stderr, /hitless \[lb-/, 'instance targets: nothing to gate')
  // Denied once the cache no longer holds the deleted NLB Service (until then the pods were targets already).
  await waitFor('the NLB Service gone from the cache', async () => dryRunDenied(binding('ip')))
  const updated = apply(binding('ip'))
  t.not(updated.status, 0, 'denied')
  t.match(updated.stderr, /\[lb-readiness-gate\] no load balancer readiness gate for Deployment plain\/web: Namespace plain lacks elbv2\.k8s\.aws\/pod-readiness-gate-inject=enabled, and its pods are IP targets of TargetGroupBinding plain\/web-tg \(targetType ip\) → Service web/)
})
