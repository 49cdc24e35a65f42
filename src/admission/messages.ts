// The words users see: the deny text kubectl prints after "denied the request:", and the short
// warnings kubectl prints as "Warning: ...". Both are views of Findings.
import { EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from '../exemptions/annotations.ts'
import { ruleById } from '../rules/index.ts'
import type { Decision } from '../engine/decide.ts'
import type { Finding, ObjectRef } from '../engine/types.ts'

// Kubernetes asks for warnings under 120 characters and truncates long or many ones.
const MAX_WARNING_LENGTH = 160
const MAX_WARNINGS = 12

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`
}

/** The finding's message, with why an exemption that covers it does not count. */
export function findingText(finding: Finding): string {
  const exemption = finding.exemption
  return exemption && !exemption.honoured ? `${finding.message} (exemption not honoured: ${exemption.why})` : finding.message
}

function indent(text: string, by: string): string {
  return text.split('\n').map((line) => by + line).join('\n')
}

function denyEntry(finding: Finding): string {
  const why = ruleById(finding.rule)?.why
  return `[${finding.rule}] ${findingText(finding)}${why ? `: ${why}` : ''}\n  fix:\n${indent(finding.fix, '    ')}`
}

export function denyMessage(decision: Decision): string {
  const [first] = decision.denied
  if (!first) return ''
  const count = decision.denied.length
  const head = `hitless: ${describeRef(first.object)} has ${count} problem${count === 1 ? '' : 's'}`
  const exception = `To request an exception, annotate the object with ${EXEMPT_ANNOTATION}: ${first.rule}, ${REASON_ANNOTATION} and ${UNTIL_ANNOTATION}.`
  return [head, ...decision.denied.map(denyEntry), exception].join('\n')
}

function exemptedText(finding: Finding): string {
  const exemption = finding.exemption
  if (!exemption?.honoured) return finding.message
  const scope = finding.container ? ` for container "${finding.container}"` : ''
  const until = exemption.until ? ` until ${exemption.until}` : ''
  const where = exemption.source === 'namespace' ? ' by its namespace' : ''
  return `exempted${scope}${where}${until}: ${exemption.reason ?? 'no reason given'}`
}

function clip(text: string): string {
  return text.length <= MAX_WARNING_LENGTH ? text : `${text.slice(0, MAX_WARNING_LENGTH - 1)}…`
}

export function warningsFor(decision: Decision): string[] {
  const lines = [
    ...decision.wouldDeny.map((f) => `[audit] hitless [${f.rule}]: would deny: ${findingText(f)}`),
    ...decision.wouldPatch.map((f) => `[audit] hitless [${f.rule}]: would patch: ${findingText(f)}`),
    ...decision.patched.map((f) => `hitless [${f.rule}]: ${f.patchSummary ?? `fixed: ${f.message}`}`),
    ...decision.warned.map((f) => `hitless [${f.rule}]: ${findingText(f)}`),
    ...decision.exempted.map((f) => `hitless [${f.rule}]: ${exemptedText(f)}`),
    ...decision.notices.map((notice) => `hitless: ${notice}`),
  ].map(clip)
  if (lines.length <= MAX_WARNINGS) return lines
  return [...lines.slice(0, MAX_WARNINGS - 1), `hitless: ${lines.length - MAX_WARNINGS + 1} more findings not shown`]
}
