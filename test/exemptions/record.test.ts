// Proof of approval: with approvers set, an object's exemption counts only with the record /mutate wrote
// when an approver added or changed it. Plant-then-violate (annotations written while hitless did not
// see them, then the readinessProbe dropped) is denied, with how to get the exemption approved.
import fastJsonPatch from 'fast-json-patch'
import t from 'tap'
import { buildPolicy } from '../../src/engine/policy.ts'
import { decide } from '../../src/engine/decide.ts'
import { judge } from '../../src/engine/judge.ts'
import { APPROVAL_ANNOTATION } from '../../src/exemptions/annotations.ts'
import { approvalRecord, recordApprover, subjectOf } from '../../src/exemptions/record.ts'
import { NO_NAMESPACES } from '../../src/model/namespaces.ts'
import type { KubeObject, ReviewInput } from '../../src/model/types.ts'
import { configFrom, loadYaml, policyFrom, reviewOf, TEST_APPROVAL_KEY } from '../helpers/objects.ts'

const NOW = new Date('2026-11-23T12:00:00Z')
const gated = 'exemptions: {approvers: {users: [carol], groups: [platform-team]}}'
const exempt = { 'hitless.dev/exempt': 'readiness-probe', 'hitless.dev/exempt-reason': 'vendor image; PLAT-142', 'hitless.dev/exempt-until': '2026-12-01' }
const mallory = { username: 'mallory', groups: ['devs', 'system:authenticated'] }
const carol = { username: 'carol', groups: ['system:authenticated'] }

const withProbe = (annotations: Record<string, string> = {}): KubeObject => {
  const object = loadYaml('readiness-probe/passes-has-probe.yaml') as any
  object.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: 5 } } }
  return { ...object, metadata: { ...object.metadata, annotations } }
}
const withoutProbe = (annotations: Record<string, string> = {}): KubeObject => {
  const object = withProbe(annotations) as any
  const { readinessProbe: _dropped, ...container } = object.spec.template.spec.containers[0]
  return { ...object, spec: { ...object.spec, template: { ...object.spec.template, spec: { ...object.spec.template.spec, containers: [container] } } } }
}

function request(user: typeof carol, object: KubeObject, oldObject: KubeObject | null = null): ReviewInput {
  return { ...reviewOf(object, { operation: oldObject ? 'UPDATE' : 'CREATE', oldObject }), userInfo: user }
}

/** The webhook pair: /mutate, its patch applied, then /validate over the result. */
function admit(review: ReviewInput, config = gated, policy = policyFrom(config)) {
  const environment = { now: () => NOW, namespaces: NO_NAMESPACES }
  const mutate = decide(judge(review, policy, environment).evaluation, 'mutate')
  const stored = mutate.patch.length > 0 ? (fastJsonPatch.applyPatch(structuredClone(review.object), mutate.patch, false, false).newDocument as KubeObject) : review.object!
  const { evaluation } = judge({ ...review, object: stored }, policy, environment)
  return { stored, validate: decide(evaluation, 'validate'), notices: evaluation.notices }
}

const readiness = (decision: ReturnType<typeof decide>) => [...decision.denied, ...decision.warned, ...decision.exempted].find((f) => f.rule === 'readiness-probe')

t.test('an approver adds an exemption: /mutate records the approval, and later writes keep it', async (t) => {
  const { stored, validate } = admit(request(carol, withoutProbe(exempt)))
  t.equal(validate.allowed, true)
  t.same(validate.exempted.map((f) => f.rule), ['readiness-probe'])
  const record = stored.metadata!.annotations![APPROVAL_ANNOTATION]!
  t.match(record, /^by carol; hmac-sha256:[0-9a-f]{64}$/)
  t.equal(recordApprover(record), 'carol')
  // Routine deploys by anyone keep it: the record matches what it approved.
  const later = { ...stored, metadata: { ...stored.metadata, labels: { ...stored.metadata!.labels, release: '2' } } }
  const routine = admit(request(mallory, later, stored))
  t.equal(routine.validate.allowed, true, 'a non-approver changing something else keeps the approved exemption')
  t.same(routine.validate.exempted.map((f) => f.rule), ['readiness-probe'])
  t.equal(routine.stored.metadata!.annotations![APPROVAL_ANNOTATION], record, 'nothing rewritten')
  // A member of an approving group is named by their username.
  t.match(admit(request({ username: 'dave', groups: ['platform-team'] }, withoutProbe(exempt))).stored.metadata!.annotations![APPROVAL_ANNOTATION], /^by dave; /)
})

