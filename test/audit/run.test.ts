import { fileURLToPath } from 'node:url'
import t from 'tap'
import { loadManifests, parseManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { findingOutcome } from '../../src/engine/decide.ts'
import { FIXTURES, configFrom } from '../helpers/objects.ts'

const dir = fileURLToPath(new URL('audit/', FIXTURES))
const summary = (r: ReturnType<typeof auditManifests>) => r.findings.map((f) => `${f.level} ${f.rule} ${f.object.kind}/${f.object.name}${f.container ? `[${f.container}]` : ''}`)

t.test('referential rules work across files, by namespace', async (t) => {
  const { manifests } = await loadManifests([`${dir}dir`])
  const result = auditManifests(manifests, configFrom(), { defaultNamespace: 'default' })
  t.same(summary(result), [
    'deny readiness-probe Deployment/api[api]',
    'warn pre-stop Deployment/api[api]',
    'deny service-target-port Service/api',
  ], 'the Service finds its Deployment in another file; its targetPort "grpc" is not declared')
  t.match(result.findings.at(-1)!.message, 'Service shop/api port 80 targets port "grpc", which Deployment api does not declare')
})

t.test('objects without a namespace go to --namespace; a Service that selects nothing beside workloads is denied', async (t) => {
  const { manifests } = parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: lonely}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: y}\nspec: {template: {metadata: {labels: {app: y}}, spec: {containers: [{name: y, image: y, readinessProbe: {tcpSocket: {port: 1}}}]}}}\n', 's.yaml')
  const result = auditManifests(manifests, configFrom(), { defaultNamespace: 'team-a' })
  t.same(summary(result), ['deny service-selector Service/lonely'])
  t.equal(result.findings[0]!.object.namespace, 'team-a')
  t.equal(result.findings[0]!.message, 'Service team-a/lonely selects no pods: no workload in team-a has labels app=x')
})

t.test('when the files cannot know who makes the pods, a Service that selects nothing only warns, saying why', async (t) => {
  const alone = auditManifests(parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: lonely}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n', 's.yaml').manifests, configFrom(), { defaultNamespace: 'team-a' })
  t.same(summary(alone), ['warn service-selector Service/lonely'], 'no workload of the namespace in the files')
  t.match(alone.findings[0]!.message, /the files hold no workload of namespace team-a, so the audit cannot tell/)
  const operator = `apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s}
spec: {replicas: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other}
spec: {template: {metadata: {labels: {app: other}}, spec: {containers: [{name: o, image: o, readinessProbe: {tcpSocket: {port: 1}}}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: prometheus-k8s}
spec: {selector: {app.kubernetes.io/name: prometheus}, ports: [{port: 9090}]}
`
  const beside = auditManifests(parseManifests(operator, 'p.yaml').manifests, configFrom(), { defaultNamespace: 'monitoring' })
  t.same(summary(beside), ['warn service-selector Service/prometheus-k8s'], 'a custom resource an operator turns into pods')
  t.match(beside.findings[0]!.message, /the files hold a Prometheus in monitoring, and an operator may create its pods/)
  const live = auditManifests(parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: lonely}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n', 's.yaml').manifests, configFrom(), { defaultNamespace: 'team-a', liveSet: true })
  t.same(summary(live), ['deny service-selector Service/lonely'], 'a live cluster sees every pod: deny')
})

t.test('an operator\'s custom resources: the one the pod labels point at is named, with the right article', async (t) => {
  const set = `apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata: {name: main}
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other}
spec: {template: {metadata: {labels: {app: other}}, spec: {containers: [{name: o, image: o}]}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: prometheus-k8s}
spec: {minAvailable: 1, selector: {matchLabels: {app.kubernetes.io/name: prometheus, prometheus: k8s}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: alertmanager-main}
spec: {maxUnavailable: 1, selector: {matchLabels: {alertmanager: main}}}
---
apiVersion: v1
kind: Service
metadata: {name: grafana}
spec: {selector: {app: grafana}, ports: [{port: 3000}]}
`
  const { findings } = auditManifests(parseManifests(set, 'm.yaml').manifests, configFrom(), { defaultNamespace: 'monitoring' })
  const message = (name: string) => findings.find((f) => f.object.name === name)!.message
  t.match(message('prometheus-k8s'), /; the files hold a Prometheus in monitoring, and an operator may create its pods, so the audit cannot tell$/)
  t.match(message('alertmanager-main'), /; the files hold an Alertmanager in monitoring, and an operator may create its pods, so the audit cannot tell$/)
  t.match(message('grafana'), /; the files hold custom resources \(Alertmanager, Prometheus\) in monitoring, and an operator may create their pods, so the audit cannot tell$/, 'labels that point at none: all of them')
  t.ok(findings.every((f) => f.level === 'warn'))
})

t.test('an Ingress backend the files lack, beside an operator\'s custom resources: the operator may make the Service', async (t) => {
  const set = `apiVersion: ceph.rook.io/v1
kind: CephCluster
metadata: {name: rook-ceph}
---
apiVersion: v1
kind: Service
metadata: {name: other}
spec: {selector: {app: other}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: dashboard}
spec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: rook-ceph-mgr-dashboard, port: {number: 8443}}}}]}}]}
`
  const { findings } = auditManifests(parseManifests(set, 'r.yaml').manifests, configFrom(), { defaultNamespace: 'rook-ceph' })
  const ingress = findings.find((f) => f.rule === 'ingress-backend')!
  t.equal(ingress.level, 'warn')
  t.match(ingress.message, /which does not exist; the files hold a CephCluster in rook-ceph, and an operator may create the Service, so the audit cannot tell$/)
})

