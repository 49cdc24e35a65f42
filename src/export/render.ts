// The YAML `hitless export-policies` prints: a comment header that says what was exported, what stays
// with the webhook and what CEL cannot check, then one document per object, written with yamlDocument
// (strings YAML 1.1 would misread, such as the mode value off, quoted). CEL expressions are block
// scalars, so they read as written and need no YAML quoting.
import { isScalar, Scalar, visit } from 'yaml'
import { yamlDocument } from '../model/yaml-write.ts'
import type { Config } from '../config/load.ts'
import type { KubernetesVersion } from '../model/types.ts'
import type { ExportResult } from './policies.ts'

export interface RenderOptions {
  version: string
  configSource: string
  kubernetesVersion: KubernetesVersion
  mutating: boolean
}

const EXPRESSION_KEYS = new Set(['expression', 'messageExpression'])

function documentYaml(object: object): string {
  const document = yamlDocument(object)
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.key) && EXPRESSION_KEYS.has(String(pair.key.value)) && isScalar(pair.value) && typeof pair.value.value === 'string') {
        pair.value.type = Scalar.BLOCK_LITERAL
      }
    },
  })
  return document.toString({ lineWidth: 0 })
}

/** The comment header: one line per rule, how it was exported, and what the policies cannot do. */
export function header(result: ExportResult, config: Config, options: RenderOptions): string[] {
  const { major, minor } = options.kubernetesVersion
  const exported = result.rules.filter((r) => r.as === 'exported')
  const webhookOnly = result.rules.filter((r) => r.as === 'webhook-only')
  const off = result.rules.filter((r) => r.as === 'off')
  const width = Math.max(...result.rules.map((r) => r.rule.length), 'exemption-approval'.length)
  const lines = [
    `hitless ${options.version} export-policies: the rules that need no cluster state, as admission policies`,
    `the API server runs itself (CEL). Config: ${options.configSource} (mode: ${config.mode}). For Kubernetes ${major}.${minor}:`,
    `ValidatingAdmissionPolicy admissionregistration.k8s.io/v1 (1.30 and later)` +
      (options.mutating ? `, MutatingAdmissionPolicy ${result.mutatingApiVersion} (${result.mutatingApiVersion?.endsWith('v1') ? '1.36 and later' : '1.34-1.35: feature gate MutatingAdmissionPolicy and runtime-config admissionregistration.k8s.io/v1beta1=true'}).` : '.'),
    '',
    'Exported:',
  ]
  for (const entry of exported) {
    if (entry.as !== 'exported') continue
    const how =
      entry.action === 'warn'
        ? 'warns (validationActions: Warn)'
        : entry.action === 'deny'
          ? 'denies (Deny; namespaces in audit mode: Warn, Audit)'
          : entry.mutating
            ? 'fixed by the MutatingAdmissionPolicy; what arrives unfixed is denied (Deny; audit mode: Warn, Audit)'
            : 'action mutate, but without --mutating nothing fixes it: denied (Deny; audit mode: Warn, Audit)'
    lines.push(`  ${entry.rule.padEnd(width)}  ${entry.action.padEnd(6)}  ${how}`)
  }
  if (result.rules.some((r) => r.as === 'approval')) {
    lines.push(`  ${'exemption-approval'.padEnd(width)}  deny    only exemptions.approvers may add or change exemptions (and a Namespace's ignore and mode labels)`)
  }
  if (off.length > 0) lines.push(`Not exported (action off): ${off.map((r) => r.rule).join(', ')}`)
  if (webhookOnly.length > 0) {
    lines.push(
      'Webhook only: they judge an object against the rest of the cluster, which CEL cannot see. Keep the',
      'hitless webhook for them (README, "Admission policies without the webhook"):',
      ...webhookOnly.map((r) => `  ${r.rule.padEnd(width)}  ${r.as === 'webhook-only' ? r.action : ''}`),
    )
  }
  lines.push(
    '',
    'What the policies cannot do that the webhook does (docs/cel-policies.md):',
    '- Services decide nothing (CEL sees the object alone, never a Service, ServiceMonitor or Ingress): a container is',
    '  serving when it declares a port not named for metrics or health. The webhook judges by the Services: only the',
    '  containers whose ports a client Service targets (a sidecar alone, when only its port is), none behind metrics-only Services.',
    '- No clock: an expired hitless.dev/exempt-until still exempts; `hitless audit --cluster` lists them.',
    ...(result.rules.some((r) => r.as === 'approval')
      ? ['- No approval records: CEL has no HMAC (or sha256) and a policy holds no secret, so hitless.dev/exempt-approval is not checked; the policies gate every write instead (non-approvers may not add or change an exemption or a record). Exemptions written before they were bound: `hitless audit --cluster` lists those without a record.']
      : []),
    '- UPDATEs that keep a violation the object already had pass without a warning (allowExistingViolations).',
    '- A shell preStop script counts its first three sleeps.',
    ...(exported.some((r) => r.rule === 'rollout-capacity')
      ? ['- rollout-capacity counts spec.replicas where an HPA scales the Deployment; strategy Recreate behind a Service is not warned of.']
      : []),
    ...(exported.some((r) => r.rule === 'replicas-spread')
      ? ['- replicas-spread counts spec.replicas where an HPA scales the workload, and judges it without a Service when a container serves.']
      : []),
    ...(webhookOnly.some((r) => r.rule === 'lb-readiness-gate' || r.rule === 'lb-deregistration')
      ? ["- lb-readiness-gate, lb-deregistration: which load balancer targets the pods by IP (Services, Ingresses, TargetGroupBindings) and the Namespace's label are other objects; pre-stop's coverDeregistration needs them too."]
      : []),
    `Apply: kubectl apply -f <this file>. Remove: kubectl delete -l app.kubernetes.io/managed-by=hitless-export-policies ${options.mutating ? 'validatingadmissionpolicies,validatingadmissionpolicybindings,mutatingadmissionpolicies,mutatingadmissionpolicybindings' : 'validatingadmissionpolicies,validatingadmissionpolicybindings'}`,
  )
  return lines.map((line) => (line === '' ? '#' : `# ${line}`))
}

export function renderPolicies(result: ExportResult, config: Config, options: RenderOptions): string {
  const documents = result.documents.map(documentYaml)
  return [header(result, config, options).join('\n'), ...documents.map((text) => `---\n${text.trimEnd()}`)].join('\n') + '\n'
}
