// Where the exported policies and the webhook part, by design (docs/cel-policies.md), and exactly there:
// Services (CEL sees the object alone), an HPA's minReplicas (rollout-capacity counts spec.replicas),
// the clock (CEL has none), a shell preStop script's fourth sleep, and allowExistingViolations'
// warning. Each is asserted as the difference it is, so a change that widens (or closes) one shows up
// here.
import t from 'tap'
import { parseConfig } from '../../src/config/load.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { exportPolicies } from '../../src/export/policies.ts'
import type { Request } from '../helpers/admission-policy.ts'
import { annotated, deployment, fixtureCases } from './cases.ts'
import { APPROVAL_ANNOTATION } from '../../src/exemptions/annotations.ts'
import { policies, webhook } from './verdicts.ts'

const VERSION = { major: 1, minor: 36 }
const config = parseConfig('', 'shipped config')
const { documents } = exportPolicies(config, { kubernetesVersion: VERSION, mutating: true })
const person = { username: 'alice', groups: ['system:authenticated'] }

t.test('Services: the fixtures where the rest of the cluster changes the webhook’s verdict, and only those', async (t) => {
  const differing: string[] = []
  for (const c of fixtureCases()) {
    if (!c.cluster || c.object.kind === 'Service') continue
    const request: Request = { operation: c.operation, object: c.object, oldObject: c.oldObject ?? null, userInfo: person }
    const withCluster = webhook(config, request, VERSION, c.cluster).verdicts
    const cel = policies(documents, request)
    // webhook() reports the exported rules only.
    for (const rule of new Set([...Object.keys(withCluster), ...Object.keys(cel)])) {
      if (JSON.stringify(withCluster[rule]) !== JSON.stringify(cel[rule])) differing.push(`${c.name} ${rule}`)
    }
  }
  // A Service selects pods whose containers declare no port: the webhook judges them all serving; CEL,
  // seeing no declared port, none. (readiness-probe on the UPDATEs: a violation the old object had.)
  // A Service that targets only a sidecar's port makes only the sidecar serving (the webhook names it
  // alone, CEL the containers with declared ports); a metrics-only Service (a metrics port name, one a
  // ServiceMonitor scrapes, or its prometheus.io/scrape annotation) makes nothing serving, where CEL sees a declared port named http/https.
  // rollout-capacity: an HPA's minReplicas, and Recreate behind a Service (below); the Service there also
  // makes the webhook say why the container serves in its own words. replicas-spread: where a Service
  // selects the pods the webhook names it as the reason (CEL names the serving port), fires only behind
  // one (passes-no-service), and counts an HPA's minReplicas (fires-hpa-min-two, passes-hpa-min-one).
  t.same(differing.sort(), [
    'pdb-missing/fires-argo-rollout.yaml replicas-spread',
    'pdb-missing/fires-deployment-three-replicas.yaml replicas-spread',
    'pdb-missing/fires-pdb-and-semantics.yaml replicas-spread',
    'pdb-missing/fires-statefulset.yaml replicas-spread',
    'pdb-missing/passes-pdb-selects-it.yaml replicas-spread',
    'pre-stop/fires-selected-by-service-without-ports.yaml pre-stop',
    'readiness-probe/fires-selected-by-service-without-ports.yaml pre-stop',
    'readiness-probe/fires-selected-by-service-without-ports.yaml readiness-probe',
    'readiness-probe/fires-service-targets-only-a-sidecar.yaml pre-stop',
    'readiness-probe/fires-service-targets-only-a-sidecar.yaml readiness-probe',
    'readiness-probe/passes-metrics-only-service-by-annotation.yaml pre-stop',
    'readiness-probe/passes-metrics-only-service-by-annotation.yaml readiness-probe',
    'readiness-probe/passes-metrics-only-service-by-name.yaml pre-stop',
    'readiness-probe/passes-metrics-only-service-by-name.yaml readiness-probe',
    'readiness-probe/passes-metrics-only-service-by-servicemonitor.yaml pre-stop',
    'readiness-probe/passes-metrics-only-service-by-servicemonitor.yaml readiness-probe',
    'replicas-spread/fires-constraint-selects-other-pods.yaml replicas-spread',
    'replicas-spread/fires-deployment-behind-service.yaml replicas-spread',
    'replicas-spread/fires-hpa-min-two.yaml replicas-spread',
    'replicas-spread/passes-hpa-min-one.yaml replicas-spread',
    'replicas-spread/passes-no-service.yaml replicas-spread',
    'rollout-capacity/fires-hpa-min-one-max-surge-zero.yaml replicas-spread',
    'rollout-capacity/fires-hpa-min-one-max-surge-zero.yaml rollout-capacity',
    'rollout-capacity/fires-recreate-behind-service.yaml pre-stop',
    'rollout-capacity/fires-recreate-behind-service.yaml readiness-probe',
    'rollout-capacity/fires-recreate-behind-service.yaml replicas-spread',
    'rollout-capacity/fires-recreate-behind-service.yaml rollout-capacity',
    'service-selector/passes-relabel-keeps-selected-labels.yaml pre-stop',
    'service-target-port/fires-deployment-renames-targeted-port.yaml pre-stop',
    'service-target-port/passes-update-keeps-targeted-port.yaml pre-stop',
  ])
})

