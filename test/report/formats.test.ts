import { fileURLToPath } from 'node:url'
import t from 'tap'
import { RULES } from '../../src/rules/index.ts'
import { parseAllDocuments } from 'yaml'
import { loadManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { oneLineFix, summarize } from '../../src/report/common.ts'
import { renderJson } from '../../src/report/json.ts'
import { renderJunit } from '../../src/report/junit.ts'
import { renderReports } from '../../src/report/policy-report.ts'
import { renderSarif } from '../../src/report/sarif.ts'
import { renderTable } from '../../src/report/table.ts'
import { FIXTURES, configFrom } from '../helpers/objects.ts'

const dir = fileURLToPath(new URL('audit/', FIXTURES))
const { manifests, errors } = await loadManifests([`${dir}dir`, `${dir}helm`, `${dir}broken.yaml`])
const result = auditManifests(manifests, configFrom(), { defaultNamespace: 'default', now: new Date('2026-11-23T00:00:00Z') })
result.errors.unshift(...errors)
const summary = summarize(result, 5, 'deny')

t.test('one-line fixes', async (t) => {
  t.equal(oneLineFix('spec:\n  template:\n    spec:\n      containers:\n      - name: web\n        readinessProbe:\n          httpGet: {path: /ready, port: 80}\n'), 'spec.template.spec.containers[web].readinessProbe.httpGet: { path: /ready, port: 80 }')
  t.equal(oneLineFix('spec:\n  terminationGracePeriodSeconds: 55\n'), 'spec.terminationGracePeriodSeconds: 55')
  t.equal(oneLineFix('# a comment only'), '# a comment only')
})

t.test('json: the contract fields, and a summary', async (t) => {
  const json = JSON.parse(renderJson(result, summary))
  t.match(json.findings[0], { rule: 'readiness-probe', action: 'deny', kind: 'Deployment', namespace: 'shop', name: 'api', container: 'api', message: /readinessProbe/, file: /nested\/deployment\.json$/, line: 1 })
  const helm = json.findings.find((f: { name: string }) => f.name === 'shop-web')
  t.equal(helm, undefined, 'the Helm chart is clean')
  const exempt = json.findings.find((f: { name: string }) => f.name === 'ok')
  t.match(exempt, { level: 'deny', exemption: { honoured: false, source: 'object', why: 'expires 2099-01-01, more than 90 days out (exemptions.maxDays)' } }, 'exemptions as fields, not prose')
  t.equal(json.schemaVersion, 1)
  t.match(json.summary, { objects: 8, deny: 3, warn: 2, failOn: 'deny', failed: true, errors: 1, inputErrors: [{ line: 11, message: /^invalid YAML/ }] })
})

t.test('table: grouped by object, one-line fixes, a summary line, no colour off a terminal', async (t) => {
  const text = renderTable(result, summary, false)
  t.notMatch(text, /\x1b\[/)
  t.match(text, /Deployment shop\/api  .*nested\/deployment\.json:1\n  deny   readiness-probe\s+\[api\] container "api" has no readinessProbe\n\s+fix: spec\.template\.spec\.containers\[api\]\.readinessProbe: /)
  t.match(text, /error  .*broken\.yaml:11: invalid YAML/)
  t.match(text, /8 objects in 5 files: 3 with findings, 3 deny, 2 warn, 0 exempt, 1 input error \(exit 2: input errors\)\n$/, 'input errors: the summary says exit 2, not passed or failed')
  t.match(renderTable(result, summary, true), /\x1b\[31mdeny/, 'colour when asked')
})

t.test('sarif 2.1.0: rule metadata with help, results with file and line', async (t) => {
  const sarif = JSON.parse(renderSarif(result, '9.9.9'))
  t.equal(sarif.version, '2.1.0')
  t.match(sarif.$schema, /sarif-2\.1\.0/)
  const driver = sarif.runs[0].tool.driver
  t.match(driver, { name: 'hitless', version: '9.9.9' })
  t.same(driver.rules.map((r: { id: string }) => r.id), RULES.map((r) => r.id), 'every rule of the registry')
  t.ok(driver.rules.every((r: { id: string; helpUri: string }) => r.helpUri.endsWith(`/docs/rules/${r.id}.md`)), 'each links its page')
  t.ok(driver.rules.every((r: any) => r.help.text && r.help.markdown && r.shortDescription.text && r.fullDescription.text))
  const first = sarif.runs[0].results[0]
  t.match(first, { ruleId: 'readiness-probe', ruleIndex: 0, level: 'error', message: { text: /^Deployment shop\/api: container "api" has no readinessProbe\. Fix: / } })
  t.match(first.locations[0].physicalLocation, { artifactLocation: { uri: /deployment\.json$/ }, region: { startLine: 1 } })
  t.equal(sarif.runs[0].invocations[0].executionSuccessful, false, 'input errors are tool notifications')
  t.equal(sarif.runs[0].results.find((r: any) => r.ruleId === 'pre-stop').level, 'warning')
})

t.test('junit: a testcase per object, failures at or above --fail-on', async (t) => {
  const xml = renderJunit(result, 'deny')
  t.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="hitless" tests="9" failures="4">/)
  t.match(xml, /<testcase classname="[^"]*deployment\.json" name="Deployment shop\/api" file="[^"]*" line="1">\n\s+<failure message="1 finding: readiness-probe" type="hitless">\[deny\] readiness-probe \(api\): container &quot;api&quot; has no readinessProbe/)
  t.match(xml, /<system-out>\[warn\] pre-stop \(api\)/, 'below --fail-on: system-out')
  t.match(xml, /<testcase classname="shop\/templates\/service\.yaml" name="Service default\/shop-web" [^>]*\/>/, 'clean objects pass, Helm objects name their chart file')
  t.match(xml, /<error message="invalid YAML/)
  t.equal((xml.match(/<testcase /g) ?? []).length, 9, '8 objects and 1 input error')
})

t.test('policyreport: a PolicyReport per namespace, valid YAML, counts in the summary', async (t) => {
  const docs = parseAllDocuments(renderReports(result, 'policyreport', new Date('2026-11-23T00:00:00Z'))).map((d: any) => d.toJS())
  t.same(docs.map((d: any) => [d.apiVersion, d.kind, d.metadata.namespace]), [['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'legacy'], ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'shop']])
  t.same(docs[0].summary, { pass: 0, fail: 1, warn: 1, error: 0, skip: 0 })
  t.same(docs[1].summary, { pass: 0, fail: 2, warn: 1, error: 0, skip: 0 })
  t.match(docs[1].results.find((r: any) => r.rule === 'readiness-probe'), { policy: 'hitless', rule: 'readiness-probe', result: 'fail', source: 'hitless', timestamp: { seconds: 1795392000, nanos: 0 }, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' }] })
})
