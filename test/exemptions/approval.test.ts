// Approvals that cannot be bypassed (exemptions.approvers set): each attack a non-approver tried is
// refused for the change itself, whatever the rules find; approvers and removals pass.
import t from 'tap'
import { decide } from '../../src/engine/decide.ts'
import { judge } from '../../src/engine/judge.ts'
import { namespacesFrom } from '../../src/model/namespaces.ts'
import type { KubeObject, ReviewInput } from '../../src/model/types.ts'
import { loadYaml, policyFrom, reviewOf } from '../helpers/objects.ts'

const NOW = new Date('2026-11-23T12:00:00Z')
const gated = 'exemptions: {approvers: {users: [carol], groups: [platform-team]}}'
const exempt = { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'incident 42', 'hitless.dev/exempt-until': '2026-12-01' }
const mallory = { username: 'mallory', groups: ['devs', 'system:authenticated'] }
const carol = { username: 'carol', groups: ['system:authenticated'] }

const violating = (annotations: Record<string, string> = {}): KubeObject => {
  const object = loadYaml('readiness-probe/fires-deployment-no-probe.yaml')
  return { ...object, metadata: { ...object.metadata, annotations } }
}
const compliant = (annotations: Record<string, string> = {}): KubeObject => {
  const object = loadYaml('readiness-probe/passes-has-probe.yaml') as any
  object.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 5 } } }
  return { ...object, metadata: { ...object.metadata, annotations } }
}
const as = (user: typeof mallory, review: ReviewInput): ReviewInput => ({ ...review, userInfo: user })

function verdict(review: ReviewInput, config = gated, namespaces: KubeObject[] = []) {
  const { evaluation, mode } = judge(review, policyFrom(config), { now: () => NOW, namespaces: namespacesFrom(namespaces) })
  return decide(evaluation, 'validate', mode === 'off' ? 'enforce' : mode)
}

t.test('two-step: an exemption slipped in on an object that already violates is refused', async (t) => {
  // Before: allowExistingViolations let the UPDATE through ("not honoured"), the annotation was stored,
  // and the next UPDATE found it "present and unchanged" and exempted new violations.
  const before = violating()
  const decision = verdict(as(mallory, reviewOf(violating(exempt), { operation: 'UPDATE', oldObject: before })))
  t.equal(decision.allowed, false)
  t.same(decision.denied.map((f) => f.rule), ['exemption-approval'])
  t.match(decision.denied[0]!.message, /mallory is not an exemption approver and may not add or change hitless\.dev\/exempt/)
})

t.test('plant then violate: a compliant object created with an exemption by a non-approver is refused', async (t) => {
  const decision = verdict(as(mallory, reviewOf(compliant(exempt))))
  t.equal(decision.allowed, false, 'refused though no rule fires')
  t.same(decision.denied.map((f) => f.rule), ['exemption-approval'])
})

t.test('approvers may; removing an exemption is anyone’s right; without approvers nothing is gated', async (t) => {
  t.equal(verdict(as(carol, reviewOf(compliant(exempt)))).allowed, true, 'an approving user')
  t.equal(verdict(as({ username: 'dave', groups: ['platform-team'] }, reviewOf(compliant(exempt)))).allowed, true, 'a member of an approving group')
  t.equal(verdict(as(mallory, reviewOf(compliant(), { operation: 'UPDATE', oldObject: compliant(exempt) }))).allowed, true, 'removal')
  t.equal(verdict(as(mallory, reviewOf(compliant(exempt), { operation: 'UPDATE', oldObject: compliant(exempt) }))).allowed, true, 'unchanged')
  t.equal(verdict(as(mallory, reviewOf(compliant(exempt))), '').allowed, true, 'no approvers configured: anyone')
})

t.test('audit mode warns instead', async (t) => {
  const decision = verdict(as(mallory, reviewOf(compliant(exempt))), `${gated}\nmode: audit`)
  t.equal(decision.allowed, true)
  t.same(decision.wouldDeny.map((f) => f.rule), ['exemption-approval'])
})

t.test('Namespaces: the labels and annotations that turn hitless down are gated the same way', async (t) => {
  const ns = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels, annotations } })
  const update = (user: typeof mallory, next: KubeObject, old: KubeObject) => verdict(as(user, reviewOf(next, { operation: 'UPDATE', oldObject: old })))
  t.equal(update(mallory, ns({ 'hitless.dev/mode': 'off' }), ns()).allowed, false, 'mode off')
  t.equal(update(mallory, ns({ 'hitless.dev/mode': 'audit' }), ns()).allowed, false, 'mode audit')
  t.equal(update(mallory, ns({ 'hitless.dev/ignore': 'true' }), ns()).allowed, false, 'ignore')
  t.equal(update(mallory, ns({}, exempt), ns()).allowed, false, 'namespace-wide exemptions')
  t.equal(update(mallory, ns({ 'hitless.dev/mode': 'enforce' }), ns({ 'hitless.dev/mode': 'audit' })).allowed, true, 'back to enforce: stricter, allowed')
  t.equal(update(mallory, ns(), ns({ 'hitless.dev/ignore': 'true' })).allowed, true, 'removing ignore: allowed')
  t.equal(update(mallory, ns({ team: 'shop' }), ns()).allowed, true, 'other labels: never judged')
  t.equal(update(carol, ns({ 'hitless.dev/mode': 'off' }), ns()).allowed, true, 'an approver')
  t.equal(verdict(as(mallory, reviewOf(ns({ 'hitless.dev/ignore': 'true' })))).allowed, false, 'CREATE too')
})

t.test('claimed controller: an ownerReference written by a person does not skip the rules', async (t) => {
  const owned = (): KubeObject => {
    const object = violating()
    return { ...object, metadata: { ...object.metadata, ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Database', name: 'mine', controller: true }] } }
  }
  const person = verdict(as(mallory, reviewOf(owned())))
  t.equal(person.allowed, false, 'judged')
  t.same(person.denied.map((f) => f.rule), ['readiness-probe'])
  const operatorAccount = { username: 'system:serviceaccount:ops:operator', groups: ['system:serviceaccounts'] }
  t.equal(verdict(as(operatorAccount, reviewOf(owned()))).allowed, false, 'a service account the config does not trust is judged')
  const trusting = `${gated}\ncontrollers: {trusted: [{namespace: ops, serviceAccount: operator}]}`
  t.equal(verdict(as(operatorAccount, reviewOf(owned())), trusting).allowed, true, 'an operator’s trusted service account creating what it owns is not in its way')
})
