// One request, judged twice: by the webhook's own code (judge, decide, the /mutate patch) and by the
// exported admission policies run through the CEL simulator. Both come out in the same terms: per rule,
// an outcome and its findings, and the object as the mutations leave it.
import fastJsonPatch from 'fast-json-patch'
import { storeFrom } from '../../src/cluster/ingest.ts'
import type { Config } from '../../src/config/load.ts'
import { decide } from '../../src/engine/decide.ts'
import { APPROVAL_RULE } from '../../src/engine/evaluate.ts'
import { judge } from '../../src/engine/judge.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { SKIPPED_NAMESPACES } from '../../src/export/policies.ts'
import { apiGroupOf } from '../../src/model/api-group.ts'
import { namespaceInfo } from '../../src/model/namespaces.ts'
import type { Finding, KubeObject, KubernetesVersion } from '../../src/model/types.ts'
import { oneLineFix } from '../../src/report/common.ts'
import { bindingsFor, plain, runPolicy, mutationPatches, type Request } from '../helpers/admission-policy.ts'

export const NOW = new Date('2026-06-01T00:00:00Z')

export interface Seen {
  container: string
  message: string
  because: string
  /** The one-line fix; '' for pre-stop's conflicts, whose webhook fix shows the owner's hook as YAML. */
  fix: string
}

export type Outcome = 'deny' | 'warn' | 'audit'
/** Per rule id: what happens to the request, and why. Rules that let it through are absent. */
export type Verdicts = Record<string, { outcome: Outcome; findings: Seen[] }>

const conflict = (message: string) => message.includes('hitless injected earlier')
const sorted = (findings: Seen[]) => findings.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
const EXISTING = '(already so before this change; allowExistingViolations)'

function add(verdicts: Verdicts, rule: string, outcome: Outcome, seen: Seen) {
  const entry = (verdicts[rule] ??= { outcome, findings: [] })
  if (entry.outcome !== outcome) throw new Error(`${rule}: findings with outcomes ${entry.outcome} and ${outcome}`)
  entry.findings.push(seen)
}

// The webhook's side is pure in its inputs: one Policy per config (no cluster), one one-line fix per
// snippet, computed once (the parity tests and the Go checker's input put thousands of requests).
const policies_ = new WeakMap<Config, Map<string, ReturnType<typeof buildPolicy>>>()
function policyFor(config: Config, version: KubernetesVersion) {
  let byVersion = policies_.get(config)
  if (!byVersion) policies_.set(config, (byVersion = new Map()))
  const key = `${version.major}.${version.minor}`
  let policy = byVersion.get(key)
  if (!policy) byVersion.set(key, (policy = buildPolicy(config, { clusterVersion: version })))
  return policy
}
const fixes = new Map<string, string>()
function cachedFix(fix: string): string {
  let line = fixes.get(fix)
  if (line === undefined) fixes.set(fix, (line = oneLineFix(fix)))
  return line
}

function namespaceSkipped(request: Request): boolean {
  const name = request.object.metadata?.namespace ?? 'default'
  return SKIPPED_NAMESPACES.includes(name) || 'hitless.dev/ignore' in (request.namespace?.metadata?.labels ?? {})
}

/**
 * The webhook pair's verdict (/validate, as if /mutate had not run) for the rules that are exported
 * (those with `cel`), and its /mutate patch.
 */
