// --format json: { findings: [...], summary: {...} } with the contract fields first.
import type { AuditResult } from '../audit/run.ts'
import { exemptionNote, locate, type Summary } from './common.ts'

export function renderJson(result: AuditResult, summary: Summary): string {
  const findings = result.findings.map((finding) => {
    const where = locate(finding)
    const note = exemptionNote(finding)
    return {
      rule: finding.rule,
      action: finding.action,
      kind: finding.object.kind,
      ...(finding.object.namespace ? { namespace: finding.object.namespace } : {}),
      name: finding.object.name,
      ...(finding.container ? { container: finding.container } : {}),
      message: finding.message,
      ...(where.file ? { file: where.file } : {}),
      ...(where.line !== undefined ? { line: where.line } : {}),
      ...(where.input ? { input: where.input } : {}),
      level: finding.level,
      outcome: finding.outcome,
      ...(note ? { exemption: note } : {}),
      fix: finding.fix,
    }
  })
  const errors = result.errors.map((e) => ({ file: e.file, ...(e.line !== undefined ? { line: e.line } : {}), message: e.message }))
  const notices = result.notices.map(({ manifest, notice }) => ({ file: manifest.file, line: manifest.line, message: notice }))
  return JSON.stringify({ findings, summary: { ...summary, ...(errors.length ? { inputErrors: errors } : {}), ...(notices.length ? { notices } : {}) } }, null, 2) + '\n'
}