t.test('plant-then-violate: an exemption that hitless never saw approved is not honoured', async (t) => {
  // Written while hitless was down (failurePolicy Ignore), in an off namespace, or before approvers were set.
  const planted = withProbe(exempt)
  const { validate } = admit(request(mallory, withoutProbe(exempt), planted))
  t.equal(validate.allowed, false, 'dropping the readinessProbe is denied')
  const finding = validate.denied.find((f) => f.rule === 'readiness-probe')!
  t.match(finding.exemption, { honoured: false, why: /^no approval record \(hitless\.dev\/exempt-approval\): an exemption approver \(user carol, group platform-team\) approves it by applying it, or with kubectl annotate <kind>\/<name> hitless\.dev\/exempt-approval=approve --overwrite$/ })
  t.notOk(validate.denied.some((f) => f.rule === 'exemption-approval'), 'the request itself changed no exemption')
})

t.test('records nobody but hitless can write', async (t) => {
  const violate = (annotations: Record<string, string>) => admit(request(mallory, withoutProbe(annotations), withProbe(annotations))).validate
  // A digest anyone could compute, or a record made with another key, does not match.
  const otherKey = approvalRecord(new Uint8Array(32).fill(1), 'carol', exempt, subjectOf(reviewOf(withProbe(exempt))))
  t.match(readiness(violate({ ...exempt, [APPROVAL_ANNOTATION]: otherKey }))!.exemption, { honoured: false, why: /does not match this exemption/ })
  t.match(readiness(violate({ ...exempt, [APPROVAL_ANNOTATION]: 'by carol' }))!.exemption, { honoured: false, why: /is not a record hitless wrote/ })
  // A real record, copied from another object or kept after the exemption was widened.
  const real = approvalRecord(TEST_APPROVAL_KEY, 'carol', exempt, subjectOf(reviewOf(withProbe(exempt))))
  const elsewhere = { ...withProbe(exempt), metadata: { ...withProbe(exempt).metadata, name: 'other' } }
  const copied = { ...withoutProbe({ ...exempt, [APPROVAL_ANNOTATION]: real }), metadata: { ...elsewhere.metadata, annotations: { ...exempt, [APPROVAL_ANNOTATION]: real } } }
  t.match(readiness(admit(request(mallory, copied, { ...elsewhere, metadata: { ...elsewhere.metadata, annotations: { ...exempt, [APPROVAL_ANNOTATION]: real } } })).validate)!.exemption, { honoured: false, why: /does not match/ }, 'copied to another object')
  t.equal(readiness(violate({ ...exempt, [APPROVAL_ANNOTATION]: real }))!.exemption!.honoured, true, 'on its own object it counts')
  const widened = { ...exempt, 'hitless.dev/exempt': '*', [APPROVAL_ANNOTATION]: real }
  t.match(readiness(violate(widened))!.exemption, { honoured: false, why: /does not match/ }, 'a planted wider exemption beside a real record')
  // Another replica without the shared key cannot verify it either.
  const stranger = buildPolicy(configFrom(gated), {}, new Uint8Array(32).fill(9))
  t.equal(readiness(admit(request(mallory, withoutProbe({ ...exempt, [APPROVAL_ANNOTATION]: real }), withProbe({ ...exempt, [APPROVAL_ANNOTATION]: real })), gated, stranger).validate)!.exemption!.honoured, false)
})

