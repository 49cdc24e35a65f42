// Report content for both formats: checked against the real CRDs' schemas (../shared/crds), no empty
// strings (a v1.20 API server rejects custom resources with one), stable order and hash, splitting.
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import t from 'tap'
import { load } from 'js-yaml'
import { auditManifests, type AuditFinding } from '../../src/audit/run.ts'
import type { Manifest } from '../../src/audit/manifests.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { buildReports, reportName, REPORT_FORMATS, REPORT_KINDS, RESULTS_HASH, withoutEmpty, type ReportFormat } from '../../src/report/policy-report.ts'
import { configFrom } from '../helpers/objects.ts'

const CRDS = new URL('../../../shared/crds/', import.meta.url)
const now = new Date('2026-11-23T00:00:00Z')

function deployment(name: string, namespace: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, uid: `uid-${name}`, ...extra },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }] }] } },
    },
  }
}

function findingsOf(objects: KubeObject[], config = ''): AuditFinding[] {
  const manifests: Manifest[] = objects.map((object) => ({ object, file: '', line: 0, pathInDocument: [], documentIndex: 0 }))
  return auditManifests(manifests, configFrom(config), { defaultNamespace: 'default', now }).findings
}

/** The CRD's schema as JSON Schema (OpenAPI v3 structural schemas are; the x- keywords are skipped). */
function crdValidator(kind: { group: string; plural: string }) {
  const crd = load(readFileSync(new URL(`${kind.group}_${kind.plural}.yaml`, CRDS), 'utf8')) as any
  const schema = crd.spec.versions[0].schema.openAPIV3Schema
  return new Ajv({ strict: false, allErrors: true }).compile(schema)
}

function emptyStrings(value: unknown, path = '$'): string[] {
  if (value === '') return [path]
  if (Array.isArray(value)) return value.flatMap((v, i) => emptyStrings(v, `${path}[${i}]`))
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => emptyStrings(v, `${path}.${k}`))
  return []
}

const objects = [deployment('api', 'shop'), deployment('web', 'shop'), deployment('worker', 'jobs')]

for (const format of REPORT_FORMATS) {
  t.test(`${format}: one report per namespace, valid against the real CRD, no empty strings`, async (t) => {
    const findings = findingsOf(objects)
    t.ok(findings.length >= 3, 'the unprobed deployments have findings')
    const reports = buildReports(findings, format, { now })
    t.same([...reports.keys()], ['jobs', 'shop'])
    const [namespacedKind] = REPORT_KINDS[format]
    const validate = crdValidator(namespacedKind)
    for (const [namespace, [report, ...more]] of reports) {
      t.equal(more.length, 0)
      t.equal(report!.kind, namespacedKind.kind)
      t.equal(report!.apiVersion, `${namespacedKind.group}/${namespacedKind.version}`)
      t.same(report!.metadata.namespace, namespace)
      t.equal(report!.metadata.labels['app.kubernetes.io/managed-by'], 'hitless')
      t.ok(validate(report), `${namespace}: ${JSON.stringify(validate.errors)}`)
      t.same(emptyStrings(report), [], 'no empty string anywhere')
      t.equal(report!.summary.fail + report!.summary.warn, report!.results.length, 'deny findings fail, fixes and warnings warn')
      t.equal(report!.summary.fail, report!.results.filter((r) => r['rule'] === 'readiness-probe').length)
    }
    const shop = reports.get('shop')![0]!
    t.match(shop.results.find((r) => r['rule'] === 'readiness-probe'), {
      policy: 'hitless',
      source: 'hitless',
      result: 'fail',
      category: 'Reliability',
      severity: 'high',
      timestamp: { seconds: 1795392000, nanos: 0 },
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop', uid: 'uid-api' }],
      properties: { action: 'deny', outcome: 'deny', container: 'web' },
    })
    if (format === 'openreports') t.equal(shop['source'], 'hitless')
  })

  t.test(`${format}: the cluster-scoped report is valid against its CRD`, async (t) => {
    const [, clusterKind] = REPORT_KINDS[format]
    const findings = findingsOf([deployment('api', 'shop')]).map((f) => ({ ...f, object: { kind: f.object.kind, name: f.object.name } }))
    const report = buildReports(findings, format, { now }).get('')![0]!
    t.equal(report.kind, clusterKind.kind)
    t.equal(report.metadata.name, 'hitless')
    t.equal(report.metadata.namespace, undefined)
    const validate = crdValidator(clusterKind)
    t.ok(validate(report), JSON.stringify(validate.errors))
  })
}

