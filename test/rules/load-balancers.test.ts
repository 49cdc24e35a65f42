// The load-balancer rules beyond their fixtures: pre-stop's coverDeregistration with
// termination-grace-period after it, the annotations read as the AWS Load Balancer Controller reads
// them, TargetGroupBindings in and out of the store, and an audit that reports each problem once.
import t from 'tap'
import { forget, ingest, storeFrom } from '../../src/cluster/ingest.ts'
import { awsServiceAnnotations, deregistrationDelay } from '../../src/cluster/load-balancers.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import type { KubeObject, ReviewInput } from '../../src/model/types.ts'
import { configFrom, FIXTURES, loadFixture, reviewOf } from '../helpers/objects.ts'

const fixture = loadFixture(new URL('lb-deregistration/fires-default-delay.yaml', FIXTURES))
const noHook = structuredClone(fixture.review.object!) as any
delete noHook.spec.template.spec.containers[0].lifecycle
delete noHook.spec.template.spec.terminationGracePeriodSeconds

t.test('pre-stop coverDeregistration: the injected sleep covers the delay, and the grace covers the sleep', async (t) => {
  const config = (cover: boolean) => configFrom(`rules:\n  pre-stop: {coverDeregistration: ${cover}}\n  readiness-probe: {action: off}\n`)
  const on = evaluate(reviewOf(noHook), buildPolicy(config(true), { cluster: storeFrom(fixture.cluster!) }))
  t.same(on.patch.map((p) => ('value' in p ? p.value : undefined)), [{ preStop: { sleep: { seconds: 300 } } }, 310], 'a 300 s sleep (the default delay), grace 300 + 10')
  t.notOk(on.findings.some((f) => f.rule === 'lb-deregistration'), 'lb-deregistration judges the fixed object: nothing left')
  const off = evaluate(reviewOf(noHook), buildPolicy(config(false), { cluster: storeFrom(fixture.cluster!) }))
  t.same(off.patch.map((p) => ('value' in p ? p.value : undefined)), [{ preStop: { sleep: { seconds: 5 } } }], 'off (the default): sleepSeconds')
  t.match(off.findings.find((f) => f.rule === 'lb-deregistration')?.message, /Deployment shop\/web: preStop sleep 5 s < deregistration delay 300 s \(deregistration_delay\.timeout_seconds, the default\)/)
  const alone = evaluate(reviewOf(noHook), buildPolicy(config(true)))
  t.same(alone.patch.map((p) => ('value' in p ? p.value : undefined)), [{ preStop: { sleep: { seconds: 5 } } }], 'no cluster to ask: sleepSeconds')
})

t.test('annotations as the controller reads them', async (t) => {
  t.equal(deregistrationDelay('stickiness.enabled=true, deregistration_delay.timeout_seconds = 45'), 45)
  t.equal(deregistrationDelay('deregistration_delay.timeout_seconds=soon'), undefined, 'not a number: the default applies')
  t.equal(deregistrationDelay(undefined), undefined)
  const service = (type: string | undefined, annotations: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', annotations }, spec: { ...(type ? { type } : {}) } })
  t.same(awsServiceAnnotations(service('LoadBalancer', { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb-ip' })), { nlbIp: true }, 'the legacy nlb-ip type')
  t.same(awsServiceAnnotations(service('ClusterIP', { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' })), undefined, 'not a LoadBalancer: no NLB')
  t.same(awsServiceAnnotations(service(undefined, { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'instance' })), undefined)
  t.same(awsServiceAnnotations(service(undefined, { app: 'x' })), undefined, 'no AWS annotation: nothing kept')
})

t.test('TargetGroupBindings in and out of the store', async (t) => {
  const binding: KubeObject = { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding', metadata: { name: 'tg', namespace: 'shop' }, spec: { serviceRef: { name: 'web', port: 80 }, targetType: 'ip' } }
  const store = storeFrom([binding])
  t.same([...store.targetGroupBindings('shop')], [{ namespace: 'shop', name: 'tg', service: 'web', targetType: 'ip' }])
  forget(store, 'TargetGroupBinding', binding)
  t.same([...store.targetGroupBindings('shop')], [])
  ingest(store, 'TargetGroupBinding', { ...binding, spec: { serviceRef: { name: 'web' } } })
  t.same([...store.targetGroupBindings('shop')], [{ namespace: 'shop', name: 'tg', service: 'web' }], 'no targetType: the AWS side decides (not judged)')
})

t.test('an audit reports each problem once, on the workload', async (t) => {
  const objects = [...fixture.cluster!, fixture.review.object!]
  const manifests = objects.map((object, i) => ({ object, file: 'lb.yaml', index: i }))
  const result = auditManifests(manifests as never, configFrom(''), { defaultNamespace: 'default' })
  const lb = result.findings.filter((f) => f.rule.startsWith('lb-'))
  t.same(lb.map((f) => `${f.rule} ${f.object.kind}/${f.object.name}`), ['lb-deregistration Deployment/web'])
})

t.test('a Namespace change is no lb-deregistration matter: its labels decide no delay and no sleep', async (t) => {
  const removed = loadFixture(new URL('lb-readiness-gate/fires-namespace-label-removed.yaml', FIXTURES))
  const policy = buildPolicy(configFrom(''), { cluster: storeFrom(removed.cluster!) })
  const rules = (review: ReviewInput) => evaluate(review, policy).findings.map((f) => f.rule)
  const deployment = removed.cluster!.find((o) => o.kind === 'Deployment')!
  t.ok(rules(reviewOf(deployment, { operation: 'UPDATE', oldObject: deployment })).includes('lb-deregistration'), "the Deployment's 5 s sleep is under the 300 s default delay")
  t.same(rules(removed.review).filter((rule) => rule.startsWith('lb-')), ['lb-readiness-gate'], 'the label removal: the gate only')
  const annotated = { ...removed.review.oldObject!, metadata: { ...removed.review.oldObject!.metadata, annotations: { owner: 'web' } } }
  t.same(rules(reviewOf(annotated, { operation: 'UPDATE', oldObject: removed.review.oldObject! })), [], 'any other Namespace UPDATE: nothing')
})

t.test('a workload UPDATE that leaves what the rules read alone (a restart) warns "already so"; one that breaks it keeps the action', async (t) => {
  const config = configFrom('rules:\n  lb-deregistration: {action: deny}\n  pre-stop: {action: off}\n  termination-grace-period: {action: off}\n')
  const policy = buildPolicy(config, { cluster: storeFrom(fixture.cluster!) })
  const before = fixture.review.object! as any
  const restarted = structuredClone(before)
  restarted.spec.template.metadata = { ...restarted.spec.template.metadata, annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-07T06:00:00Z' } }
  const restart = evaluate(reviewOf(restarted, { operation: 'UPDATE', oldObject: before }), policy).findings.find((f) => f.rule === 'lb-deregistration')
  t.match(restart?.message, /\(already so before this change\)$/, 'the same problem as before the restart')
  t.equal(restart?.action, 'warn', 'not denied: the change did not cause it')
  const covered = structuredClone(before)
  covered.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 300 } } }
  const shortened = evaluate(reviewOf(before, { operation: 'UPDATE', oldObject: covered }), policy).findings.find((f) => f.rule === 'lb-deregistration')
  t.notMatch(shortened?.message, /already so/, 'shortening a sleep that covered the delay is this change')
  t.equal(shortened?.action, 'deny')
})
