// --format sarif: SARIF 2.1.0 for code-scanning upload. Rule metadata carries help text; results carry
// file and line; exempted findings are suppressed in source, with the exemption's reason.
import type { AuditResult } from '../audit/run.ts'
import { ruleDocsUrl } from '../rules/docs-url.ts'
import { RULES } from '../rules/index.ts'
import type { RegisteredRule } from '../rules/rule.ts'
import { locate, oneLineFix } from './common.ts'

const LEVEL = { deny: 'error', warn: 'warning', exempt: 'note' } as const

export function renderSarif(result: AuditResult, version: string, registry: readonly RegisteredRule[] = RULES): string {
  const rules = registry.map((rule) => ({
    id: rule.id,
    name: rule.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: rule.summary },
    fullDescription: { text: `${rule.summary} Without it: ${rule.why}.` },
    help: {
      text: `${rule.summary} ${rule.why}. Exempt an object with the annotations hitless.dev/exempt, hitless.dev/exempt-reason and hitless.dev/exempt-until.`,
      markdown: `**${rule.summary}**\n\nWithout it, ${rule.why}.\n\nTo exempt an object, annotate it with \`hitless.dev/exempt: ${rule.id}\`, \`hitless.dev/exempt-reason\` and \`hitless.dev/exempt-until\`.`,
    },
    helpUri: ruleDocsUrl(rule.id),
    defaultConfiguration: { level: rule.defaultAction === 'deny' ? 'error' : 'warning' },
    properties: { tags: ['kubernetes', 'reliability'] },
  }))
  const results = result.findings.map((finding) => {
    const where = locate(finding)
    const ref = `${finding.object.kind} ${finding.object.namespace ? `${finding.object.namespace}/` : ''}${finding.object.name}`
    const exemption = finding.exemption
    return {
      ruleId: finding.rule,
      ruleIndex: registry.findIndex((r) => r.id === finding.rule),
      level: LEVEL[finding.level],
      message: { text: `${ref}: ${finding.message}. Fix: ${oneLineFix(finding.fix)}` },
      locations: [
        {
          ...(where.file
            ? {
                physicalLocation: {
                  artifactLocation: { uri: where.file.replace(/^\.\//, '') },
                  ...(where.line !== undefined ? { region: { startLine: where.line } } : {}),
                },
              }
            : {}),
          logicalLocations: [{ name: finding.object.name, fullyQualifiedName: ref, kind: 'resource' }],
        },
      ],
      ...(exemption?.honoured ? { suppressions: [{ kind: 'inSource', justification: exemption.reason ?? '' }] } : {}),
      properties: { action: finding.action, outcome: finding.outcome, ...(finding.container ? { container: finding.container } : {}), why: registry.find((r) => r.id === finding.rule)?.why },
    }
  })
  const invocation = {
    executionSuccessful: result.errors.length === 0,
    toolExecutionNotifications: result.errors.map((error) => ({
      level: 'error',
      message: { text: error.message },
      locations: [{ physicalLocation: { artifactLocation: { uri: error.file }, ...(error.line ? { region: { startLine: error.line } } : {}) } }],
    })),
  }
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'hitless', informationUri: 'https://hitless.dev', version, rules } }, invocations: [invocation], results }],
  }
  return JSON.stringify(log, null, 2) + '\n'
}