t.test('Services: a Service that targets one container leaves the others to CEL', async (t) => {
  const object = deployment('api', [
    { name: 'api', image: 'a:1', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 } }, lifecycle: { preStop: { sleep: { seconds: 5 } } } },
    { name: 'admin', image: 'b:1', ports: [{ name: 'admin', containerPort: 9000 }] },
  ])
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 'http' }] } }
  const request: Request = { operation: 'CREATE', object, userInfo: person }
  t.same(webhook(config, request, VERSION, [service]).verdicts['readiness-probe'], undefined, 'the webhook: only the targeted container serves')
  t.same(policies(documents, request)['readiness-probe']?.findings.map((f) => f.container), ['admin'], 'CEL: every container with a serving port')
})

const fixture = (name: string) => {
  const c = fixtureCases().find((c) => c.name === name)!
  return { request: { operation: c.operation, object: c.object, oldObject: c.oldObject ?? null, userInfo: person } as Request, cluster: c.cluster! }
}

t.test('rollout-capacity: an HPA scales the Deployment; CEL counts spec.replicas', async (t) => {
  const { request, cluster } = fixture('rollout-capacity/fires-hpa-min-one-max-surge-zero.yaml')
  t.match(webhook(config, request, VERSION, cluster).verdicts['rollout-capacity'], { outcome: 'deny', findings: [{ message: /HorizontalPodAutoscaler web minReplicas 1, maxSurge 0 → 0, maxUnavailable 1 → 1, so 0 of 1/ }] }, 'the webhook: the HPA may scale it to 1')
  t.equal(policies(documents, request)['rollout-capacity'], undefined, 'CEL: replicas 3 keep 2 available')
  const alone = { ...request, object: { ...request.object, spec: { ...request.object.spec, replicas: 1 } } }
  const expected = webhook(config, alone, VERSION).verdicts['rollout-capacity']
  t.match(expected, { outcome: 'deny', findings: [{ message: /replicas 1, maxSurge 0 → 0, maxUnavailable 1 → 1/ }] })
  t.same(policies(documents, alone)['rollout-capacity'], expected, 'at replicas 1 without the HPA, the same deny')
})

