// allowExistingViolations: objects that predate a rule can still be changed; new violations cannot.
import t from 'tap'
import { decide } from '../../src/engine/decide.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { configFrom, loadYaml, policyFrom, reviewOf, unusableView } from '../helpers/objects.ts'

const withoutProbe = () => loadYaml('readiness-probe/fires-deployment-no-probe.yaml')
const withProbe = () => loadYaml('readiness-probe/passes-has-probe.yaml')
const restarted = (object: KubeObject): KubeObject => {
  const copy = structuredClone(object) as any
  copy.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-11-23T20:00:00Z' }
  return copy
}

t.test('a rollout restart of an object that already lacked a probe is admitted with a warning', async (t) => {
  const old = withoutProbe()
  const evaluation = evaluate(reviewOf(restarted(old), { operation: 'UPDATE', oldObject: old }), policyFrom())
  t.same(evaluation.findings.map((f) => [f.rule, f.action]), [['readiness-probe', 'warn']])
  t.equal(evaluation.findings[0]!.message, 'container "web" has no readinessProbe (already so before this change; allowExistingViolations)')
  t.equal(decide(evaluation, 'validate').allowed, true)
})

t.test('removing a probe is a new violation and is denied', async (t) => {
  const old = withProbe()
  const updated = structuredClone(old) as any
  delete updated.spec.template.spec.containers[0].readinessProbe
  const evaluation = evaluate(reviewOf(updated, { operation: 'UPDATE', oldObject: old }), policyFrom())
  t.equal(decide(evaluation, 'validate').allowed, false)
})

t.test('a new container without a probe is denied even when an old one already lacked one', async (t) => {
  const old = withoutProbe()
  const updated = structuredClone(old) as any
  updated.spec.template.spec.containers.push({ name: 'api', image: 'api', ports: [{ containerPort: 9000 }], lifecycle: { preStop: { sleep: { seconds: 5 } } } })
  const evaluation = evaluate(reviewOf(updated, { operation: 'UPDATE', oldObject: old }), policyFrom())
  t.same(evaluation.findings.map((f) => [f.container, f.action]), [['web', 'warn'], ['api', 'deny']], 'compared per container')
})

t.test('fixes still apply, CREATEs are unaffected, and the setting can be turned off', async (t) => {
  const old = withoutProbe()
  delete (old.spec as any).template.spec.containers[0].lifecycle
  const update = evaluate(reviewOf(restarted(old), { operation: 'UPDATE', oldObject: old }), policyFrom())
  t.ok(update.patch.some((op) => op.path.endsWith('/lifecycle')), 'the missing preStop is still injected')
  t.equal(evaluate(reviewOf(withoutProbe()), policyFrom()).findings[0]!.action, 'deny', 'CREATE: deny')
  const strict = evaluate(reviewOf(restarted(withoutProbe()), { operation: 'UPDATE', oldObject: withoutProbe() }), policyFrom('allowExistingViolations: false'))
  t.equal(strict.findings[0]!.action, 'deny', 'off: every violation is denied')
})

t.test('onClusterUnavailable: deny refuses a Service UPDATE like a CREATE: "cannot check" is no existing violation', async (t) => {
  const service = (selector: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector, ports: [{ port: 80 }] } })
  const unusable = unusableView('watch for Service broken for 40 s')
  const policy = buildPolicy(configFrom('onClusterUnavailable: deny'), { cluster: unusable, liveCluster: true })
  const create = evaluate(reviewOf(service({ app: 'web' })), policy)
  t.equal(decide(create, 'validate').allowed, false, 'CREATE denied')
  const update = evaluate(reviewOf(service({ app: 'web-v2' }), { operation: 'UPDATE', oldObject: service({ app: 'web' }) }), policy)
  t.same(update.findings.map((f) => [f.rule, f.action]), [['service-selector', 'deny'], ['service-target-port', 'deny']])
  t.equal(decide(update, 'validate').allowed, false, 'UPDATE denied too')
})
