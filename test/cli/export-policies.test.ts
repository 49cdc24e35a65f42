// `hitless export-policies` as a user runs it: YAML on stdout with a comment header, what it needs from
// --kubernetes-version and --mutating, and the exit codes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import type { KubeObject } from '../../src/model/types.ts'
import { runCli } from '../helpers/cli.ts'

const documentsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject)
const kinds = (documents: KubeObject[]) => documents.map((d) => `${d.kind} ${d.metadata?.name}`)

t.test('the shipped config: a header, then a policy and its bindings per rule CEL can judge', async (t) => {
  const { code, stdout, stderr } = await runCli(['export-policies'])
  t.equal(code, 0, stderr)
  const header = stdout.slice(0, stdout.indexOf('\n---\n'))
  t.ok(header.split('\n').every((line) => line.startsWith('#')), 'the header is comments only')
  t.match(header, /^# hitless \d+\.\d+\.\d+ export-policies/)
  t.match(header, /For Kubernetes 1\.36/)
  t.match(header, /Exported:\n#\s+readiness-probe\s+deny\s+denies \(Deny; namespaces in audit mode: Warn, Audit\)/)
  t.match(header, /#\s+pre-stop\s+mutate\s+action mutate, but without --mutating nothing fixes it: denied/)
  t.match(header, /#\s+liveness-probe\s+warn\s+warns/)
  t.match(header, /#\s+rollout-capacity\s+deny\s+denies/)
  t.match(header, /rollout-capacity counts spec\.replicas where an HPA scales the Deployment; strategy Recreate behind a Service is not warned of/)
  t.match(header, /Webhook only: [^\n]*\n[^\n]*\n#\s+service-selector\s+deny\n#\s+service-target-port\s+deny/)
  t.match(header, /No clock: an expired hitless\.dev\/exempt-until still exempts; `hitless audit --cluster` lists them/)
  const documents = documentsOf(stdout)
  t.same(kinds(documents), [
    'ValidatingAdmissionPolicy hitless-readiness-probe',
    'ValidatingAdmissionPolicyBinding hitless-readiness-probe',
    'ValidatingAdmissionPolicyBinding hitless-readiness-probe-audit',
    'ValidatingAdmissionPolicy hitless-pre-stop',
    'ValidatingAdmissionPolicyBinding hitless-pre-stop',
    'ValidatingAdmissionPolicyBinding hitless-pre-stop-audit',
    'ValidatingAdmissionPolicy hitless-termination-grace-period',
    'ValidatingAdmissionPolicyBinding hitless-termination-grace-period',
    'ValidatingAdmissionPolicyBinding hitless-termination-grace-period-audit',
    'ValidatingAdmissionPolicy hitless-probe-port',
    'ValidatingAdmissionPolicyBinding hitless-probe-port',
    'ValidatingAdmissionPolicyBinding hitless-probe-port-audit',
    'ValidatingAdmissionPolicy hitless-liveness-probe',
    'ValidatingAdmissionPolicyBinding hitless-liveness-probe',
    'ValidatingAdmissionPolicy hitless-rollout-capacity',
    'ValidatingAdmissionPolicyBinding hitless-rollout-capacity',
    'ValidatingAdmissionPolicyBinding hitless-rollout-capacity-audit',
    'ValidatingAdmissionPolicy hitless-replicas-spread',
    'ValidatingAdmissionPolicyBinding hitless-replicas-spread',
  ])
  const readiness = documents[0]!.spec as { matchConstraints: { resourceRules: { apiGroups: string[]; resources: string[] }[] }; validations: { messageExpression: string }[]; failurePolicy: string; matchConditions: { name: string }[] }
  t.same(readiness.matchConstraints.resourceRules.flatMap((r) => r.resources), ['pods', 'replicationcontrollers', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'rollouts'], 'the kinds the rule judges, as the webhook')
  t.same(readiness.matchConstraints.resourceRules.map((r) => r.apiGroups), [[''], ['apps'], ['argoproj.io']], 'Argo Rollouts too, like the webhook')
  const capacity = documents.find((d) => d.metadata?.name === 'hitless-rollout-capacity')!.spec as typeof readiness
  t.same(capacity.matchConstraints.resourceRules.flatMap((r) => r.resources), ['deployments', 'statefulsets'], 'rollout-capacity: Deployments and StatefulSets')
  t.equal(readiness.failurePolicy, 'Fail')
  t.same(readiness.matchConditions.map((c) => c.name), ['not-created-by-a-controller', 'not-being-deleted', 'pods-on-create-only', 'not-exempted'])
  t.match(readiness.validations[0]!.messageExpression, /hitless \[readiness-probe\]/)
  t.same(documents.map((d) => (d.spec as { validationActions?: string[] }).validationActions).filter(Boolean), [['Deny'], ['Warn', 'Audit'], ['Deny'], ['Warn', 'Audit'], ['Deny'], ['Warn', 'Audit'], ['Deny'], ['Warn', 'Audit'], ['Warn'], ['Deny'], ['Warn', 'Audit'], ['Warn']])
  t.match(stdout, /expression: \|-\n/, 'CEL as block scalars')
})

t.test('--mutating: MutatingAdmissionPolicies for the rules that fix, v1 from 1.36, v1beta1 before', async (t) => {
  const v1 = await runCli(['export-policies', '--mutating'])
  t.equal(v1.code, 0, v1.stderr)
  const mutating = documentsOf(v1.stdout).filter((d) => d.kind!.startsWith('Mutating'))
  t.same(kinds(mutating), ['MutatingAdmissionPolicy hitless-pre-stop', 'MutatingAdmissionPolicyBinding hitless-pre-stop', 'MutatingAdmissionPolicy hitless-termination-grace-period', 'MutatingAdmissionPolicyBinding hitless-termination-grace-period'])
  t.ok(mutating.every((d) => d.apiVersion === 'admissionregistration.k8s.io/v1'))
  t.match(v1.stdout, /#\s+pre-stop\s+mutate\s+fixed by the MutatingAdmissionPolicy/)
  const beta = await runCli(['export-policies', '--mutating', '--kubernetes-version', 'v1.35.2'])
  t.equal(beta.code, 0, beta.stderr)
  t.ok(documentsOf(beta.stdout).filter((d) => d.kind!.startsWith('Mutating')).every((d) => d.apiVersion === 'admissionregistration.k8s.io/v1beta1'))
  t.match(beta.stdout, /feature gate MutatingAdmissionPolicy/)
  const binding = mutating[1]!.spec as { matchResources: { namespaceSelector: { matchExpressions: { key: string; operator: string; values?: string[] }[] } } }
  t.same(binding.matchResources.namespaceSelector.matchExpressions.at(-1), { key: 'hitless.dev/mode', operator: 'NotIn', values: ['audit', 'off'] }, 'audit-mode namespaces are not patched')
  const exec = (await runCli(['export-policies', '--mutating', '--kubernetes-version', '1.34'])).stdout
  t.match(exec, /'sleep': \{'seconds': 5\}/, 'from 1.30 on, auto is the native sleep')
})

t.test('versions the policies cannot serve are usage errors', async (t) => {
  t.match(await runCli(['export-policies', '--kubernetes-version', '1.29']), { code: 2, stderr: /ValidatingAdmissionPolicy \(admissionregistration\.k8s\.io\/v1\) needs Kubernetes 1\.30 or later, not 1\.29/ })
  t.match(await runCli(['export-policies', '--mutating', '--kubernetes-version', '1.33']), { code: 2, stderr: /--mutating: MutatingAdmissionPolicy needs Kubernetes 1\.34 or later/ })
  t.match(await runCli(['export-policies', '--kubernetes-version', 'latest']), { code: 2, stderr: /must look like 1\.30/ })
  t.match(await runCli(['export-policies', '--kubernetes-version', '1.33']), { code: 0 }, 'validating policies alone are fine on 1.33')
})

t.test('--config: actions off are not exported; an invalid config exits 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-export-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const config = join(dir, 'rules.yaml')
  await writeFile(config, 'mode: audit\nrules: {pre-stop: {action: off}, liveness-probe: {action: off}, service-selector: {action: off}}\n')
  const { code, stdout } = await runCli(['export-policies', '--config', config])
  t.equal(code, 0)
  t.match(stdout, new RegExp(`Config: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(mode: audit\\)`))
  t.match(stdout, /# Not exported \(action off\): pre-stop, liveness-probe/)
  t.match(stdout, /#\s+service-selector\s+off/)
  const documents = documentsOf(stdout)
  t.notOk(documents.some((d) => d.metadata?.name?.startsWith('hitless-pre-stop')))
  const enforce = documents.find((d) => d.metadata?.name === 'hitless-readiness-probe' && d.kind === 'ValidatingAdmissionPolicyBinding')!.spec as { validationActions: string[]; matchResources: { namespaceSelector: { matchExpressions: unknown[] } } }
  t.same(enforce.validationActions, ['Deny'])
  t.same(enforce.matchResources.namespaceSelector.matchExpressions.at(-1), { key: 'hitless.dev/mode', operator: 'In', values: ['enforce'] }, 'in an audit config, only namespaces labelled enforce deny')
  await writeFile(config, 'rules: {readiness-probe: {action: mutate}}\n')
  t.match(await runCli(['export-policies', '--config', config]), { code: 1, stderr: /readiness-probe cannot fix objects/ })
  t.match(await runCli(['export-policies'], { env: { HITLESS_CONFIG: join(dir, 'missing.yaml') } }), { code: 1, stderr: /cannot read config/ }, 'HITLESS_CONFIG is read')
})
