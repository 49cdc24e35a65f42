// --format policyreport: one wgpolicyk8s.io/v1alpha2 PolicyReport per namespace (ClusterPolicyReport
// for cluster-scoped objects), as multi-document YAML, so Policy Reporter and kubectl can show them.
import { stringify } from 'yaml'
import type { AuditFinding, AuditResult } from '../audit/run.ts'
import { exemptionNote, oneLineFix } from './common.ts'

const RESULT = { deny: 'fail', warn: 'warn', exempt: 'skip' } as const

export function renderPolicyReports(result: AuditResult, now = new Date()): string {
  const byNamespace = new Map<string, AuditFinding[]>()
  for (const finding of result.findings) {
    const namespace = finding.object.namespace ?? ''
    byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), finding])
  }
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 }
  const reports = [...byNamespace].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, findings]) => {
    const results = findings.map((finding) => ({
      source: 'hitless',
      policy: 'hitless',
      rule: finding.rule,
      result: RESULT[finding.level],
      message: `${finding.message}. ${exemptionNote(finding) ?? `Fix: ${oneLineFix(finding.fix)}`}`,
      category: 'Reliability',
      severity: finding.level === 'deny' ? 'high' : 'medium',
      scored: true,
      timestamp,
      resources: [{ apiVersion: finding.manifest.object.apiVersion, kind: finding.object.kind, name: finding.object.name, ...(namespace ? { namespace } : {}) }],
      properties: { action: finding.action, outcome: finding.outcome, ...(finding.container ? { container: finding.container } : {}) },
    }))
    const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }
    for (const r of results) summary[r.result]++
    return {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: namespace ? 'PolicyReport' : 'ClusterPolicyReport',
      metadata: { name: namespace ? `hitless-${namespace}` : 'hitless', ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/managed-by': 'hitless' } },
      summary,
      results,
    }
  })
  return reports.map((report) => stringify(report, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n')
}
