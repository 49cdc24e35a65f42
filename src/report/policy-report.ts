// Findings as policy reports, in either of the two formats policy tools read: openreports.io/v1alpha1
// Report / ClusterReport (the successor format) or wgpolicyk8s.io/v1alpha2 PolicyReport /
// ClusterPolicyReport (Policy Reporter and older tools). One report per namespace, split into numbered
// parts when it would outgrow an etcd object; one cluster-scoped report for cluster-scoped objects.
// `audit --format policyreport|openreports` prints them; `serve` keeps them in the cluster.
import { createHash } from 'node:crypto'
import { toYaml } from '../model/yaml-write.ts'
import type { AuditFinding, AuditResult } from '../audit/run.ts'
import { exemptionNote, oneLineFix } from './common.ts'

export const REPORT_FORMATS = ['openreports', 'policyreport'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export interface ReportKind {
  group: string
  version: string
  kind: string
  plural: string
  namespaced: boolean
}

/** The API resources each format writes: [namespaced, cluster-scoped]. */
export const REPORT_KINDS: Record<ReportFormat, readonly [ReportKind, ReportKind]> = {
  openreports: [
    { group: 'openreports.io', version: 'v1alpha1', kind: 'Report', plural: 'reports', namespaced: true },
    { group: 'openreports.io', version: 'v1alpha1', kind: 'ClusterReport', plural: 'clusterreports', namespaced: false },
  ],
  policyreport: [
    { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'PolicyReport', plural: 'policyreports', namespaced: true },
    { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'ClusterPolicyReport', plural: 'clusterpolicyreports', namespaced: false },
  ],
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'hitless' } as const
/** Over the results without their timestamps: a report is rewritten only when this changes. */
export const RESULTS_HASH = 'hitless.dev/results-hash'

export interface ReportLimits {
  /** Results in one report at most; more go to the next part. */
  maxResults: number
  /** Serialized results in one report at most (etcd refuses objects over 1.5 MiB). */
  maxBytes: number
}

export const DEFAULT_LIMITS: ReportLimits = { maxResults: 1000, maxBytes: 900_000 }

const RESULT = { deny: 'fail', warn: 'warn', exempt: 'skip' } as const

type Result = Record<string, unknown> & { result: (typeof RESULT)[keyof typeof RESULT] }

export interface ReportObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> }
  summary: Record<'pass' | 'fail' | 'warn' | 'error' | 'skip', number>
  results: Result[]
  [field: string]: unknown
}

/**
 * Drops empty strings, empty objects and undefined: v1.20-era API servers reject custom resources with
 * an empty string in a string field (kubernetes#99804), and an empty field says nothing anyway.
 */
export function withoutEmpty<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutEmpty) as T
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    const cleaned = withoutEmpty(field)
    if (cleaned === undefined || cleaned === '') continue
    if (typeof cleaned === 'object' && cleaned !== null && !Array.isArray(cleaned) && Object.keys(cleaned).length === 0) continue
    out[key] = cleaned
  }
  return out as T
}

function resultOf(finding: AuditFinding, timestamp: { seconds: number; nanos: number }): Result {
  const object = finding.manifest.object
  const exemption = finding.exemption
  const note = exemptionNote(finding)
  return withoutEmpty({
    source: 'hitless',
    policy: 'hitless',
    rule: finding.rule,
    result: RESULT[finding.level],
    message: `${finding.message}. ${note ?? `Fix: ${oneLineFix(finding.fix)}`}`,
    category: 'Reliability',
    severity: finding.level === 'deny' ? 'high' : 'medium',
    scored: true,
    timestamp,
    resources: [
      {
        apiVersion: object.apiVersion,
        kind: finding.object.kind,
        name: finding.object.name,
        namespace: finding.object.namespace,
        uid: object.metadata?.uid,
      },
    ],
    properties: {
      action: finding.action,
      outcome: finding.outcome,
      container: finding.container,
      ...(exemption?.honoured
        ? { exempted: 'true', 'exemption-source': exemption.source, 'exemption-reason': exemption.reason, 'exemption-until': exemption.until }
        : {}),
      ...(exemption && !exemption.honoured ? { exempted: 'false', 'exemption-source': exemption.source, 'exemption-refused': exemption.why } : {}),
    },
  }) as Result
}

/** A stable order, so the same findings make the same report (and the same hash). */
function resultKey(result: Result): string {
  const resource = (result['resources'] as Record<string, string>[] | undefined)?.[0] ?? {}
  const properties = (result['properties'] as Record<string, string> | undefined) ?? {}
  return [resource['kind'], resource['name'], result['rule'], properties['container'] ?? '', result['message']].join('\u0000')
}

function resultsHash(results: Result[]): string {
  const hash = createHash('sha256')
  for (const { timestamp: _timestamp, ...rest } of results) hash.update(JSON.stringify(rest)).update('\n')
  return hash.digest('hex').slice(0, 32)
}

/** Consecutive slices of the results, each within the limits (a single oversized result stands alone). */
function parts(results: Result[], limits: ReportLimits): Result[][] {
  const out: Result[][] = []
  let current: Result[] = []
  let bytes = 0
  for (const result of results) {
    const size = Buffer.byteLength(JSON.stringify(result))
    if (current.length > 0 && (current.length >= limits.maxResults || bytes + size > limits.maxBytes)) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(result)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}

/** `hitless-<namespace>` (or `hitless` cluster-wide), with `-2`, `-3`… for further parts. */
export function reportName(namespace: string | undefined, part: number): string {
  const base = namespace ? `hitless-${namespace}` : 'hitless'
  return part === 0 ? base : `${base}-${part + 1}`
}

export interface BuildOptions {
  now?: Date
  limits?: ReportLimits
}

/** The reports for these findings, keyed by namespace ('' for the cluster-scoped report). */
export function buildReports(findings: AuditFinding[], format: ReportFormat, options: BuildOptions = {}): Map<string, ReportObject[]> {
  const now = options.now ?? new Date()
  const limits = options.limits ?? DEFAULT_LIMITS
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 }
  const byNamespace = new Map<string, Result[]>()
  for (const finding of findings) {
    const namespace = finding.object.namespace ?? ''
    const results = byNamespace.get(namespace) ?? []
    results.push(resultOf(finding, timestamp))
    byNamespace.set(namespace, results)
  }
  const [namespacedKind, clusterKind] = REPORT_KINDS[format]
  const reports = new Map<string, ReportObject[]>()
  for (const namespace of [...byNamespace.keys()].sort()) {
    const results = byNamespace.get(namespace)!.sort((a, b) => resultKey(a).localeCompare(resultKey(b)))
    const kind = namespace ? namespacedKind : clusterKind
    reports.set(
      namespace,
      parts(results, limits).map((slice, part) => {
        const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }
        for (const r of slice) summary[r.result]++
        return {
          apiVersion: `${kind.group}/${kind.version}`,
          kind: kind.kind,
          metadata: {
            name: reportName(namespace || undefined, part),
            ...(namespace ? { namespace } : {}),
            labels: { ...MANAGED_BY },
            annotations: { [RESULTS_HASH]: resultsHash(slice) },
          },
          ...(format === 'openreports' ? { source: 'hitless' } : {}),
          summary,
          results: slice,
        }
      }),
    )
  }
  return reports
}

/** Multi-document YAML of every report, for `audit --format policyreport|openreports`. */
export function renderReports(result: AuditResult, format: ReportFormat, now = new Date()): string {
  const reports = [...buildReports(result.findings, format, { now }).values()].flat()
  return reports.map((report) => toYaml(report, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n')
}