t.test('an exemption is carried as fields, and the finding is a skip', async (t) => {
  const exempt = deployment('api', 'shop', {
    annotations: { 'hitless.dev/exempt': 'readiness-probe', 'hitless.dev/exempt-reason': 'batch API, no traffic', 'hitless.dev/exempt-until': '2026-12-01' },
  })
  const report = buildReports(findingsOf([exempt]), 'openreports', { now }).get('shop')![0]!
  const result = report.results.find((r) => r['rule'] === 'readiness-probe')!
  t.match(result, { result: 'skip', properties: { exempted: 'true', 'exemption-source': 'object', 'exemption-reason': 'batch API, no traffic', 'exemption-until': '2026-12-01' } })
  t.equal(report.summary.skip, 1)
})

t.test('the hash ignores timestamps and order, and changes with the results', async (t) => {
  const hashOf = (findings: AuditFinding[], at: Date, format: ReportFormat = 'policyreport') => buildReports(findings, format, { now: at }).get('shop')![0]!.metadata.annotations[RESULTS_HASH]
  const findings = findingsOf(objects)
  const first = hashOf(findings, now)
  t.equal(hashOf([...findings].reverse(), new Date('2026-11-24T00:00:00Z')), first, 'same results later, in another order: same hash')
  t.not(hashOf(findings.filter((f) => f.object.name !== 'web'), now), first, 'a finding gone: another hash')
})

t.test('a namespace with more results than a report holds is split into numbered parts', async (t) => {
  const many = Array.from({ length: 7 }, (_, i) => deployment(`app-${i}`, 'big'))
  const findings = findingsOf(many)
  const byCount = buildReports(findings, 'openreports', { now, limits: { maxResults: 3, maxBytes: 1_000_000 } }).get('big')!
  const parts = Math.ceil(findings.length / 3)
  t.ok(parts >= 3)
  t.same(byCount.map((r) => r.metadata.name), ['hitless-big', ...Array.from({ length: parts - 1 }, (_, i) => `hitless-big-${i + 2}`)])
  t.same(byCount.flatMap((r) => r.results).length, findings.length, 'nothing lost')
  t.ok(byCount.every((r) => r.results.length <= 3))
  t.ok(byCount.every((r) => r.summary.fail + r.summary.warn === r.results.length), 'each part counts its own results')
  const oneResultBytes = Buffer.byteLength(JSON.stringify(byCount[0]!.results[0]))
  const byBytes = buildReports(findings, 'openreports', { now, limits: { maxResults: 1000, maxBytes: oneResultBytes * 2 + 10 } }).get('big')!
  t.ok(byBytes.length >= Math.ceil(findings.length / 2), 'byte limit splits too')
  t.ok(byBytes.every((r) => Buffer.byteLength(JSON.stringify(r.results)) <= oneResultBytes * 2 + 10 + 2 || r.results.length === 1))
})

t.test('names and emptiness', async (t) => {
  t.equal(reportName('shop', 0), 'hitless-shop')
  t.equal(reportName('shop', 2), 'hitless-shop-3')
  t.equal(reportName(undefined, 0), 'hitless')
  t.same(withoutEmpty({ a: '', b: { c: '' }, d: [{ e: 'x', f: '' }], g: 0, h: false }), { d: [{ e: 'x' }], g: 0, h: false })
})
