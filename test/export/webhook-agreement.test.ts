// The exported policies skip what the webhook configurations skip: the same namespaces, the same
// ignore label, and for objects a controller creates the same condition as the k8s-1.30 component's
// matchCondition (the same text with the shipped config, and evaluated side by side).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { parseConfig } from '../../src/config/load.ts'
import { exportPolicies, SKIPPED_NAMESPACES } from '../../src/export/policies.ts'
import { evaluateCel } from '../helpers/admission-policy.ts'

const manifest = (path: string) => parseAllDocuments(readFileSync(new URL(`../../manifests/${path}`, import.meta.url), 'utf8')).map((d) => d.toJS())

t.test('the namespaces and the ignore label of the webhooks', async (t) => {
  const validating = manifest('base/webhooks.yaml').find((d) => d.kind === 'ValidatingWebhookConfiguration')
  const selector = validating.webhooks[0].namespaceSelector.matchExpressions
  const { documents } = exportPolicies(parseConfig('', 'shipped'), { kubernetesVersion: { major: 1, minor: 36 }, mutating: true })
  for (const binding of documents.filter((d) => d.kind!.endsWith('Binding'))) {
    const expressions = (binding.spec as { matchResources: { namespaceSelector: { matchExpressions: unknown[] } } }).matchResources.namespaceSelector.matchExpressions
    t.same(expressions.slice(0, 2), selector, `${binding.kind} ${binding.metadata!.name}`)
  }
  t.same(selector[0].values, SKIPPED_NAMESPACES)
})

t.test("objects a controller creates: the k8s-1.30 component's condition, from one source", async (t) => {
  const component = (manifest('components/k8s-1.30/match-conditions.yaml')[0] as { value: { name: string; expression: string }[] }[])[0]!.value[0]!
  const { documents } = exportPolicies(parseConfig('', 'shipped'), { kubernetesVersion: { major: 1, minor: 36 }, mutating: false })
  const ours = (documents[0]!.spec as { matchConditions: { name: string; expression: string }[] }).matchConditions.find((c) => c.name === component.name)!
  t.equal(ours.expression, component.expression, 'with the shipped controllers.trusted, the same text')
  const owners = [
    undefined,
    [],
    [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', controller: true }],
    [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', controller: false }],
    [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web', controller: true }],
    [{ apiVersion: 'v1', kind: 'Node', name: 'worker-1', controller: true }],
    [{ kind: 'Thing', name: 'x' }],
  ]
  const users = ['system:serviceaccount:kube-system:replicaset-controller', 'system:serviceaccount:argo-rollouts:argo-rollouts', 'system:serviceaccount:argocd:argocd-application-controller', 'system:kube-controller-manager', 'system:node:worker-1', 'alice', 'system:admin', 'system:serviceaccountx']
  for (const ownerReferences of owners) {
    for (const username of users) {
      const context = { object: { metadata: { name: 'web', ...(ownerReferences ? { ownerReferences } : {}) } }, request: { userInfo: { username } } }
      t.equal(evaluateCel(ours.expression, context), evaluateCel(component.expression, context), `${JSON.stringify(ownerReferences)} by ${username}`)
    }
  }
})
