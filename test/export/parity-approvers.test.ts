// Parity of the exported policies with the webhook (test/export/parity.ts) where exemptions.approvers
// gates who may add exemptions (on objects, and a Namespace's exemptions, ignore and mode labels), and in
// a system namespace the webhook configurations skip.
import t from 'tap'
import { exportPolicies } from '../../src/export/policies.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { approvalRefusal } from '../../src/exemptions/approval.ts'
import { bindingsFor, matchesResources, plain, runPolicy, type Request } from '../helpers/admission-policy.ts'
import { annotated } from './cases.ts'
import { CASES, config, USERS, VERSION } from './scenarios.ts'
import { policies, webhook } from './verdicts.ts'

const cases = CASES

t.test('kube-system is skipped', async (t) => {
  const system = { ...cases.find((c) => c.name === 'readiness-probe/fires-deployment-no-probe.yaml')! }
  system.object = { ...system.object, metadata: { ...system.object.metadata, namespace: 'kube-system' } }
  const { documents } = exportPolicies(config(''), { kubernetesVersion: VERSION, mutating: true })
  t.same(policies(documents, { operation: 'CREATE', object: system.object, userInfo: USERS.person }), {})
})

t.test('exemption approvers', async (t) => {
  const own = { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'r', 'hitless.dev/exempt-until': '2026-07-01' }
  const approvers = config('exemptions: {approvers: {users: [boss], groups: [platform]}}')
  const { documents } = exportPolicies(approvers, { kubernetesVersion: VERSION, mutating: true })
  const subject = cases.find((c) => c.name === 'readiness-probe/fires-deployment-no-probe.yaml')!.object
  const withExemption = annotated(subject, own)
  const users = { alice: { username: 'alice', groups: ['dev'] }, boss: { username: 'boss' }, platform: { username: 'carol', groups: ['platform'] } }
  for (const [who, userInfo] of Object.entries(users)) {
    for (const [label, request] of [
      ['CREATE with the exemption', { operation: 'CREATE', object: withExemption, oldObject: null }],
      ['UPDATE that adds it', { operation: 'UPDATE', object: withExemption, oldObject: subject }],
      ['UPDATE that keeps it', { operation: 'UPDATE', object: withExemption, oldObject: withExemption }],
      ['UPDATE that changes its reason', { operation: 'UPDATE', object: annotated(withExemption, { 'hitless.dev/exempt-reason': 'other' }), oldObject: withExemption }],
    ] as const) {
      const full: Request = { ...request, userInfo } as Request
      t.same(policies(documents, full), webhook(approvers, full, VERSION).verdicts, `${label}, by ${who}`)
    }
  }
})

t.test('exemption approvers: Namespaces, whose ignore and mode labels are gated too', async (t) => {
  const approvers = config('exemptions: {approvers: {users: [boss], groups: [platform]}}')
  const { documents } = exportPolicies(approvers, { kubernetesVersion: VERSION, mutating: false })
  const policy = documents.find((d) => d.metadata!.name === 'hitless-namespace-approval')!
  const ns = (labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', ...labels }, annotations } })
  const changes: [string, KubeObject | null, KubeObject][] = [
    ['CREATE, plain', null, ns({})],
    ['CREATE, ignored', null, ns({ 'hitless.dev/ignore': 'true' })],
    ['UPDATE to mode off', ns({}), ns({ 'hitless.dev/mode': 'off' })],
    ['UPDATE to mode enforce', ns({ 'hitless.dev/mode': 'audit' }), ns({ 'hitless.dev/mode': 'enforce' })],
    ['UPDATE that removes the ignore label', ns({ 'hitless.dev/ignore': 'x' }), ns({})],
    ['UPDATE that adds an exemption and the ignore label', ns({}), ns({ 'hitless.dev/ignore': '' }, { 'hitless.dev/exempt': '*' })],
    ['UPDATE that keeps mode audit', ns({ 'hitless.dev/mode': 'audit' }), ns({ 'hitless.dev/mode': 'audit', team: 'a' })],
  ]
  // An UPDATE through namespaces/status or /finalize is gated like an UPDATE (decision 0042).
  const writes = changes.flatMap(([label, oldObject, object]) =>
    (oldObject ? [undefined, 'status', 'finalize'] : [undefined]).map((subResource) => ({ label: subResource ? `${label} through namespaces/${subResource}` : label, oldObject, object, subResource })),
  )
  for (const { label, oldObject, object, subResource } of writes) {
    for (const userInfo of [{ username: 'alice', groups: ['dev'] }, { username: 'carol', groups: ['platform'] }]) {
      const request: Request = { operation: oldObject ? 'UPDATE' : 'CREATE', object, oldObject, userInfo, ...(subResource ? { subResource } : {}) }
      t.ok(matchesResources(policy, request), `${label}: matched`)
      const refusal = approvalRefusal('Namespace', object.metadata, oldObject?.metadata, userInfo, approvers.exemptions, subResource ? `namespaces/${subResource}` : undefined)
      const run = runPolicy(policy, request)
      t.same(plain(run.variables['violations']), refusal ? [{ container: '', message: refusal.message, fix: refusal.fix, because: '' }] : [], `${label}, by ${userInfo.username}`)
      t.equal(bindingsFor(documents, 'ValidatingAdmissionPolicyBinding', 'hitless-namespace-approval', request).length, 1, `${label}: the binding holds whatever the labels`)
    }
  }
})