t.test('only approvers write or change a record; anyone may remove it', async (t) => {
  const real = approvalRecord(TEST_APPROVAL_KEY, 'carol', exempt, subjectOf(reviewOf(withProbe(exempt))))
  const approved = withProbe({ ...exempt, [APPROVAL_ANNOTATION]: real })
  const forged = admit(request(mallory, withProbe({ ...exempt, [APPROVAL_ANNOTATION]: 'approve' }), withProbe(exempt))).validate
  t.equal(forged.allowed, false)
  t.match(forged.denied[0], { rule: 'exemption-approval', message: /mallory is not an exemption approver and may not add or change hitless\.dev\/exempt-approval/ })
  t.equal(admit(request(mallory, withProbe(exempt), approved)).validate.allowed, true, 'removing the record (stricter) is allowed')
  // An approver approves an exemption that predates the records: `kubectl annotate … hitless.dev/exempt-approval=approve`.
  const { stored, validate } = admit(request(carol, withProbe({ ...exempt, [APPROVAL_ANNOTATION]: 'approve' }), withProbe(exempt)))
  t.equal(validate.allowed, true)
  t.equal(stored.metadata!.annotations![APPROVAL_ANNOTATION], real, 'the request is replaced by the record')
  // A non-approver changing what was approved is refused; an approver's change is recorded anew.
  const longer = { ...exempt, 'hitless.dev/exempt-until': '2026-12-20', [APPROVAL_ANNOTATION]: real }
  t.match(admit(request(mallory, withProbe(longer), approved)).validate.denied[0], { rule: 'exemption-approval' })
  const renewed = admit(request(carol, withProbe(longer), approved)).stored.metadata!.annotations![APPROVAL_ANNOTATION]
  t.not(renewed, real, 'recorded again for the new expiry')
  t.equal(readiness(admit(request(mallory, withoutProbe({ ...longer, [APPROVAL_ANNOTATION]: renewed! }), withProbe({ ...longer, [APPROVAL_ANNOTATION]: renewed! }))).validate)!.exemption!.honoured, true)
})

t.test('without approvers nothing changes: no records, exemptions count as before', async (t) => {
  const { stored, validate } = admit(request(mallory, withoutProbe(exempt), withProbe(exempt)), '')
  t.same(validate.exempted.map((f) => f.rule), ['readiness-probe'])
  t.equal(stored.metadata!.annotations![APPROVAL_ANNOTATION], undefined)
})

t.test('upgrades: exemptions.honourUnrecordedUntil keeps unrecorded ones for a while, with a notice', async (t) => {
  const planted = (config: string) => admit(request(mallory, withoutProbe(exempt), withProbe(exempt)), config)
  const during = planted(`exemptions: {approvers: {users: [carol], groups: [platform-team]}, honourUnrecordedUntil: '2026-11-30'}`)
  t.equal(during.validate.allowed, true)
  t.same(during.validate.exempted.map((f) => f.rule), ['readiness-probe'])
  t.match(during.notices.join('\n'), /no approval record \(hitless\.dev\/exempt-approval\); honoured through 2026-11-30 only \(exemptions\.honourUnrecordedUntil\)/)
  const after = planted(`exemptions: {approvers: {users: [carol], groups: [platform-team]}, honourUnrecordedUntil: '2026-11-22'}`)
  t.equal(after.validate.allowed, false, 'after the date they no longer count')
  t.throws(() => configFrom('exemptions: {honourUnrecordedUntil: soon}'), /honourUnrecordedUntil: must match pattern/)
})

t.test('audits list object exemptions without a record', async (t) => {
  const { auditManifests } = await import('../../src/audit/run.ts')
  const { parseManifests } = await import('../../src/audit/manifests.ts')
  const text = [withoutProbe(exempt), withProbe({ ...exempt, [APPROVAL_ANNOTATION]: 'by carol; hmac-sha256:' + '0'.repeat(64) })].map((o) => JSON.stringify(o)).join('\n---\n')
  const notices = (config: string) => auditManifests(parseManifests(text, 'live').manifests, configFrom(config), { defaultNamespace: 'shop', now: NOW }).notices.map((n) => n.notice)
  const listed = notices(gated)
  t.equal(listed.length, 1, 'only the one without a record')
  t.match(listed[0], /^Deployment shop\/web: hitless\.dev\/exempt: "readiness-probe" has no approval record \(hitless\.dev\/exempt-approval\): the webhook does not honour it; an exemption approver \(user carol, group platform-team\) approves it/)
  t.same(notices(''), [], 'without approvers, nothing to say')
})
