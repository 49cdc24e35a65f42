// Exemptions end to end through the engine and the admission answer, on a fixed clock.
import t from 'tap'
import { decide } from '../../src/engine/decide.ts'
import { judge, type ReviewEnvironment } from '../../src/engine/judge.ts'
import { namespacesFrom } from '../../src/model/namespaces.ts'
import type { KubeObject, ReviewInput } from '../../src/model/types.ts'
import { warningsFor, denyMessage } from '../../src/admission/messages.ts'
import { loadYaml, policyFrom, reviewOf } from '../helpers/objects.ts'

const NOW = new Date('2026-11-23T12:00:00Z')
const environment = (namespaces: KubeObject[] = []): ReviewEnvironment => ({ now: () => NOW, namespaces: namespacesFrom(namespaces) })

/** fires-bare-pod in namespace default: readiness-probe (deny) and pre-stop (mutate) on container web. */
function pod(annotations: Record<string, string> = {}): KubeObject {
  const object = loadYaml('readiness-probe/fires-bare-pod.yaml')
  object.metadata = { ...object.metadata, annotations }
  return object
}

const valid = (exempt: string, extra: Record<string, string> = {}) => ({
  'hitless.dev/exempt': exempt,
  'hitless.dev/exempt-reason': 'vendor image, probe tracked in JIRA-42',
  'hitless.dev/exempt-until': '2026-12-31',
  ...extra,
})

function run(review: ReviewInput, config = '', namespaces: KubeObject[] = []) {
  const { evaluation, mode } = judge(review, policyFrom(config), environment(namespaces))
  const validate = decide(evaluation, 'validate', mode === 'off' ? 'enforce' : mode)
  return { evaluation, validate, mutate: decide(evaluation, 'mutate', mode === 'off' ? 'enforce' : mode), warnings: warningsFor(validate) }
}

t.test('an honoured exemption allows, with a warning naming rule, reason and expiry', async (t) => {
  const { validate, warnings, evaluation } = run(reviewOf(pod(valid('readiness-probe'))))
  t.same(validate.denied.map((f) => f.rule), ['pre-stop'], 'only the exempted rule is let through')
  t.same(validate.exempted.map((f) => f.rule), ['readiness-probe'])
  t.same(evaluation.findings[0]!.exemption, { honoured: true, source: 'object', reason: 'vendor image, probe tracked in JIRA-42', until: '2026-12-31' })
  t.ok(warnings.includes('hitless [readiness-probe]: exempted for container "web" until 2026-12-31: vendor image, probe tracked in JIRA-42'))
})

t.test('* exempts every rule; an exempted fix is not patched, and later rules do not see it', async (t) => {
  const object = pod(valid('*'))
  object.spec = { ...object.spec, terminationGracePeriodSeconds: 12 }
  const { validate, mutate } = run(reviewOf(object), 'rules: {pre-stop: {sleepSeconds: 5}}')
  t.equal(validate.allowed, true)
  t.same(validate.exempted.map((f) => f.rule), ['readiness-probe', 'pre-stop'])
  t.same(mutate.patch, [], 'no preStop injected, so the 12 s grace period still covers 0 + 10 s')
})

t.test('a container scope covers only that container', async (t) => {
  const object = loadYaml('readiness-probe/fires-statefulset-two-serving-containers.yaml')
  object.metadata = { ...object.metadata, annotations: valid('readiness-probe:admin') }
  const { validate } = run(reviewOf(object), 'rules: {pre-stop: {action: off}}')
  t.same(validate.denied.map((f) => f.container), ['db'])
  t.same(validate.exempted.map((f) => f.container), ['admin'])
})

t.test('exemptions that do not count say why, in the deny and the warnings', async (t) => {
  const cases: [string, Record<string, string>, string, string?][] = [
    ['reason missing', { 'hitless.dev/exempt': 'readiness-probe', 'hitless.dev/exempt-until': '2026-12-31' }, 'no hitless.dev/exempt-reason'],
    ['expired yesterday', valid('readiness-probe', { 'hitless.dev/exempt-until': '2026-11-22' }), 'expired on 2026-11-22'],
    ['beyond maxDays', valid('readiness-probe', { 'hitless.dev/exempt-until': '2027-06-01' }), 'expires 2027-06-01, more than 90 days out (exemptions.maxDays)'],
    ['no expiry', { 'hitless.dev/exempt': 'readiness-probe', 'hitless.dev/exempt-reason': 'x' }, 'no hitless.dev/exempt-until: exemptions must expire within 90 days'],
    ['not a date', valid('readiness-probe', { 'hitless.dev/exempt-until': 'next week' }), 'hitless.dev/exempt-until "next week" is not an RFC 3339 date or date-time'],
    ['forbidden rule', valid('readiness-probe'), 'readiness-probe cannot be exempted (exemptions.forbiddenRules)', 'exemptions: {forbiddenRules: [readiness-probe]}'],
  ]
  for (const [name, annotations, why, config] of cases) {
    const { validate } = run(reviewOf(pod(annotations)), config)
    const finding = validate.denied.find((f) => f.rule === 'readiness-probe')
    t.same(finding?.exemption, { honoured: false, source: 'object', why }, name)
    t.match(denyMessage(validate), `[readiness-probe] container "web" has no readinessProbe (exemption not honoured: ${why})`, `${name}: in the deny`)
  }
  const warn = run(reviewOf(pod(valid('readiness-probe', { 'hitless.dev/exempt-until': '2026-11-22' }))), 'rules: {readiness-probe: {action: warn}}')
  t.ok(warn.warnings.includes('hitless [readiness-probe]: container "web" has no readinessProbe (exemption not honoured: expired on 2026-11-22)'), 'and in a warning')
})

