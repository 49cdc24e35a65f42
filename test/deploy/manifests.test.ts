// manifests/: every kustomize entry builds, carries the fields an admission webhook in the path of
// every write needs, and passes hitless's own rules.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { hasKubectl } from '../helpers/kubectl.ts'
import { loadAll } from 'js-yaml'
import { parseManifests } from '../../src/audit/manifests.ts'
import { auditManifests } from '../../src/audit/run.ts'
import { CACHED_RESOURCES, RULES } from '../../src/contract/registry.ts'
import { installCheckRbacRules, readerRbacRules, webhookRules } from '../../src/contract/derive.ts'
import { parseConfig } from '../../src/config/load.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { configFrom } from '../helpers/objects.ts'

const root = fileURLToPath(new URL('../../manifests/', import.meta.url))
const kubectl = hasKubectl

/** `kubectl kustomize`, or for the base without kubectl, its resources as written (namespace applied). */
function build(entry: string): KubeObject[] {
  if (kubectl) return loadAll(execFileSync('kubectl', ['kustomize', `${root}${entry}`], { encoding: 'utf8' })) as KubeObject[]
  if (entry !== 'base') return []
  const kustomization = loadAll(readFileSync(`${root}base/kustomization.yaml`, 'utf8'))[0] as { resources: string[] }
  const objects = kustomization.resources.flatMap((file) => loadAll(readFileSync(`${root}base/${file}`, 'utf8')) as KubeObject[])
  const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hitless-config' }, data: { 'config.yaml': readFileSync(`${root}base/rules.yaml`, 'utf8') } }
  return [...objects, config].map((o) => (['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].includes(o.kind!) ? o : { ...o, metadata: { ...o.metadata, namespace: 'hitless-system' } }))
}
const find = (objects: KubeObject[], kind: string) => objects.find((o) => o.kind === kind) as any

const base = build('base')
const deployment = find(base, 'Deployment')
const container = deployment.spec.template.spec.containers[0]

t.test('every entry builds', { skip: kubectl ? false : 'kubectl not installed: overlays checked from their files only' }, async (t) => {
  for (const entry of ['base', 'overlays/audit', 'overlays/enforce', 'overlays/fail-closed', 'overlays/cert-manager', 'overlays/k8s-1.30', 'overlays/fail-closed-k8s-1.30', 'overlays/prometheus-operator', 'overlays/reports', 'overlays/policyreports']) {
    t.ok(build(entry).length >= 10, entry)
  }
})

t.test('the Deployment ships the way hitless asks others to ship', async (t) => {
  t.equal(deployment.metadata.namespace, 'hitless-system')
  t.equal(deployment.spec.replicas, 3)
  t.equal(deployment.spec.template.spec.priorityClassName, 'system-cluster-critical')
  t.equal(deployment.spec.template.spec.topologySpreadConstraints[0].topologyKey, 'kubernetes.io/hostname')
  // The probes go to the plain-HTTP probe listener, on the port the container tells hitless to use.
  const probePort = container.env.find((e: { name: string }) => e.name === 'HITLESS_PROBE_PORT').value
  t.match(container.ports.find((p: { name: string }) => p.name === 'probes'), { containerPort: Number(probePort) })
  t.match(container.readinessProbe.httpGet, { path: '/readyz', port: 'probes', scheme: 'HTTP' })
  t.match(container.livenessProbe.httpGet, { path: '/healthz', port: 'probes', scheme: 'HTTP' })
  t.ok(container.lifecycle.preStop, 'preStop hook')
  t.ok(container.resources.requests.cpu && container.resources.limits.memory, 'resources')
  t.match(deployment.spec.template.spec.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
  t.match(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
  t.ok(find(base, 'PodDisruptionBudget'), 'PDB')
  t.match(find(base, 'Service').spec.ports[0], { port: 443, targetPort: 'https' })
})

t.test('RBAC: read-only, exactly what the cache and the install checks read, no Secrets', async (t) => {
  const role = find(base, 'ClusterRole')
  t.same(role.rules, [...readerRbacRules(RULES), ...installCheckRbacRules()], 'derived from what the rules and the install checks read')
  t.same(role.rules.at(-1).resourceNames, [find(base, 'ValidatingWebhookConfiguration').metadata.name], 'only hitless\'s own webhook configurations')
  t.equal(find(base, 'MutatingWebhookConfiguration').metadata.name, find(base, 'ValidatingWebhookConfiguration').metadata.name)
  const granted = role.rules.filter((r: any) => !r.resourceNames).flatMap((r: any) => r.resources.map((res: string) => `${r.apiGroups[0]}/${res}`)).sort()
  const needed = CACHED_RESOURCES.map(({ path }) => `${path.startsWith('/apis/') ? path.split('/')[2] : ''}/${path.split('/').pop()}`).sort()
  t.same(granted, needed)
  t.ok(role.rules.every((r: any) => r.verbs.every((v: string) => ['get', 'list', 'watch'].includes(v))), 'no write verbs')
  t.notOk(granted.some((g: string) => g.endsWith('secrets')))
})

t.test('webhook configurations', async (t) => {
  const mutating = find(base, 'MutatingWebhookConfiguration').webhooks[0]
  const validating = find(base, 'ValidatingWebhookConfiguration').webhooks[0]
  for (const hook of [mutating, validating]) {
    t.same(hook.admissionReviewVersions, ['v1'])
    t.equal(hook.sideEffects, 'None')
    t.ok(hook.timeoutSeconds <= 5)
    t.equal(hook.matchPolicy, 'Equivalent')
    t.equal(hook.failurePolicy, 'Ignore', 'availability first in base')
    t.same(hook.namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease', 'hitless-system'] },
      { key: 'hitless.dev/ignore', operator: 'DoesNotExist' },
    ])
    // Exactly what the rules declare they judge (src/contract/derive.ts); the mutating one only what they can fix.
    t.same(hook.rules, webhookRules(RULES, hook === mutating ? 'mutating' : 'validating'), hook === mutating ? 'mutating: what fixable rules judge' : 'validating: what every rule judges')
    t.notOk(hook === mutating && hook.rules.some((r: any) => r.resources.includes('services')), 'no Services in the mutating webhook: no rule fixes them')
    // DELETE only where a rule judges it (Service deletions that orphan an Ingress or route), never mutated.
    t.ok(hook.rules.every((r: any) => r.operations.join() === 'CREATE,UPDATE' || (hook !== mutating && r.operations.join() === 'CREATE,UPDATE,DELETE' && r.resources.join() === 'services')), 'DELETE for Services only, and only to validate')
    t.match(hook.clientConfig.service, { name: 'hitless', namespace: 'hitless-system', port: 443 })
  }
  const namespaces = find(base, 'ValidatingWebhookConfiguration').webhooks[1]
  t.equal(namespaces.name, 'namespaces.validate.hitless.dev')
  t.same(
    namespaces.rules,
    [
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces'], scope: 'Cluster' },
      { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['namespaces/status', 'namespaces/finalize'], scope: 'Cluster' },
    ],
    'namespaces and the subresources whose writes keep labels and annotations (decision 0042), never DELETE',
  )
  t.equal(namespaces.failurePolicy, 'Ignore', 'a hitless outage never blocks namespace lifecycle')
  t.notOk(JSON.stringify(namespaces.namespaceSelector).includes('hitless.dev/ignore'), 'adding the ignore label is itself gated, so it cannot hide the change')
  t.equal(find(base, 'MutatingWebhookConfiguration').webhooks.length, 1, 'nothing mutates Namespaces')
  t.equal(mutating.reinvocationPolicy, 'IfNeeded')
  t.equal(mutating.clientConfig.service.path, '/mutate')
  t.equal(validating.clientConfig.service.path, '/validate')
})

t.test('the shipped config is rules/default.yaml, and the overlays change what they say', async (t) => {
  t.equal(readFileSync(`${root}base/rules.yaml`, 'utf8'), readFileSync(fileURLToPath(new URL('../../rules/default.yaml', import.meta.url)), 'utf8'), 'manifests/base/rules.yaml is a copy of rules/default.yaml')
  t.equal(parseConfig(find(base, 'ConfigMap').data['config.yaml'], 'base').mode, 'enforce')
  if (!kubectl) return
  t.equal(parseConfig(find(build('overlays/audit'), 'ConfigMap').data['config.yaml'], 'audit').mode, 'audit')
  const closed = build('overlays/fail-closed')
  t.same([find(closed, 'MutatingWebhookConfiguration'), find(closed, 'ValidatingWebhookConfiguration')].map((c) => c.webhooks[0].failurePolicy), ['Fail', 'Fail'])
  t.equal(find(closed, 'ValidatingWebhookConfiguration').webhooks[1].failurePolicy, 'Ignore', 'the Namespace gate stays fail-open')
  const certManager = build('overlays/cert-manager')
  t.match(find(certManager, 'Certificate').spec, { secretName: 'hitless-tls', dnsNames: ['hitless.hitless-system.svc', 'hitless.hitless-system.svc.cluster.local'] })
  t.equal(find(certManager, 'ValidatingWebhookConfiguration').metadata.annotations['cert-manager.io/inject-ca-from'], 'hitless-system/hitless')
})

t.test("hitless's own manifests pass hitless", async (t) => {
  const text = base.map((o) => JSON.stringify(o)).join('\n---\n')
  const result = auditManifests(parseManifests(text, 'manifests/base').manifests, configFrom(), { defaultNamespace: 'hitless-system' })
  t.same(result.findings.map((f) => `${f.rule}: ${f.message}`), [])
  t.same(result.errors, [])
})

t.test('the recommended labels on every object and on the pod template, never in selectors', async (t) => {
  for (const object of base) {
    t.match(object.metadata?.labels, { 'app.kubernetes.io/name': 'hitless', 'app.kubernetes.io/part-of': 'hitless', 'app.kubernetes.io/component': 'admission-webhook' }, `${object.kind} ${object.metadata?.name}`)
  }
  t.match(deployment.spec.template.metadata.labels, { 'app.kubernetes.io/name': 'hitless', 'app.kubernetes.io/version': String }, 'pod template')
  t.same(deployment.spec.selector, { matchLabels: { app: 'hitless' } }, 'the selector is unchanged (immutable)')
})

t.test('a ResourceQuota admits the system-cluster-critical pods outside kube-system', async (t) => {
  const quota = find(base, 'ResourceQuota')
  t.equal(quota.metadata.namespace, 'hitless-system')
  t.same(quota.spec.scopeSelector.matchExpressions, [{ scopeName: 'PriorityClass', operator: 'In', values: [deployment.spec.template.spec.priorityClassName] }])
  const surge = deployment.spec.strategy.rollingUpdate.maxSurge
  t.ok(Number(quota.spec.hard.pods) >= deployment.spec.replicas + surge, 'room for every replica and a rollout')
})

t.test('overlays/prometheus-operator: a ServiceMonitor valid against the CRD, pointed at the Service', { skip: kubectl ? false : 'kubectl not installed' }, async (t) => {
  const { Ajv } = await import('ajv')
  const crd = loadAll(readFileSync(fileURLToPath(new URL('../../../shared/crds/monitoring.coreos.com_servicemonitors.yaml', import.meta.url)), 'utf8'))[0] as any
  const validate = new Ajv({ strict: false, allErrors: true }).compile(crd.spec.versions[0].schema.openAPIV3Schema)
  const built = build('overlays/prometheus-operator')
  const monitor = find(built, 'ServiceMonitor')
  t.ok(validate(monitor), JSON.stringify(validate.errors))
  const service = find(built, 'Service')
  t.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name, 'the Service port by name')
  t.match(service.metadata.labels, monitor.spec.selector.matchLabels, 'the selector matches the Service')
  t.equal(monitor.spec.endpoints[0].tlsConfig.serverName, `${service.metadata.name}.${service.metadata.namespace}.svc`)
})
