// --format json: { schemaVersion, findings: [...], summary: {...} } with the contract fields first.
// schemaVersion changes when a field changes meaning or type; new fields may appear without it.
import type { AuditResult } from '../audit/run.ts'
import { locate, type Summary } from './common.ts'

export const JSON_SCHEMA_VERSION = 1

export function renderJson(result: AuditResult, summary: Summary): string {
  const findings = result.findings.map((finding) => {
    const where = locate(finding)
    const exemption = finding.exemption
    return {
      rule: finding.rule,
      action: finding.action,
      kind: finding.object.kind,
      ...(finding.object.namespace ? { namespace: finding.object.namespace } : {}),
      name: finding.object.name,
      ...(finding.container ? { container: finding.container } : {}),
      message: finding.message,
      ...(finding.because ? { because: finding.because } : {}),
      ...(where.file ? { file: where.file } : {}),
      ...(where.line !== undefined ? { line: where.line } : {}),
      ...(where.input ? { input: where.input } : {}),
      level: finding.level,
      outcome: finding.outcome,
      // As fields: honoured, source (object | namespace), and reason/until, or why it is not honoured.
      ...(exemption
        ? {
            exemption: exemption.honoured
              ? { honoured: true, source: exemption.source, ...(exemption.reason ? { reason: exemption.reason } : {}), ...(exemption.until ? { until: exemption.until } : {}) }
              : { honoured: false, source: exemption.source, why: exemption.why },
          }
        : {}),
      fix: finding.fix,
    }
  })
  const errors = result.errors.map((e) => ({ file: e.file, ...(e.line !== undefined ? { line: e.line } : {}), message: e.message }))
  const notices = result.notices.map(({ manifest, notice }) => ({ file: manifest.file, line: manifest.line, message: notice }))
  return JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, findings, summary: { ...summary, ...(errors.length ? { inputErrors: errors } : {}), ...(notices.length ? { notices } : {}) } }, null, 2) + '\n'
}
