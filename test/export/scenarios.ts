// The requests the exported policies and the webhook are compared on, grouped in scenarios (a config and
// the requests put under it), shared by the JavaScript parity tests (parity-*.test.ts, one file per group
// so that each stays well under tap's timeout) and the Go checker's input (test/export-go/input.ts): every
// case of cases.ts as CREATE and as an UPDATE of itself, by a person and by a controller, under several
// configs, namespace modes and exemptions.
import { parseConfig, type Config } from '../../src/config/load.ts'
import type { KubeObject } from '../../src/model/types.ts'
import type { Request } from '../helpers/admission-policy.ts'
import { annotated, fixtureCases, madeCases, type Case } from './cases.ts'

export const VERSION = { major: 1, minor: 36 }
export const USERS = {
  person: { username: 'alice', groups: ['system:authenticated', 'dev'] },
  controller: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
}
export const FIXING_ORDERS = [
  ['pre-stop', 'termination-grace-period'],
  ['termination-grace-period', 'pre-stop'],
]

export const CASES: Case[] = [...fixtureCases(), ...madeCases()]

export type Variant = { label: string; request: Omit<Request, 'userInfo'> }

/** A case as it is reviewed, and (not for Pods) as an UPDATE to itself: every deny finding one it already had. */
export function requests(c: Case): Variant[] {
  const base = { operation: c.operation, object: c.object, oldObject: c.oldObject ?? null }
  const list: Variant[] = [{ label: c.operation, request: base }]
  if (c.operation === 'CREATE' && c.object.kind !== 'Pod') list.push({ label: 'UPDATE of itself', request: { operation: 'UPDATE', object: c.object, oldObject: c.object } })
  return list
}

export interface Scenario {
  name: string
  config: Config
  variants: (c: Case) => Variant[]
}

/** One request of a scenario: a case, a variant of it, a user. */
export interface Judged {
  name: string
  request: Request
}

/** Every request of a scenario (Services are left out: no exported policy judges them). */
export function requestsOf(scenario: Scenario): Judged[] {
  const list: Judged[] = []
  for (const c of CASES) {
    if (c.object.kind === 'Service') continue
    for (const { label, request } of scenario.variants(c)) {
      for (const [who, userInfo] of Object.entries(USERS)) list.push({ name: `${c.name} (${label}, ${who})`, request: { ...request, userInfo } })
    }
  }
  return list
}

export const config = (yaml: string) => parseConfig(yaml, 'test config')

export const namespace = (labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', ...labels }, annotations },
})

const inNamespace = (mode: string, labels: Record<string, string>) => (c: Case) =>
  requests(c).map(({ label, request }) => ({ label: `${label}, namespace ${mode}`, request: { ...request, namespace: namespace(labels) } }))

const EXEMPTION_SETS: [string, Record<string, string>, Record<string, string>?][] = (() => {
  const until = '2026-07-01'
  return [
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
})()

const exempted = (c: Case): Variant[] =>
  EXEMPTION_SETS.flatMap(([label, own, onNamespace]) =>
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

/** The scenarios, by group: each group is one parity test file. */
export const SCENARIOS: Record<'configs' | 'namespaces' | 'exemptions', Scenario[]> = {
  configs: [
    { name: 'the shipped config', config: config(''), variants: requests },
    { name: 'every rule at deny (no fix in the same review)', config: config('rules: {pre-stop: {action: deny}, termination-grace-period: {action: deny}, liveness-probe: {action: deny}}'), variants: requests },
    {
      name: 'exec sleeps, no ignored containers, dashed port names, a short drain',
      config: config('servingContainers: {ignore: [], nonServingPortNames: [metrics, http-metrics, admin]}\nrules: {pre-stop: {style: exec, sleepSeconds: 12}, termination-grace-period: {drainSeconds: 3}, probe-port: {action: warn}}'),
      variants: requests,
    },
    { name: 'audit mode', config: config('mode: audit'), variants: requests },
    { name: 'allowExistingViolations off, pre-stop at warn', config: config('allowExistingViolations: false\nrules: {pre-stop: {action: warn}, readiness-probe: {action: warn}}'), variants: requests },
  ],
  namespaces: [
    { name: 'namespace mode audit', config: config(''), variants: inNamespace('audit', { 'hitless.dev/mode': 'audit' }) },
    { name: 'namespace mode off', config: config(''), variants: inNamespace('off', { 'hitless.dev/mode': 'off' }) },
    { name: 'namespace mode enforce in an audit config', config: config('mode: audit'), variants: inNamespace('enforce in an audit config', { 'hitless.dev/mode': 'enforce' }) },
    { name: 'a mode label of no meaning', config: config(''), variants: inNamespace('a mode label of no meaning', { 'hitless.dev/mode': 'loud' }) },
    { name: 'an ignored namespace', config: config(''), variants: inNamespace('ignored', { 'hitless.dev/ignore': 'true' }) },
  ],
  exemptions: [
    { name: 'exemptions, shipped config', config: config(''), variants: exempted },
    { name: 'exemptions, no reason or days required, readiness-probe forbidden', config: config('exemptions: {requireReason: false, maxDays: 0, forbiddenRules: [readiness-probe]}'), variants: exempted },
  ],
}
