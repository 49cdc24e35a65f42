// The k8s-1.30 matchConditions as the overlays render them (kubectl kustomize), with the JavaScript model
// of the API server's webhook dispatch (test/helpers/webhook-dispatch.ts): the Namespace gate sees only
// writes of hitless's own keys, the object webhooks skip what a trusted controller creates, and with
// fail-closed + k8s-1.30 and hitless down exactly the writes hitless would judge are refused. The Go
// checker (test/export-go, decision 0035) runs the API server's own plugins over the same writes
// (test/deploy/admission-writes.ts) and fails where they disagree with this model.
import t from 'tap'
import { NAMESPACE_LABELS_JUDGED, namespaceGateCondition, objectMatchCondition, shippedTrustedControllers } from '../../src/contract/match-conditions.ts'
import { RULES } from '../../src/rules/index.ts'
import { hasKubectl } from '../helpers/kubectl.ts'
import { dispatch, render, whileHitlessIsDown } from '../helpers/webhook-dispatch.ts'
import { intended, NAMESPACES, OVERLAYS, WRITES } from './admission-writes.ts'

const skip = hasKubectl ? false : 'kubectl not installed'

t.test('k8s-1.30 overlays: while hitless is down, a write is refused exactly when it fails closed and hitless would judge it', { skip }, async (t) => {
  for (const { entry, failClosed } of OVERLAYS) {
    const { webhooks } = render(entry)
    const gate = webhooks.find((w) => w.name === 'namespaces.validate.hitless.dev')!
    t.equal(gate.failurePolicy, failClosed ? 'Fail' : 'Ignore', `${entry}: the gate's failurePolicy`)
    t.same(gate.matchConditions, [namespaceGateCondition()], `${entry}: the condition written by npm run generate`)
    for (const judged of WRITES) t.equal(whileHitlessIsDown(webhooks, judged.write, NAMESPACES), intended(failClosed, judged), `${entry}: ${judged.name}`)
  }
})

t.test('k8s-1.30 overlays: hitless is called for exactly the writes it judges, and no condition errs', { skip }, async (t) => {
  for (const { entry } of OVERLAYS) {
    const { webhooks } = render(entry)
    for (const judged of WRITES) {
      const outcomes = webhooks.map((hook) => dispatch(hook, judged.write, NAMESPACES))
      t.same(outcomes.filter((o) => o.called === 'error' || o.conditions === 'error'), [], `${entry}: ${judged.name}: no condition errs`)
      t.equal(outcomes.some((o) => o.called === 'true'), judged.sent, `${entry}: ${judged.name}`)
    }
  }
})

t.test('below 1.30, and without fail-closed, the gate stays fail-open: every Namespace write passes while hitless is down', { skip }, async (t) => {
  const namespaceWrites = WRITES.filter((judged) => (judged.write.object ?? judged.write.oldObject)!.kind === 'Namespace')
  t.ok(namespaceWrites.length > 20)
  for (const entry of ['overlays/fail-closed', 'overlays/k8s-1.30', 'base']) {
    const { webhooks } = render(entry)
    t.equal(webhooks.find((w) => w.name === 'namespaces.validate.hitless.dev')!.failurePolicy, 'Ignore', entry)
    for (const judged of namespaceWrites) t.equal(whileHitlessIsDown(webhooks, judged.write, NAMESPACES), 'admitted', `${entry}: ${judged.name}`)
  }
})

t.test('the object webhooks carry the controller condition on both k8s-1.30 entries', { skip }, async (t) => {
  const expected = objectMatchCondition(shippedTrustedControllers())
  for (const { entry } of OVERLAYS) {
    const { webhooks } = render(entry)
    for (const name of ['mutate.hitless.dev', 'validate.hitless.dev']) t.same(webhooks.find((w) => w.name === name)!.matchConditions, [expected], `${entry}: ${name}`)
  }
})

t.test('the gate carries the label of every rule that judges Namespaces (decision 0031): today lb-readiness-gate alone', async (t) => {
  const judging = RULES.filter((rule) => rule.judges.some((target) => (target.kinds as readonly string[]).includes('Namespace'))).map((rule) => rule.id)
  t.same(judging, ['lb-readiness-gate'], 'a new rule that judges Namespaces adds the keys it judges to NAMESPACE_LABELS_JUDGED')
  t.same(NAMESPACE_LABELS_JUDGED, ['elbv2.k8s.aws/pod-readiness-gate-inject'])
})
