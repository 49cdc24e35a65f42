// --format table (default): findings grouped by object, each with rule, container and a one-line fix,
// then a summary line. Colour only on a terminal (and never with NO_COLOR).
import type { AuditFinding, AuditResult } from '../audit/run.ts'
import { exemptionNote, locate, oneLineFix, type Summary } from './common.ts'

const COLOURS = { deny: '\x1b[31m', warn: '\x1b[33m', exempt: '\x1b[36m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' }

export function renderTable(result: AuditResult, summary: Summary, colour: boolean): string {
  const paint = (style: keyof typeof COLOURS, text: string) => (colour ? `${COLOURS[style]}${text}${COLOURS.reset}` : text)
  const groups = new Map<string, AuditFinding[]>()
  for (const finding of result.findings) {
    const key = `${finding.manifest.file}\0${finding.manifest.documentIndex}\0${finding.manifest.pathInDocument.join('.')}`
    groups.set(key, [...(groups.get(key) ?? []), finding])
  }
  const lines: string[] = []
  for (const findings of groups.values()) {
    const first = findings[0]!
    const where = locate(first)
    const ref = `${first.object.kind} ${first.object.namespace ? `${first.object.namespace}/` : ''}${first.object.name}`
    const at = !where.file ? 'live' : where.line !== undefined ? `${where.file}:${where.line}` : where.input ? `${where.file} (${where.input.file}:${where.input.line})` : where.file
    lines.push(`${paint('bold', ref)}  ${paint('dim', at)}`)
    for (const finding of findings) {
      const level = paint(finding.level, finding.level.padEnd(6))
      const container = finding.container ? `[${finding.container}] ` : ''
      lines.push(`  ${level} ${finding.rule.padEnd(25)} ${container}${finding.message}`)
      const note = exemptionNote(finding)
      lines.push(`         ${paint('dim', note ?? `fix: ${oneLineFix(finding.fix)}`)}`)
    }
    lines.push('')
  }
  for (const error of result.errors) lines.push(`${paint('deny', 'error')}  ${error.file}${error.line !== undefined ? `:${error.line}` : ''}: ${error.message}`)
  for (const { manifest, notice } of result.notices) lines.push(`${paint('warn', 'notice')} ${manifest.file ? `${manifest.file}:${manifest.line}` : 'live'}: ${notice}`)
  if (result.errors.length + result.notices.length > 0) lines.push('')
  const objectsWithFindings = groups.size
  lines.push(
    `${summary.objects} object${summary.objects === 1 ? '' : 's'} in ${summary.files} file${summary.files === 1 ? '' : 's'}: ` +
      `${objectsWithFindings} with findings, ${summary.deny} deny, ${summary.warn} warn, ${summary.exempt} exempt` +
      `${summary.errors ? `, ${summary.errors} input error${summary.errors === 1 ? '' : 's'}` : ''}` +
      // Input errors end the audit with exit 2, whatever the findings: say that, not "passed".
      (summary.errors > 0 ? ` (${paint('deny', 'exit 2: input errors')})` : ` (fail on ${summary.failOn}: ${summary.failed ? paint('deny', 'failed') : 'passed'})`),
  )
  return lines.join('\n') + '\n'
}