export function webhook(config: Config, request: Request, version: KubernetesVersion, cluster?: KubeObject[]): { verdicts: Verdicts; patched: KubeObject } {
  const verdicts: Verdicts = {}
  // The webhook configurations' namespaceSelector: hitless is never called there.
  if (namespaceSkipped(request)) return { verdicts, patched: request.object }
  const policy = cluster ? buildPolicy(config, { clusterVersion: version, cluster: storeFrom(cluster) }) : policyFor(config, version)
  const { object, oldObject = null } = request
  const review = {
    operation: request.operation,
    kind: object.kind!,
    group: apiGroupOf(object),
    object,
    oldObject,
    namespace: object.metadata?.namespace ?? 'default',
    ...(object.metadata?.name ? { name: object.metadata.name } : {}),
    userInfo: request.userInfo,
    ...(request.subResource ? { subResource: request.subResource } : {}),
  }
  const namespaces = { get: () => (request.namespace ? namespaceInfo(request.namespace) : undefined) }
  const { mode, evaluation } = judge(review, policy, { now: () => NOW, namespaces })
  if (mode === 'off') return { verdicts, patched: object }
  const decision = decide(evaluation, 'validate', mode)
  const seen = (f: Finding): Seen => ({ container: f.container ?? '', message: f.message, because: f.because ?? '', fix: conflict(f.message) ? '' : cachedFix(f.fix) })
  // Only what is exported is compared: a rule without `cel` stays with the webhook (the header says so).
  const ruleIds = new Set([...policy.rules.filter((r) => r.rule.cel).map((r) => r.rule.id), APPROVAL_RULE])
  for (const f of decision.denied) if (ruleIds.has(f.rule)) add(verdicts, f.rule, 'deny', seen(f))
  for (const f of decision.warned) if (ruleIds.has(f.rule) && !f.message.endsWith(EXISTING)) add(verdicts, f.rule, 'warn', seen(f))
  for (const f of [...decision.wouldDeny, ...decision.wouldPatch]) if (ruleIds.has(f.rule)) add(verdicts, f.rule, 'audit', seen(f))
  for (const entry of Object.values(verdicts)) sorted(entry.findings)
  const patch = mode === 'enforce' ? evaluation.patch : []
  return { verdicts, patched: patch.length === 0 ? object : fastJsonPatch.applyPatch(structuredClone(object), patch, true, true).newDocument }
}

const ruleOf = (document: KubeObject) => document.metadata!.annotations!['hitless.dev/rule']!

/** The exported ValidatingAdmissionPolicies' verdict, rule by rule. */
export function policies(documents: KubeObject[], request: Request): Verdicts {
  const verdicts: Verdicts = {}
  for (const policy of documents.filter((d) => d.kind === 'ValidatingAdmissionPolicy')) {
    const bindings = bindingsFor(documents, 'ValidatingAdmissionPolicyBinding', policy.metadata!.name!, request)
    if (bindings.length > 1) throw new Error(`${policy.metadata!.name}: ${bindings.length} bindings select one namespace`)
    if (bindings.length === 0) continue
    const run = runPolicy(policy, request)
    if (run.skipped) continue
    const violations = plain(run.variables['violations']) as Seen[]
    if (violations.length === 0) {
      if (run.failures.length > 0) throw new Error('a validation failed without violations')
      continue
    }
    const message = run.failures[0]!
    for (const v of violations) if (!message.includes(v.message)) throw new Error(`the message does not say "${v.message}": ${message}`)
    const actions = (bindings[0]!.spec as { validationActions: string[] }).validationActions
    const outcome: Outcome = actions.includes('Deny') ? 'deny' : actions.includes('Audit') ? 'audit' : 'warn'
    for (const v of violations) add(verdicts, ruleOf(policy), outcome, { container: v.container, message: v.message, because: v.because, fix: conflict(v.message) ? '' : v.fix })
  }
  for (const entry of Object.values(verdicts)) sorted(entry.findings)
  return verdicts
}

/** The object after the exported MutatingAdmissionPolicies, run in `order` (rule ids), each on the result of the one before. */
export function mutated(documents: KubeObject[], request: Request, order: string[]): { object: KubeObject; patches: number } {
  let object = request.object
  let patches = 0
  for (const rule of order) {
    const policy = documents.find((d) => d.kind === 'MutatingAdmissionPolicy' && ruleOf(d) === rule)
    if (!policy || bindingsFor(documents, 'MutatingAdmissionPolicyBinding', policy.metadata!.name!, request).length === 0) continue
    const run = runPolicy(policy, { ...request, object })
    if (run.skipped) continue
    const patch = mutationPatches(policy, run)
    patches += patch.length
    if (patch.length > 0) object = fastJsonPatch.applyPatch(structuredClone(object), patch as fastJsonPatch.Operation[], true, true).newDocument
  }
  return { object, patches }
}