t.test('an expiry counts until the end of the day it names', async (t) => {
  t.equal(run(reviewOf(pod(valid('readiness-probe', { 'hitless.dev/exempt-until': '2026-11-23' })))).validate.exempted.length, 1)
  t.equal(run(reviewOf(pod(valid('readiness-probe', { 'hitless.dev/exempt-until': '2026-11-23T11:59:59Z' })))).validate.exempted.length, 0)
})

t.test('maxDays 0 and requireReason false relax the requirements', async (t) => {
  const bare = pod({ 'hitless.dev/exempt': 'readiness-probe' })
  t.equal(run(reviewOf(bare), 'exemptions: {maxDays: 0, requireReason: false}').validate.exempted.length, 1)
  t.equal(run(reviewOf(bare), 'exemptions: {maxDays: 0}').validate.exempted.length, 0)
})

t.test('an unknown rule id is reported even when nothing else fires', async (t) => {
  const object = loadYaml('readiness-probe/passes-has-probe.yaml')
  object.metadata = { ...object.metadata, annotations: valid('readyness-probe, pre-stop') }
  const { warnings } = run(reviewOf(object))
  t.ok(warnings.includes('hitless: hitless.dev/exempt on the object names unknown rule "readyness-probe"'))
})

t.test('approvers: who may add or change an exemption', async (t) => {
  const config = 'exemptions: {approvers: {users: [carol], groups: [platform-team]}}'
  const annotations = valid('readiness-probe')
  // A Deployment: unlike a Pod, its UPDATEs are judged.
  const deployment = (extra: Record<string, string> = annotations) => {
    const object = loadYaml('readiness-probe/fires-deployment-no-probe.yaml')
    object.metadata = { ...object.metadata, annotations: extra }
    return object
  }
  const as = (username: string, groups: string[], oldObject: KubeObject | null) => {
    const review = { ...reviewOf(deployment(), { operation: oldObject ? 'UPDATE' : 'CREATE', oldObject }), userInfo: { username, groups } }
    return run(review, config).validate
  }
  t.equal(as('carol', [], null).exempted.length, 1, 'an approving user adds one')
  t.equal(as('dave', ['platform-team'], null).exempted.length, 1, 'a member of an approving group adds one')
  const refused = as('mallory', ['devs'], null)
  t.equal(refused.exempted.length, 0, 'a non-approver cannot add one')
  t.match(refused.denied.map((f) => f.rule), ['exemption-approval', 'readiness-probe'], 'the request is refused for the annotations themselves')
  t.match(refused.denied[0]!.message, /mallory is not an exemption approver and may not add or change hitless\.dev\/exempt, hitless\.dev\/exempt-reason, hitless\.dev\/exempt-until/)
  t.match(refused.denied[1]!.exemption, { honoured: false, why: 'mallory is not an exemption approver' })
  const unrecorded = as('mallory', ['devs'], deployment())
  t.equal(unrecorded.exempted.length, 0, 'an unchanged one without an approval record does not count')
  t.match([...unrecorded.denied, ...unrecorded.warned].find((f) => f.rule === 'readiness-probe')!.exemption, { honoured: false, why: /^no approval record \(hitless\.dev\/exempt-approval\): an exemption approver \(user carol, group platform-team\) approves it/ })
  const before = deployment({ ...annotations, 'hitless.dev/exempt-until': '2026-12-01' })
  t.equal(as('mallory', ['devs'], before).exempted.length, 0, 'a non-approver cannot change one')
  t.equal(as('carol', [], before).exempted.length, 1, 'an approver can')
})

t.test('namespace annotations exempt everything in the namespace', async (t) => {
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', annotations: valid('*') } }
  const { validate, warnings } = run(reviewOf(pod()), '', [namespace])
  t.equal(validate.allowed, true)
  t.same(validate.exempted.map((f) => f.exemption?.source), ['namespace', 'namespace'])
  t.ok(warnings.includes('hitless [readiness-probe]: exempted for container "web" by its namespace until 2026-12-31: vendor image, probe tracked in JIRA-42'))
  t.equal(run(reviewOf(pod()), '', [{ ...namespace, metadata: { name: 'other', annotations: valid('*') } }]).validate.allowed, false, 'only its own namespace')
  const expiredOnObject = pod(valid('*', { 'hitless.dev/exempt-until': '2026-01-01' }))
  t.equal(run(reviewOf(expiredOnObject), '', [namespace]).validate.allowed, true, 'a valid namespace exemption wins over an expired object one')
})
