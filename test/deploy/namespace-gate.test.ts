// The Namespace gate on Kubernetes >= 1.30: the overlays rendered by kubectl kustomize, and what the API
// server does with their Namespace entry while hitless cannot answer (rules, namespaceSelector,
// matchConditions evaluated with a CEL implementation, then failurePolicy). Adding hitless.dev/ignore is
// refused under fail-closed + k8s-1.30; every other Namespace write goes through.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { loadAll } from 'js-yaml'
import t from 'tap'
import { namespaceGateCondition, objectMatchCondition, shippedTrustedControllers } from '../../src/contract/match-conditions.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { decoded, evaluateCel, selects } from '../helpers/admission-policy.ts'
import { hasKubectl } from '../helpers/kubectl.ts'

const root = fileURLToPath(new URL('../../manifests/', import.meta.url))
const build = (entry: string) => loadAll(execFileSync('kubectl', ['kustomize', `${root}${entry}`], { encoding: 'utf8' })) as KubeObject[]

interface Webhook {
  name: string
  failurePolicy: 'Fail' | 'Ignore'
  namespaceSelector?: Parameters<typeof selects>[0]
  rules: { apiGroups: string[]; operations: string[]; resources: string[] }[]
  matchConditions?: { name: string; expression: string }[]
}

interface NamespaceWrite {
  operation: 'CREATE' | 'UPDATE' | 'DELETE'
  object: KubeObject | null
  oldObject: KubeObject | null
}

/**
 * What the API server answers for a Namespace write while no hitless replica answers: a webhook that
 * matches it (rules, namespaceSelector on the Namespace's own labels, every matchCondition true) fails
 * the call and its failurePolicy decides.
 */
function whileHitlessIsDown(webhooks: Webhook[], write: NamespaceWrite): 'admitted' | 'refused' {
  const subject = (write.object ?? write.oldObject)!
  const labels = { 'kubernetes.io/metadata.name': subject.metadata!.name!, ...(subject.metadata?.labels ?? {}) }
  for (const hook of webhooks) {
    if (!hook.rules.some((rule) => rule.apiGroups.includes('') && rule.resources.includes('namespaces') && rule.operations.includes(write.operation))) continue
    if (!selects(hook.namespaceSelector, labels)) continue
    const context = { object: write.object ? decoded(write.object) : null, oldObject: write.oldObject ? decoded(write.oldObject) : null, request: { operation: write.operation, userInfo: { username: 'mallory' } } }
    if (!(hook.matchConditions ?? []).every((condition) => evaluateCel(condition.expression, context) === true)) continue
    if (hook.failurePolicy === 'Fail') return 'refused'
  }
  return 'admitted'
}

const namespace = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...(Object.keys(labels).length ? { labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
})
const create = (object: KubeObject): NamespaceWrite => ({ operation: 'CREATE', object, oldObject: null })
const update = (oldObject: KubeObject, object: KubeObject): NamespaceWrite => ({ operation: 'UPDATE', object, oldObject })

const shop = namespace('shop', { team: 'web' })
const cases: [string, NamespaceWrite, 'admitted' | 'refused'][] = [
  ['adding hitless.dev/ignore', update(shop, namespace('shop', { team: 'web', 'hitless.dev/ignore': 'true' })), 'refused'],
  ['setting hitless.dev/mode: off', update(shop, namespace('shop', { team: 'web', 'hitless.dev/mode': 'off' })), 'refused'],
  ['adding a namespace-wide exemption', update(shop, namespace('shop', { team: 'web' }, { 'hitless.dev/exempt': '*', 'hitless.dev/exempt-reason': 'x' })), 'refused'],
  ['removing hitless.dev/mode (sent too: the webhook judges, and allows, removals)', update(namespace('shop', { 'hitless.dev/mode': 'enforce' }), shop), 'refused'],
  ['creating a Namespace with hitless.dev/ignore', create(namespace('sneaky', { 'hitless.dev/ignore': 'true' })), 'refused'],
  ['creating an unrelated Namespace', create(namespace('unrelated')), 'admitted'],
  ['creating a Namespace with other labels and annotations', create(namespace('other', { team: 'x' }, { owner: 'y' })), 'admitted'],
  ['relabelling a Namespace with other keys', update(shop, namespace('shop', { team: 'api' }, { note: 'z' })), 'admitted'],
  ['an update that keeps hitless.dev/mode as it is', update(namespace('shop', { 'hitless.dev/mode': 'audit' }), namespace('shop', { 'hitless.dev/mode': 'audit', team: 'x' })), 'admitted'],
  ['deleting a Namespace', { operation: 'DELETE', object: null, oldObject: namespace('shop', { 'hitless.dev/mode': 'audit' }) }, 'admitted'],
]

t.test('fail-closed + k8s-1.30: while hitless is down, only writes of its own keys are refused', { skip: hasKubectl ? false : 'kubectl not installed' }, async (t) => {
  const webhooks = (build('overlays/fail-closed-k8s-1.30').find((o) => o.kind === 'ValidatingWebhookConfiguration') as unknown as { webhooks: Webhook[] }).webhooks
  const gate = webhooks.find((w) => w.name === 'namespaces.validate.hitless.dev')!
  t.equal(gate.failurePolicy, 'Fail')
  t.same(gate.matchConditions, [namespaceGateCondition()], 'the condition written by npm run generate')
  for (const [label, write, expected] of cases) t.equal(whileHitlessIsDown(webhooks, write), expected, label)
})

t.test('below 1.30, and without fail-closed, the gate stays fail-open: every Namespace write passes while hitless is down', { skip: hasKubectl ? false : 'kubectl not installed' }, async (t) => {
  for (const entry of ['overlays/fail-closed', 'overlays/k8s-1.30', 'base']) {
    const webhooks = (build(entry).find((o) => o.kind === 'ValidatingWebhookConfiguration') as unknown as { webhooks: Webhook[] }).webhooks
    t.equal(webhooks.find((w) => w.name === 'namespaces.validate.hitless.dev')!.failurePolicy, 'Ignore', entry)
    for (const [label, write] of cases) t.equal(whileHitlessIsDown(webhooks, write), 'admitted', `${entry}: ${label}`)
  }
})

t.test('the object webhooks carry the controller condition on both k8s-1.30 entries', { skip: hasKubectl ? false : 'kubectl not installed' }, async (t) => {
  const expected = objectMatchCondition(shippedTrustedControllers())
  for (const entry of ['overlays/k8s-1.30', 'overlays/fail-closed-k8s-1.30']) {
    const built = build(entry)
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const [hook] = (built.find((o) => o.kind === kind) as unknown as { webhooks: Webhook[] }).webhooks
      t.same(hook!.matchConditions, [expected], `${entry}: ${kind}`)
    }
  }
})
