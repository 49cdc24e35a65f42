// The words users see: the deny text kubectl prints after "denied the request:", and the short
// warnings kubectl prints as "Warning: ...". Both are views of Findings.
import { EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from '../exemptions/annotations.ts'
import { ruleById } from '../rules/index.ts'
import type { Decision } from '../engine/decide.ts'
import type { Finding, ObjectRef } from '../model/types.ts'

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

export { RULE_DOCS_BASE, ruleDocsUrl } from '../rules/docs-url.ts'
import { ruleDocsUrl } from '../rules/docs-url.ts'

function denyEntry(finding: Finding): string {
  const rule = ruleById(finding.rule)
  const docs = rule ? `\n  docs: ${ruleDocsUrl(rule.id)}` : ''
  const because = finding.because ? `\n  (${finding.because})` : ''
  return `[${finding.rule}] ${findingText(finding)}${rule?.why ? `: ${rule.why}` : ''}${because}\n  fix:\n${indent(finding.fix, '    ')}${docs}`
}

// The deny text is shown by kubectl and stored in events and audit logs: an object with a thousand
// containers must not make it a megabyte. Past these, the rest is summed up by rule.
const MAX_DENY_ENTRIES = 20
const MAX_DENY_CHARS = 16 * 1024

export function denyMessage(decision: Decision): string {
  const [first] = decision.denied
  if (!first) return ''
  const count = decision.denied.length
  const head = `hitless: ${describeRef(first.object)} has ${count} problem${count === 1 ? '' : 's'}`
  const rules = [...new Set(decision.denied.map((f) => f.rule))]
  const exception = `To request an exception, annotate the object with ${EXEMPT_ANNOTATION}: ${rules.join(', ')}, ${REASON_ANNOTATION} and ${UNTIL_ANNOTATION}.`
  const entries: string[] = []
  let size = head.length + exception.length
  for (const finding of decision.denied) {
    const entry = denyEntry(finding)
    if (entries.length >= MAX_DENY_ENTRIES || size + entry.length > MAX_DENY_CHARS) break
    entries.push(entry)
    size += entry.length + 1
  }
  const rest = decision.denied.slice(entries.length)
  if (rest.length > 0) {
    const byRule = new Map<string, number>()
    for (const finding of rest) byRule.set(finding.rule, (byRule.get(finding.rule) ?? 0) + 1)
    entries.push(`… and ${rest.length} more (${[...byRule].map(([rule, n]) => `${rule}: ${n}`).join(', ')})`)
  }
  return [head, ...entries, exception].join('\n')
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