t.test('exemptions, modes and actions mean what they mean in the webhook', async (t) => {
  const text = `apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: staging}
spec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a, ports: [{containerPort: 1}]}]}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging, labels: {hitless.dev/mode: audit}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: b
  namespace: prod
  annotations: {hitless.dev/exempt: readiness-probe, hitless.dev/exempt-reason: vendor, hitless.dev/exempt-until: "2026-12-01"}
spec: {template: {metadata: {labels: {app: b}}, spec: {containers: [{name: b, image: b, ports: [{containerPort: 1}], lifecycle: {preStop: {sleep: {seconds: 5}}}}]}}}
`
  const { manifests } = parseManifests(text, 'm.yaml')
  const result = auditManifests(manifests, configFrom(), { defaultNamespace: 'default', now: new Date('2026-11-23T00:00:00Z') })
  t.same(result.findings.map((f) => [f.object.name, f.rule, f.outcome, f.level]), [
    ['a', 'readiness-probe', 'would-deny', 'warn'],
    ['a', 'pre-stop', 'would-patch', 'warn'],
    ['b', 'readiness-probe', 'exempt', 'exempt'],
  ], 'namespace staging is in audit mode (from the Namespace in the set); b is exempted, and listed as such')
})

t.test('findingOutcome agrees with the webhook for every action and mode', async (t) => {
  const base = { rule: 'r', object: { kind: 'Pod', name: 'p' }, message: '', fix: '' }
  const patch = [{ op: 'add' as const, path: '/x', value: 1 }]
  t.equal(findingOutcome({ ...base, action: 'deny' }, 'enforce'), 'deny')
  t.equal(findingOutcome({ ...base, action: 'mutate', patch }, 'enforce'), 'patch')
  t.equal(findingOutcome({ ...base, action: 'mutate' }, 'enforce'), 'deny', 'a mutate finding without a patch is denied by /validate')
  t.equal(findingOutcome({ ...base, action: 'warn' }, 'audit'), 'warn')
  t.equal(findingOutcome({ ...base, action: 'deny' }, 'audit'), 'would-deny')
  t.equal(findingOutcome({ ...base, action: 'mutate', patch }, 'audit'), 'would-patch')
})

t.test('a manifest with wrong field types is an input error, not a crash', async (t) => {
  const { manifests } = parseManifests('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: web}}}\n', 'bad.yaml')
  const result = auditManifests(manifests, configFrom(), { defaultNamespace: 'default' })
  t.same(result.findings, [])
  t.match(result.errors, [{ file: 'bad.yaml', line: 1, message: 'Deployment x: object.spec.template.spec.containers must be array,null' }])
})

t.test('old API versions and Argo Rollouts are judged, and removed versions are named', async (t) => {
  const text = `apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old}
spec: {template: {metadata: {labels: {app: old}}, spec: {containers: [{name: old, image: old, ports: [{containerPort: 80}]}]}}}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: ro}
spec: {strategy: {canary: {}}, template: {metadata: {labels: {app: ro}}, spec: {containers: [{name: ro, image: ro, ports: [{containerPort: 80}]}]}}}
`
  const result = auditManifests(parseManifests(text, 'o.yaml').manifests, configFrom(), { defaultNamespace: 'shop' })
  t.same([...new Set(result.findings.filter((f) => f.rule === 'readiness-probe').map((f) => `${f.object.kind}/${f.object.name}`))], ['Deployment/old', 'Rollout/ro'])
  t.match(result.notices.map((n) => n.notice), [/extensions\/v1beta1 Deployment was removed in Kubernetes 1\.16/])
})

t.test('expired exemptions are pointed out, fired or not: admission policies have no clock and still honour them', async (t) => {
  const text = `apiVersion: v1
kind: Namespace
metadata: {name: shop, annotations: {hitless.dev/exempt: "*", hitless.dev/exempt-reason: r, hitless.dev/exempt-until: "2026-03-01"}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: fixed
  namespace: shop
  annotations: {hitless.dev/exempt: readiness-probe, hitless.dev/exempt-reason: vendor image, hitless.dev/exempt-until: "2026-05-31T23:00:00Z"}
spec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a, ports: [{containerPort: 1}], readinessProbe: {tcpSocket: {port: 1}}, lifecycle: {preStop: {sleep: {seconds: 5}}}}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: current
  namespace: shop
  annotations: {hitless.dev/exempt: readiness-probe, hitless.dev/exempt-reason: vendor image, hitless.dev/exempt-until: "2026-06-30"}
spec: {template: {metadata: {labels: {app: b}}, spec: {containers: [{name: b, image: b, ports: [{containerPort: 1}], readinessProbe: {tcpSocket: {port: 1}}, lifecycle: {preStop: {sleep: {seconds: 5}}}}]}}}
`
  const result = auditManifests(parseManifests(text, 'e.yaml').manifests, configFrom(), { defaultNamespace: 'default', now: new Date('2026-06-01T00:00:00Z') })
  t.same(result.findings, [], 'nothing fires')
  t.same(result.notices.map((n) => n.notice), [
    'Namespace shop: hitless.dev/exempt: "*" expired on 2026-03-01: the webhook no longer honours it, admission policies (hitless export-policies, which have no clock) still do; remove it or renew it',
    'Deployment shop/fixed: hitless.dev/exempt: "readiness-probe" expired on 2026-05-31T23:00:00Z: the webhook no longer honours it, admission policies (hitless export-policies, which have no clock) still do; remove it or renew it',
  ])
})
