// The CEL twin of resolveExemptions (hitless export-policies): whether an exemption annotation set on the
// object or its Namespace covers a rule (and a container) and counts. Everything the webhook checks is
// here but what needs a clock: CEL has none, so an expired hitless.dev/exempt-until, or one further out
// than exemptions.maxDays, still counts in the API server (`hitless audit --cluster` reports them).
// Its format is checked, so a malformed date does not count, as in the webhook; a date that does not
// exist (2026-02-30) passes the format.
import { cond, q, qList, regexLiteral } from '../model/cel.ts'
import { APPROVAL_ANNOTATION, EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from './annotations.ts'
import type { ExemptionPolicy } from './resolve.ts'
import { approvalsOn, IGNORE_LABEL, MODE_LABEL } from './approval.ts'

const KEYS = [EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION]
// expiry.ts's formats: an RFC 3339 date, or date-time.
const UNTIL_FORMAT = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$|^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$'

/** CEL map: the annotations of `root` (`object`, `oldObject`, `namespaceObject`), {} when it has none. */
export const annotationsCel = (root: string) => cond(`${root} != null && has(${root}.metadata) && has(${root}.metadata.annotations)`, `${root}.metadata.annotations`, '{}')

/** CEL string: the trimmed value of annotation `key` in the CEL map `a`, '' when it is absent. */
const valueOf = (a: string, key: string) => cond(`${q(key)} in ${a}`, `${a}[${q(key)}].trim()`, "''")

/** CEL bools: whether the object's and the Namespace's annotation sets count, whichever rule they name. */
export interface ExemptionSets {
  /** CEL maps: the annotations of the object and of its Namespace. */
  object: string
  namespace: string
  /** CEL bools: each set counts (exemptionSetCountsCel). */
  objectCounts: string
  namespaceCounts: string
}

/**
 * CEL bool: the set of annotations in `a` counts, whichever rule it names: setProblem's twin (a reason
 * when required, an exempt-until in the format and present when maxDays asks for one, and for the
 * object's own set, an approver when the request adds or changes it: `oldAnnotations`, the old
 * object's, {} on CREATE). Expiry and maxDays' distance are not checked: CEL has no clock.
 */
export function exemptionSetCountsCel(a: string, source: 'object' | 'namespace', oldAnnotations: string, policy: ExemptionPolicy): string {
  const checks: string[] = []
  if (policy.requireReason) checks.push(`${valueOf(a, REASON_ANNOTATION)} != ''`)
  const until = valueOf(a, UNTIL_ANNOTATION)
  checks.push(cond(`${until} != ''`, `${until}.matches(${q(UNTIL_FORMAT)})`, policy.maxDays > 0 ? 'false' : 'true'))
  if (source === 'object' && gated(policy)) {
    // exemptionChanged: on CREATE any of the three counts as added.
    const changed = `oldObject == null || ${qList(KEYS)}.exists(k, (k in ${a}) != (k in ${oldAnnotations}) || (k in ${a} && ${a}[k] != ${oldAnnotations}[k]))`
    checks.push(`(!(${changed}) || ${approverCel(policy)})`)
  }
  return checks.join(' && ')
}

/** Whether exemptions.approvers names anyone (else anyone may add an exemption). */
export const gated = approvalsOn

/** CEL bool: the request comes from an exemption approver (isApprover's twin). */
export function approverCel(policy: ExemptionPolicy): string {
  const { users, groups } = policy.approvers
  return `((has(request.userInfo.username) && request.userInfo.username in ${qList(users)}) || (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${qList(groups)})))`
}

/**
 * CEL list<string>: the gated keys a request adds or changes (grantsChanged's twin): the exemption
 * annotations and the approval record, and on a Namespace hitless.dev/ignore and a hitless.dev/mode other than enforce.
 */
export function grantsChangedCel(namespace: boolean): string {
  const map = (root: string, field: string) => cond(`${root} != null && has(${root}.metadata) && has(${root}.metadata.${field})`, `${root}.metadata.${field}`, '{}')
  const changed = (field: string, keys: string[], extra = '') =>
    `${qList(keys)}.filter(k, k in ${map('object', field)} && (!(k in ${map('oldObject', field)}) || ${map('object', field)}[k] != ${map('oldObject', field)}[k])${extra})`
  const annotations = changed('annotations', [...KEYS, APPROVAL_ANNOTATION])
  if (!namespace) return annotations
  return `${annotations} + ${changed('labels', [IGNORE_LABEL])} + ${changed('labels', [MODE_LABEL], ` && ${map('object', 'labels')}[k] != 'enforce'`)}`
}

/**
 * CEL bool: an exemption annotation set that counts (object's or Namespace's) covers `rule`, for the
 * container `container` (a CEL string; '' for a finding about the whole pod), or for every container
 * when `container` is undefined. False for rules in exemptions.forbiddenRules.
 */
export function exemptedCel(rule: string, container: string | undefined, sets: ExemptionSets, policy: ExemptionPolicy): string {
  if (policy.forbiddenRules.includes(rule)) return 'false'
  // parseExemptList: comma-separated `rule` or `rule:container`, blanks ignored, `*` for every rule.
  const head = `(^|,)\\s*(${regexLiteral(rule)}|\\*)\\s*`
  const pattern = container === undefined ? q(`${head}(:\\s*)?(,|$)`) : `${q(`${head}(:\\s*(`)} + ${container} + ${q('\\s*)?)?(,|$)')}`
  const covers = (a: string) => `${q(EXEMPT_ANNOTATION)} in ${a} && ${a}[${q(EXEMPT_ANNOTATION)}].matches(${pattern})`
  const clauses = [`(${sets.objectCounts} && ${covers(sets.object)})`]
  if (sets.namespace !== '{}') clauses.push(`(${sets.namespaceCounts} && ${covers(sets.namespace)})`)
  return clauses.join(' || ')
}

/** The prefix of every label and annotation key hitless reads (modes, ignore, exemptions, approvals). */
export const HITLESS_KEY_PREFIX = 'hitless.dev/'

/**
 * CEL bool over `object` and `oldObject` (a webhook's matchCondition): the request adds, changes or
 * removes a `hitless.dev/` label or annotation, or one of `labels` (keys of other owners that a rule
 * judges on a Namespace). A superset of grantsChangedCel's keys: the webhook judges exactly; this only
 * decides whether it is asked.
 */
export function hitlessKeysChangedCel(labels: readonly string[] = []): string {
  const map = (root: string, field: string) => `(${root} != null && has(${root}.metadata) && has(${root}.metadata.${field}) ? ${root}.metadata.${field} : {})`
  const prefix = q(HITLESS_KEY_PREFIX)
  const changed = (field: string, keys: readonly string[]) => {
    const now = map('object', field)
    const before = map('oldObject', field)
    const ours = [`k.startsWith(${prefix})`, ...keys.map((key) => `k == ${q(key)}`)].join(' || ')
    const judged = keys.length > 0 ? `(${ours})` : ours
    return [
      `${now}.exists(k, ${judged} && (!(k in ${before}) || ${before}[k] != ${now}[k]))`,
      `${before}.exists(k, ${judged} && !(k in ${now}))`,
    ]
  }
  return `(${[...changed('labels', labels), ...changed('annotations', [])].map((clause) => `(${clause})`).join(' || ')})`
}
