// Where the exported policies and the webhook part, by design (docs/cel-policies.md), and exactly there:
// Services (CEL sees the object alone), the clock (CEL has none), a shell preStop script's fourth sleep,
// and allowExistingViolations' warning. Each is asserted as the difference it is, so a change that
// widens (or closes) one shows up here.
import t from 'tap'
import { parseConfig } from '../../src/config/load.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { exportPolicies } from '../../src/export/policies.ts'
import type { Request } from '../helpers/admission-policy.ts'
import { annotated, deployment, fixtureCases } from './cases.ts'
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
  t.same(differing.sort(), [
    'pre-stop/fires-selected-by-service-without-ports.yaml pre-stop',
    'readiness-probe/fires-selected-by-service-without-ports.yaml pre-stop',
    'readiness-probe/fires-selected-by-service-without-ports.yaml readiness-probe',
    'rollout-capacity/fires-recreate-behind-service.yaml pre-stop',
    'rollout-capacity/fires-recreate-behind-service.yaml readiness-probe',
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