t.test('rollout-capacity: strategy Recreate behind a Service warns from the webhook only', async (t) => {
  const { request, cluster } = fixture('rollout-capacity/fires-recreate-behind-service.yaml')
  t.match(webhook(config, request, VERSION, cluster).verdicts['rollout-capacity'], { outcome: 'warn', findings: [{ message: /uses strategy Recreate: every pod stops before a new one starts, so Service shop\/web has no endpoints/ }] })
  t.equal(policies(documents, request)['rollout-capacity'], undefined, 'CEL cannot see the Service')
  const readiness = (verdicts: Record<string, { findings: { because: string }[] }>) => verdicts['readiness-probe']!.findings.map((f) => f.because)
  t.same(readiness(webhook(config, request, VERSION, cluster).verdicts), ['serving: Service shop/web targets its port 8080'], 'the webhook: serving for the Service')
  t.same(readiness(policies(documents, request)), ['serving: it declares containerPort 8080'], 'CEL: serving for its declared port')
})

t.test('no clock: an expired exemption still counts in the API server', async (t) => {
  const object = annotated(deployment('old', [{ name: 'web', image: 'w:1', ports: [{ containerPort: 80 }] }]), {
    'hitless.dev/exempt': 'readiness-probe',
    'hitless.dev/exempt-reason': 'vendor image',
    'hitless.dev/exempt-until': '2026-01-31',
  })
  const request: Request = { operation: 'CREATE', object, userInfo: person }
  t.match(webhook(config, request, VERSION).verdicts['readiness-probe'], { outcome: 'deny' }, 'the webhook: expired on 2026-01-31, so it denies')
  t.equal(policies(documents, request)['readiness-probe'], undefined, 'CEL: exempted')
})

t.test('a shell preStop script: CEL adds up its first three sleeps', async (t) => {
  const object = deployment('long', [{ name: 'web', image: 'w:1', ports: [{ containerPort: 80 }], lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1; sleep 1; sleep 1; sleep 60'] } } } }])
  const request: Request = { operation: 'CREATE', object, userInfo: person }
  t.match(webhook(config, request, VERSION).verdicts['termination-grace-period']?.findings, [{ message: /< preStop sleep 63s/ }])
  t.equal(policies(documents, request)['termination-grace-period'], undefined, 'CEL counts 3s: 30s cover it')
})

t.test('allowExistingViolations: what the webhook admits with a warning, CEL admits silently', async (t) => {
  const object = deployment('web', [{ name: 'web', image: 'w:1', ports: [{ containerPort: 80 }] }])
  const request: Request = { operation: 'UPDATE', object, oldObject: object, userInfo: person }
  const only = parseConfig('rules: {pre-stop: {action: off}, termination-grace-period: {action: off}}', 'readiness only')
  const { findings } = evaluate({ operation: 'UPDATE', kind: 'Deployment', group: 'apps', object, oldObject: object, userInfo: person }, buildPolicy(only))
  t.match(findings, [{ rule: 'readiness-probe', action: 'warn', message: /already so before this change; allowExistingViolations/ }], 'the webhook warns')
  t.same(policies(exportPolicies(only, { kubernetesVersion: VERSION, mutating: false }).documents, request), {}, 'CEL lets it through without a word')
})

t.test('approval records: the webhook records an approver\'s exemption, the exported policies do not', async (t) => {
  const approvers = parseConfig('exemptions: {approvers: {users: [boss], groups: []}}', 'approvers')
  const exempted = annotated(deployment('web', [{ name: 'web', image: 'web', ports: [{ containerPort: 8080 }] }]), { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'r', 'hitless.dev/exempt-until': '2026-07-01' })
  const request: Request = { operation: 'CREATE', object: exempted, oldObject: null, userInfo: { username: 'boss', groups: [] } }
  const { patched } = webhook(approvers, request, VERSION)
  t.match(patched.metadata?.annotations?.[APPROVAL_ANNOTATION], /^by boss; hmac-sha256:[0-9a-f]+$/, 'the webhook writes the record')
  const exported = exportPolicies(approvers, { kubernetesVersion: VERSION, mutating: true }).documents
  t.notOk(JSON.stringify(exported.filter((d) => d.kind === 'MutatingAdmissionPolicy')).includes(APPROVAL_ANNOTATION), 'no mutating policy writes it')
})
