// The Go checker's input (test/export-go/checker, decision 0019): the YAML hitless writes, each with its
// YAML 1.2 reading (the `yaml` library's, which wrote it), and the exports with the requests of
// test/export/scenarios.ts and the webhook's verdicts and patched objects for each.
//   node test/export-go/input.ts OUT.json [--shipped-only]
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { loadManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { fix } from '../../src/cli/fix.ts'
import { loadConfig, DEFAULT_CONFIG_PATH, type Config } from '../../src/config/load.ts'
import { exportPolicies } from '../../src/export/policies.ts'
import { renderPolicies } from '../../src/export/render.ts'
import type { KubeObject, KubernetesVersion } from '../../src/model/types.ts'
import { renderReports } from '../../src/report/policy-report.ts'
import type { Request } from '../helpers/admission-policy.ts'
import { annotated } from '../export/cases.ts'
import { APPROVAL_ANNOTATION } from '../../src/exemptions/annotations.ts'
import { CASES, config, FIXING_ORDERS, namespace, requestsOf, SCENARIOS, VERSION, type Scenario } from '../export/scenarios.ts'
import { webhook } from '../export/verdicts.ts'
import { intended, NAMESPACES, OVERLAYS, WRITES } from '../deploy/admission-writes.ts'
import { dispatch, render, whileHitlessIsDown, type AdmissionWrite, type HookOutcome } from '../helpers/webhook-dispatch.ts'
import { hasKubectl } from '../helpers/kubectl.ts'

const ROOT = new URL('../../', import.meta.url)

export interface YamlDocument {
  name: string
  yaml: string
  json: unknown[]
}

/** The documents of `text` as a YAML 1.2 reader reads them (documents of only comments left out). */
function yaml12(name: string, text: string): YamlDocument {
  const json = parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${name}: ${document.errors[0]!.message}`)
    const value = document.toJS()
    return value === null || value === undefined ? [] : [value]
  })
  return { name, yaml: text, json }
}

const rendered = (config: Config, version: KubernetesVersion, mutating: boolean) =>
  renderPolicies(exportPolicies(config, { kubernetesVersion: version, mutating }), config, { version: 'test', configSource: 'test', kubernetesVersion: version, mutating })

function files(dir: URL, ending: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(ending) && !file.includes('node_modules'))
    .map((file) => fileURLToPath(new URL(file, dir)))
}

/** ```yaml blocks of the README and docs, as a reader copies them. */
function markdownYaml(): YamlDocument[] {
  const out: YamlDocument[] = []
  for (const file of [fileURLToPath(new URL('README.md', ROOT)), ...files(new URL('docs/', ROOT), '.md')]) {
    const text = readFileSync(file, 'utf8')
    let index = 0
    for (const match of text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
      out.push(yaml12(`${file.slice(fileURLToPath(ROOT).length)} yaml block ${index++}`, match[1]!))
    }
  }
  return out
}

/** `hitless fix --write` over a copy of a corpus project, and the policy reports of auditing it. */
async function fixedAndReported(config: Config): Promise<YamlDocument[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hitless-yaml-'))
  try {
    const corpus = new URL('../shared/corpus/GoogleCloudPlatform+bank-of-anthos/', ROOT)
    cpSync(corpus, dir, { recursive: true })
    const inputs = files(new URL(`file://${dir}/`), '.yaml')
    const { manifests } = await loadManifests(inputs)
    const result = auditManifests(manifests, config, { defaultNamespace: 'default' })
    const out = [yaml12('audit -o policyreport', renderReports(result, 'policyreport')), yaml12('audit -o openreports', renderReports(result, 'openreports'))]
    const snippets = new Set(result.findings.map((f) => f.fix).filter((fix): fix is string => typeof fix === 'string'))
    let i = 0
    for (const snippet of snippets) out.push(yaml12(`fix snippet ${i++}`, snippet))
    const write = process.stderr.write
    process.stderr.write = () => true
    try {
      await fix(inputs, { write: true, config: fileURLToPath(new URL(DEFAULT_CONFIG_PATH, ROOT)) })
    } finally {
      process.stderr.write = write
    }
    for (const file of inputs) if (statSync(file).isFile()) out.push(yaml12(`fix --write ${file.slice(dir.length + 1)}`, readFileSync(file, 'utf8')))
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface RequestInput extends Request {
  name: string
  verdicts: ReturnType<typeof webhook>['verdicts']
  patched: KubeObject
}

export interface ExportInput {
  name: string
  version: string
  yaml: string
  orders: string[][]
  requests: RequestInput[]
}

function judged(scenario: Scenario | { name: string; config: Config; requests: { name: string; request: Request }[] }): ExportInput {
  const list = 'requests' in scenario ? scenario.requests : requestsOf(scenario)
  return {
    name: scenario.name,
    version: `${VERSION.major}.${VERSION.minor}`,
    yaml: rendered(scenario.config, VERSION, true),
    orders: FIXING_ORDERS,
    requests: list.map(({ name, request }) => {
      const { verdicts, patched } = webhook(scenario.config, request, VERSION)
      return { name, ...request, verdicts, patched: withoutApprovalRecord(patched) }
    }),
  }
}

/**
 * The webhook's object without the approval record it writes for an approver's exemption: the exported
 * policies write none, by design (CEL has no HMAC and a policy holds no secret; the export's header,
 * docs/cel-policies.md, and test/export/divergences.test.ts pin it).
 */
function withoutApprovalRecord(object: KubeObject): KubeObject {
  const annotations = object.metadata?.annotations
  if (!annotations || !(APPROVAL_ANNOTATION in annotations)) return object
  const { [APPROVAL_ANNOTATION]: _record, ...rest } = annotations
  return { ...object, metadata: { ...object.metadata, annotations: rest } }
}

/** Requests the scenarios do not put: approvers, Namespaces, a system namespace. */
function approvals(): ExportInput {
  const approvers = config('exemptions: {approvers: {users: [boss], groups: [platform]}}')
  const own = { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'r', 'hitless.dev/exempt-until': '2026-07-01' }
  const subject = CASES.find((c) => c.name === 'readiness-probe/fires-deployment-no-probe.yaml')!.object
  const withExemption = annotated(subject, own)
  const users = { alice: { username: 'alice', groups: ['dev'] }, boss: { username: 'boss', groups: [] }, carol: { username: 'carol', groups: ['platform'] } }
  const ns = (labels: Record<string, string>, annotations: Record<string, string> = {}) => {
    const object = namespace(labels, annotations)
    return { ...object, metadata: { ...object.metadata, namespace: undefined } } as KubeObject
  }
  const changes: [string, Omit<Request, 'userInfo'>][] = [
    ['CREATE with the exemption', { operation: 'CREATE', object: withExemption, oldObject: null }],
    ['UPDATE that adds it', { operation: 'UPDATE', object: withExemption, oldObject: subject }],
    ['UPDATE that keeps it', { operation: 'UPDATE', object: withExemption, oldObject: withExemption }],
    ['UPDATE that changes its reason', { operation: 'UPDATE', object: annotated(withExemption, { 'hitless.dev/exempt-reason': 'other' }), oldObject: withExemption }],
    ['in kube-system', { operation: 'CREATE', object: { ...subject, metadata: { ...subject.metadata, namespace: 'kube-system' } }, oldObject: null }],
    ['Namespace CREATE, ignored', { operation: 'CREATE', object: ns({ 'hitless.dev/ignore': 'true' }), oldObject: null }],
    ['Namespace UPDATE to mode off', { operation: 'UPDATE', object: ns({ 'hitless.dev/mode': 'off' }), oldObject: ns({}) }],
    ['Namespace UPDATE that keeps mode audit', { operation: 'UPDATE', object: ns({ 'hitless.dev/mode': 'audit', team: 'a' }), oldObject: ns({ 'hitless.dev/mode': 'audit' }) }],
    ['Namespace UPDATE that adds an exemption', { operation: 'UPDATE', object: ns({}, { 'hitless.dev/exempt': '*' }), oldObject: ns({}) }],
    // The API server keeps labels written through these subresources (decision 0042).
    ['namespaces/status UPDATE that adds the ignore label', { operation: 'UPDATE', object: ns({ 'hitless.dev/ignore': 'true' }), oldObject: ns({}), subResource: 'status' }],
    ['namespaces/finalize UPDATE to mode off', { operation: 'UPDATE', object: ns({ 'hitless.dev/mode': 'off' }), oldObject: ns({}), subResource: 'finalize' }],
    ['namespaces/finalize UPDATE that only drops finalizers', { operation: 'UPDATE', object: { ...ns({ 'hitless.dev/mode': 'audit' }), spec: { finalizers: [] } } as KubeObject, oldObject: { ...ns({ 'hitless.dev/mode': 'audit' }), spec: { finalizers: ['kubernetes'] } } as KubeObject, subResource: 'finalize' }],
  ]
  const requests = changes.flatMap(([label, request]) => Object.entries(users).map(([who, userInfo]) => ({ name: `${label}, by ${who}`, request: { ...request, userInfo } })))
  return judged({ name: 'exemption approvers', config: approvers, requests })
}

/** The YAML hitless writes, each with its YAML 1.2 reading: exports for every version, the shipped configs and manifests, the docs' examples, `fix --write` output, policy reports and fix snippets. */
export async function writtenYaml(): Promise<YamlDocument[]> {
  const shipped = await loadConfig(fileURLToPath(new URL(DEFAULT_CONFIG_PATH, ROOT)))
  const documents: YamlDocument[] = []
  for (const { name, yaml } of versionedExports(shipped)) documents.push(yaml12(name, yaml))
  for (const file of [...files(new URL('manifests/', ROOT), '.yaml'), ...files(new URL('rules/', ROOT), '.yaml')]) {
    documents.push(yaml12(file.slice(fileURLToPath(ROOT).length), readFileSync(file, 'utf8')))
  }
  documents.push(...markdownYaml(), ...(await fixedAndReported(shipped)))
  return documents
}

/** Every version the export supports, with and without --mutating where MutatingAdmissionPolicy exists. */
function versionedExports(shipped: Config): ExportInput[] {
  const out: ExportInput[] = []
  for (let minor = 30; minor <= 36; minor++) {
    for (const mutating of minor >= 34 ? [false, true] : [false]) {
      const name = `export-policies${mutating ? ' --mutating' : ''} --kubernetes-version 1.${minor}`
      out.push({ name, version: `1.${minor}`, yaml: rendered(shipped, { major: 1, minor }, mutating), orders: [], requests: [] })
    }
  }
  return out
}

export interface WebhooksInput {
  name: string
  yaml: string
  namespaces: readonly KubeObject[]
  writes: (AdmissionWrite & { name: string; model: Record<string, HookOutcome>; whileDown: string; intended: string })[]
}

/**
 * The k8s-1.30 overlays as `kubectl kustomize` renders them, with the writes of
 * test/deploy/admission-writes.ts, what the JavaScript model of the API server's dispatcher does with
 * each (per webhook, and the verdict while hitless is down), and what the design says.
 */
export function webhooksInput(): WebhooksInput[] {
  return OVERLAYS.map(({ entry, failClosed }) => {
    const { yaml, webhooks } = render(entry)
    return {
      name: `kubectl kustomize manifests/${entry}`,
      yaml,
      namespaces: NAMESPACES,
      writes: WRITES.map((judged) => ({
        name: judged.name,
        ...judged.write,
        model: Object.fromEntries(webhooks.map((hook) => [hook.name, dispatch(hook, judged.write, NAMESPACES)])),
        whileDown: whileHitlessIsDown(webhooks, judged.write, NAMESPACES),
        intended: intended(failClosed, judged),
      })),
    }
  })
}

/**
 * `all`: every scenario (about 21,000 requests, minutes of CPU: `.ci/run` runs it); else the shipped
 * config's and the approvers' requests (about 1,500: npm test runs it). Both with the k8s-1.30 webhook
 * configurations and their writes (124 dispatched through the API server's webhook plugins, seconds).
 */
export async function checkerInput(all = true): Promise<{ documents: YamlDocument[]; exports: ExportInput[]; webhooks: WebhooksInput[] }> {
  const shipped = await loadConfig(fileURLToPath(new URL(DEFAULT_CONFIG_PATH, ROOT)))
  const scenarios = all ? Object.values(SCENARIOS).flat() : SCENARIOS.configs.slice(0, 1)
  // Compiled as new objects on each version's API server; the scenarios' requests evaluated on 1.36.
  const exports = [...versionedExports(shipped), ...scenarios.map(judged), approvals()]
  // The overlays are rendered with kubectl kustomize, as test/deploy/namespace-gate.test.ts renders them.
  if (!hasKubectl) process.stderr.write('export-go input: kubectl is not installed, the webhook configurations are left out\n')
  return { documents: await writtenYaml(), exports, webhooks: hasKubectl ? webhooksInput() : [] }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2]
  if (!out) throw new Error('usage: node test/export-go/input.ts OUT.json [--shipped-only]')
  writeFileSync(out, JSON.stringify(await checkerInput(!process.argv.includes('--shipped-only'))))
}
