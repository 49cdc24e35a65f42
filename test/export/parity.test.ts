// Parity: the exported admission policies, evaluated with a JavaScript CEL (@marcbachmann/cel-js; see
// test/helpers/admission-policy.ts), give every request the verdict the webhook gives it: per rule the
// same outcome (deny, warn, audit-mode warning, or nothing), the same findings (container, message, why
// it is serving, the fix as `hitless audit` prints it), and with --mutating the same object the /mutate
// patch makes, in either order of the two mutating policies. Over every fixture of every rule (fires-*
// and passes-*), objects made for the cases fixtures lack, as CREATE and as an UPDATE of itself, by a
// person and by a controller, under several configs, namespace modes and exemptions.
//
// The webhook is run without cluster state: the policies cannot see Services (divergences.test.ts holds
// the fixtures where that makes a difference), and its clock stands still at NOW with exemptions that
// have not expired (the policies have no clock).
import t, { type Test } from 'tap'
import { parseConfig, type Config } from '../../src/config/load.ts'
import { exportPolicies } from '../../src/export/policies.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { approvalRefusal } from '../../src/exemptions/approval.ts'
import { bindingsFor, plain, runPolicy, type Request } from '../helpers/admission-policy.ts'
import { annotated, fixtureCases, madeCases, type Case } from './cases.ts'
import { mutated, policies, webhook } from './verdicts.ts'

const VERSION = { major: 1, minor: 36 }
const USERS = {
  person: { username: 'alice', groups: ['system:authenticated', 'dev'] },
  controller: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
}
const FIXING_ORDERS = [
  ['pre-stop', 'termination-grace-period'],
  ['termination-grace-period', 'pre-stop'],
]

const cases: Case[] = [...fixtureCases(), ...madeCases()]

type Variant = { label: string; request: Omit<Request, 'userInfo'> }

function requests(c: Case): Variant[] {
  const base = { operation: c.operation, object: c.object, oldObject: c.oldObject ?? null }
  const list: Variant[] = [{ label: c.operation, request: base }]
  // The object updated to itself: every deny finding is one it already had.
  if (c.operation === 'CREATE' && c.object.kind !== 'Pod') list.push({ label: 'UPDATE of itself', request: { operation: 'UPDATE', object: c.object, oldObject: c.object } })
  return list
}

/** Checks every case under `config` (and with `extra` requests); returns how many verdicts were compared. */
function compare(t: Test, config: Config, variants: (c: Case) => Variant[] = requests): number {
  const { documents } = exportPolicies(config, { kubernetesVersion: VERSION, mutating: true })
  let compared = 0
  for (const c of cases) {
    if (c.object.kind === 'Service') continue
    for (const { label, request: partial } of variants(c)) {
      for (const [who, userInfo] of Object.entries(USERS)) {
        const request: Request = { ...partial, userInfo }
        const name = `${c.name} (${label}, ${who})`
        const expected = webhook(config, request, VERSION)
        t.same(policies(documents, request), expected.verdicts, `${name}: verdicts`)
        for (const order of FIXING_ORDERS) {
          const { object } = mutated(documents, request, order)
          t.same(object, expected.patched, `${name}: mutated (${order.join(', ')})`)
          // Reinvoked, the policies find nothing more to do.
          t.equal(mutated(documents, { ...request, object }, order).patches, 0, `${name}: nothing more to patch`)
        }
        compared++
      }
    }
  }
  return compared
}

const config = (yaml: string) => parseConfig(yaml, 'test config')

t.test('the shipped config', async (t) => {
  t.ok(compare(t, config('')) > 200)
})

t.test('every rule at deny (no fix in the same review)', async (t) => {
  compare(t, config('rules: {pre-stop: {action: deny}, termination-grace-period: {action: deny}, liveness-probe: {action: deny}}'))
})

t.test('exec sleeps, no ignored containers, dashed port names, a short drain', async (t) => {
  compare(t, config('servingContainers: {ignore: [], nonServingPortNames: [metrics, http-metrics, admin]}\nrules: {pre-stop: {style: exec, sleepSeconds: 12}, termination-grace-period: {drainSeconds: 3}, probe-port: {action: warn}}'))
})

t.test('audit mode', async (t) => {
  compare(t, config('mode: audit'))
})

t.test('allowExistingViolations off, pre-stop at warn', async (t) => {
  compare(t, config('allowExistingViolations: false\nrules: {pre-stop: {action: warn}, readiness-probe: {action: warn}}'))
})

