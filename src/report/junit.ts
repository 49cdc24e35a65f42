// --format junit: one testcase per audited object (classname: its file); findings at or above
// --fail-on are one failure, those below go to system-out, exempted ones are noted there too.
import type { AuditFinding, AuditResult } from '../audit/run.ts'
import type { Manifest } from '../audit/manifests.ts'
import { exemptionNote, failsAt, locate, oneLineFix, type FailOn } from './common.ts'

const escape = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)

function line(finding: AuditFinding): string {
  return `[${finding.level}] ${finding.rule}${finding.container ? ` (${finding.container})` : ''}: ${finding.message}; ${exemptionNote(finding) ?? `fix: ${oneLineFix(finding.fix)}`}`
}

export function renderJunit(result: AuditResult, failOn: FailOn): string {
  const byManifest = new Map<Manifest, AuditFinding[]>(result.manifests.map((manifest) => [manifest, []]))
  for (const finding of result.findings) byManifest.get(finding.manifest)?.push(finding)
  const cases: string[] = []
  let failures = 0
  for (const [manifest, findings] of byManifest) {
    const object = manifest.object
    const name = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name ?? ''}`
    const file = findings[0] ? locate(findings[0]).file : (manifest.source ?? manifest.file)
    const failing = findings.filter((f) => failsAt(f.level, failOn))
    const other = findings.filter((f) => !failsAt(f.level, failOn))
    const body: string[] = []
    if (failing.length > 0) {
      failures++
      body.push(`      <failure message="${escape(`${failing.length} finding${failing.length === 1 ? '' : 's'}: ${failing.map((f) => f.rule).join(', ')}`)}" type="hitless">${escape(failing.map(line).join('\n'))}</failure>`)
    }
    if (other.length > 0) body.push(`      <system-out>${escape(other.map(line).join('\n'))}</system-out>`)
    cases.push(`    <testcase classname="${escape(file)}" name="${escape(name)}" file="${escape(file)}" line="${manifest.line}"${body.length ? `>\n${body.join('\n')}\n    </testcase>` : ' />'}`)
  }
  for (const error of result.errors) {
    failures++
    cases.push(`    <testcase classname="${escape(error.file)}" name="${escape(`input ${error.file}${error.line ? `:${error.line}` : ''}`)}">\n      <error message="${escape(error.message)}" type="input" />\n    </testcase>`)
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="hitless" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="hitless audit" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}
