// Shared by every output format: where a finding is, its fix on one line, and the summary.
import { parse } from 'yaml'
import { toYaml } from '../model/yaml-write.ts'
import type { AuditFinding, AuditResult, Level } from '../audit/run.ts'

export type FailOn = 'deny' | 'warn' | 'never'

export interface Location {
  /** The file to point at: the chart template for Helm output, else the input; '' for live objects. */
  file: string
  /** Line in `file`, when known (not for chart templates: only the rendered line is known). */
  line?: number
  /** Where the object was read, when that differs from `file`. */
  input?: { file: string; line: number }
}

export function locate(finding: Pick<AuditFinding, 'manifest'>): Location {
  const { file, line, source } = finding.manifest
  if (source) return { file: source, input: { file, line } }
  return file ? { file, line } : { file: '' }
}

/**
 * The fix snippet as one line: the shared nesting becomes a path (containers picked by name), the rest
 * flow YAML: `spec.template.spec.containers[web].readinessProbe: {httpGet: {path: /ready, port: 80}}`.
 */
export function oneLineFix(fix: string): string {
  let node: unknown
  try {
    node = parse(fix)
  } catch {
    return fix.split('\n')[0] ?? ''
  }
  if (typeof node !== 'object' || node === null) return fix.replace(/\s*\n\s*/g, ' ')
  const path: string[] = []
  for (;;) {
    if (Array.isArray(node) && node.length === 1) {
      const item = node[0] as Record<string, unknown>
      if (typeof item === 'object' && item && typeof item['name'] === 'string') {
        path[path.length - 1] += `[${item['name']}]`
        const { name: _name, ...rest } = item
        node = rest
        continue
      }
      node = item
      continue
    }
    if (typeof node === 'object' && node && !Array.isArray(node) && Object.keys(node).length === 1) {
      const [key, value] = Object.entries(node)[0]!
      path.push(key)
      node = value
      continue
    }
    break
  }
  const value = toYaml(node, { collectionStyle: 'flow', lineWidth: 0 }).trim()
  return path.length > 0 ? `${path.join('.')}: ${value}` : value
}

export interface Summary {
  files: number
  objects: number
  findings: number
  deny: number
  warn: number
  exempt: number
  errors: number
  byRule: Record<string, number>
  failOn: FailOn
  failed: boolean
}

const RANK: Record<Level, number> = { exempt: 0, warn: 1, deny: 2 }

export function failsAt(level: Level, failOn: FailOn): boolean {
  return failOn !== 'never' && RANK[level] >= RANK[failOn]
}

export function summarize(result: AuditResult, files: number, failOn: FailOn): Summary {
  const count = (level: Level) => result.findings.filter((f) => f.level === level).length
  const byRule: Record<string, number> = {}
  for (const finding of result.findings) byRule[finding.rule] = (byRule[finding.rule] ?? 0) + 1
  return {
    files,
    objects: result.objects,
    findings: result.findings.length,
    deny: count('deny'),
    warn: count('warn'),
    exempt: count('exempt'),
    errors: result.errors.length,
    byRule,
    failOn,
    failed: result.findings.some((f) => failsAt(f.level, failOn)),
  }
}

export function exemptionNote(finding: AuditFinding): string | undefined {
  const exemption = finding.exemption
  if (!exemption) return undefined
  return exemption.honoured
    ? `exempted${exemption.source === 'namespace' ? ' by namespace' : ''}${exemption.until ? ` until ${exemption.until}` : ''}: ${exemption.reason ?? 'no reason given'}`
    : `exemption not honoured: ${exemption.why}`
}