const namespace = (labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', ...labels }, annotations } })

t.test('namespace modes and the ignore label', async (t) => {
  for (const [mode, labels] of [
    ['audit', { 'hitless.dev/mode': 'audit' }],
    ['off', { 'hitless.dev/mode': 'off' }],
    ['enforce in an audit config', { 'hitless.dev/mode': 'enforce' }],
    ['a mode label of no meaning', { 'hitless.dev/mode': 'loud' }],
    ['ignored', { 'hitless.dev/ignore': 'true' }],
  ] as const) {
    const yaml = mode === 'enforce in an audit config' ? 'mode: audit' : ''
    compare(t, config(yaml), (c) => requests(c).map(({ label, request }) => ({ label: `${label}, namespace ${mode}`, request: { ...request, namespace: namespace(labels) } })))
  }
  const system = { ...cases.find((c) => c.name === 'readiness-probe/fires-deployment-no-probe.yaml')! }
  system.object = { ...system.object, metadata: { ...system.object.metadata, namespace: 'kube-system' } }
  const { documents } = exportPolicies(config(''), { kubernetesVersion: VERSION, mutating: true })
  t.same(policies(documents, { operation: 'CREATE', object: system.object, userInfo: USERS.person }), {}, 'kube-system is skipped')
})

t.test('exemptions', async (t) => {
  const until = '2026-07-01'
  const sets: [string, Record<string, string>, Record<string, string>?][] = [
    ['every rule', { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'migration', 'hitless.dev/exempt-until': until }],
    ['two rules, one for one container', { 'hitless.dev/exempt': ' readiness-probe : web , pre-stop', 'hitless.dev/exempt-reason': 'PLAT-1', 'hitless.dev/exempt-until': `${until}T12:00:00Z` }],
    ['grace period and probes, blanks in the list', { 'hitless.dev/exempt': 'termination-grace-period,,probe-port:,liveness-probe:web', 'hitless.dev/exempt-reason': 'x', 'hitless.dev/exempt-until': until }],
    ['no reason', { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-until': until }],
    ['a blank reason', { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': '  ', 'hitless.dev/exempt-until': until }],
    ['no until (maxDays)', { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'r' }],
    ['an until that is no date', { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'r', 'hitless.dev/exempt-until': 'next week' }],
    ['an unknown rule and a container of another name', { 'hitless.dev/exempt': 'no-such-rule, readiness-probe:worker', 'hitless.dev/exempt-reason': 'r', 'hitless.dev/exempt-until': until }],
    ['the namespace exempts pre-stop', {}, { 'hitless.dev/exempt': 'pre-stop', 'hitless.dev/exempt-reason': 'r', 'hitless.dev/exempt-until': until }],
    ['the namespace exempts without a reason', {}, { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-until': until }],
  ]
  const variants = (c: Case) =>
    sets.flatMap(([label, own, onNamespace]) =>
      requests(c).map(({ label: operation, request }) => ({
        label: `${operation}, ${label}`,
        request: {
          ...request,
          object: annotated(request.object, own),
          ...(request.oldObject ? { oldObject: annotated(request.oldObject, own) } : {}),
          ...(onNamespace ? { namespace: namespace({}, onNamespace) } : {}),
        },
      })),
    )
  compare(t, config(''), variants)
  compare(t, config('exemptions: {requireReason: false, maxDays: 0, forbiddenRules: [readiness-probe]}'), variants)
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
  for (const [label, oldObject, object] of changes) {
    for (const userInfo of [{ username: 'alice', groups: ['dev'] }, { username: 'carol', groups: ['platform'] }]) {
      const request: Request = { operation: oldObject ? 'UPDATE' : 'CREATE', object, oldObject, userInfo }
      const refusal = approvalRefusal('Namespace', object.metadata, oldObject?.metadata, userInfo, approvers.exemptions)
      const run = runPolicy(policy, request)
      t.same(plain(run.variables['violations']), refusal ? [{ container: '', message: refusal.message, fix: refusal.fix, because: '' }] : [], `${label}, by ${userInfo.username}`)
      t.equal(bindingsFor(documents, 'ValidatingAdmissionPolicyBinding', 'hitless-namespace-approval', request).length, 1, `${label}: the binding holds whatever the labels`)
    }
  }
})
