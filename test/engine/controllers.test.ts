// Owner kinds decide who may create: an ownerReference is believed only from the controller that
// creates that owner's dependents. The webhook's skip (skipReason) and its CEL twin (the k8s-1.30
// component's and the exported policies' matchCondition) are checked over the same cases.
import t from 'tap'
import { parseConfig } from '../../src/config/load.ts'
import { objectMatchCondition } from '../../src/contract/match-conditions.ts'
import { BUILT_IN_OWNERS, trustedCreator } from '../../src/engine/controllers.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { skipReason } from '../../src/engine/scope.ts'
import type { KubeObject, ReviewInput, TrustedController } from '../../src/model/types.ts'
import { evaluateCel } from '../helpers/admission-policy.ts'
import { loadYaml } from '../helpers/objects.ts'

const shipped = parseConfig('', 'shipped')
const TRUSTED = shipped.controllers.trusted

/** A Pod without a readinessProbe (readiness-probe denies it when judged), owned by `owner`. */
function ownedPod(owner: Record<string, unknown> | undefined): KubeObject {
  const pod = loadYaml('readiness-probe/fires-bare-pod.yaml')
  return { ...pod, metadata: { ...pod.metadata, ...(owner ? { ownerReferences: [{ name: 'web-7d9f8', uid: 'u1', ...owner }] } : {}) } }
}

const review = (object: KubeObject, username: string, kind = 'Pod', group = ''): ReviewInput => ({
  operation: 'CREATE',
  kind,
  group,
  object,
  oldObject: null,
  namespace: 'shop',
  userInfo: { username, groups: username.startsWith('system:serviceaccount:') ? ['system:serviceaccounts'] : ['system:authenticated'] },
})

const replicaSetOwner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', controller: true }
const rolloutOwner = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', controller: true }

t.test('the hidden-style cases, with the shipped config', async (t) => {
  const policy = buildPolicy(shipped)
  const judged = (r: ReviewInput) => evaluate(r, policy, { now: new Date('2026-06-01T00:00:00Z') })
  const argo = judged(review(ownedPod(replicaSetOwner), 'system:serviceaccount:argocd:argocd-application-controller'))
  t.equal(argo.skipped, undefined, "an owned Pod from Argo CD's application controller is judged")
  t.ok(argo.findings.some((f) => f.rule === 'readiness-probe' && f.action === 'deny'), 'and denied for its missing readinessProbe')
  for (const username of ['system:serviceaccount:flux-system:kustomize-controller', 'system:serviceaccount:ci:deployer', 'system:serviceaccount:shop:default']) {
    t.equal(judged(review(ownedPod(replicaSetOwner), username)).skipped, undefined, `${username}: judged`)
  }
  t.equal(judged(review(ownedPod(replicaSetOwner), 'system:serviceaccount:kube-system:replicaset-controller')).skipped, 'controlled by ReplicaSet/web-7d9f8', "the ReplicaSet controller's Pod passes")
  t.equal(judged(review(ownedPod(replicaSetOwner), 'system:kube-controller-manager')).skipped, 'controlled by ReplicaSet/web-7d9f8', 'so does kube-controller-manager without per-controller credentials')
  const rolloutReplicaSet = { ...loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml'), kind: 'ReplicaSet' }
  rolloutReplicaSet.metadata = { ...rolloutReplicaSet.metadata, ownerReferences: [{ name: 'web', uid: 'u2', ...rolloutOwner }] }
  t.equal(judged(review(rolloutReplicaSet, 'system:serviceaccount:argo-rollouts:argo-rollouts', 'ReplicaSet', 'apps')).skipped, 'controlled by Rollout/web', 'a Rollout-owned ReplicaSet from the configured Rollouts controller passes')
  t.equal(judged(review(rolloutReplicaSet, 'system:serviceaccount:argocd:argocd-application-controller', 'ReplicaSet', 'apps')).skipped, undefined, 'the same ReplicaSet from Argo CD is judged')
  const person = judged(review(ownedPod(replicaSetOwner), 'alice'))
  t.equal(person.skipped, undefined, "a person's owned Pod is judged")
  t.ok(person.findings.some((f) => f.rule === 'readiness-probe' && f.action === 'deny'))
})

t.test('each built-in owner kind only from its own controller', async (t) => {
  for (const { kind, groups, controller } of BUILT_IN_OWNERS) {
    for (const group of groups) {
      const owner = { apiVersion: group ? `${group}/v1` : 'v1', kind, name: 'x' }
      t.ok(trustedCreator(owner, { username: `system:serviceaccount:kube-system:${controller}` }, TRUSTED), `${kind} (${owner.apiVersion}) from ${controller}`)
      t.ok(trustedCreator(owner, { username: 'system:kube-controller-manager' }, TRUSTED), `${kind} from kube-controller-manager`)
      for (const other of BUILT_IN_OWNERS.filter((entry) => entry.controller !== controller)) {
        t.notOk(trustedCreator(owner, { username: `system:serviceaccount:kube-system:${other.controller}` }, TRUSTED), `${kind} not from ${other.controller}`)
      }
      t.notOk(trustedCreator(owner, { username: `system:serviceaccount:other:${controller}` }, TRUSTED), `${kind}: the same name in another namespace is not it`)
      t.notOk(trustedCreator(owner, { username: 'system:serviceaccount:argo-rollouts:argo-rollouts' }, TRUSTED), `${kind}: a trusted custom controller may not forge a built-in owner`)
    }
  }
  t.notOk(trustedCreator({ apiVersion: 'example.com/v1', kind: 'ReplicaSet', name: 'x' }, { username: 'system:serviceaccount:kube-system:replicaset-controller' }, []), "a custom resource named like a built-in kind is not the ReplicaSet controller's")
})

t.test('mirror pods only from their own node', async (t) => {
  const node = { apiVersion: 'v1', kind: 'Node', name: 'worker-1' }
  t.ok(trustedCreator(node, { username: 'system:node:worker-1' }, []))
  t.notOk(trustedCreator(node, { username: 'system:node:worker-2' }, []), "another node's kubelet")
  t.notOk(trustedCreator(node, { username: 'system:serviceaccount:kube-system:replicaset-controller' }, []))
})

t.test('controllers.trusted: service accounts or whole namespaces, for custom resources only', async (t) => {
  const trusted: TrustedController[] = [{ namespace: 'argo-rollouts', serviceAccount: 'argo-rollouts' }, { namespace: 'operators' }]
  const owner = { apiVersion: 'example.com/v1', kind: 'Database', name: 'db' }
  t.ok(trustedCreator(owner, { username: 'system:serviceaccount:operators:postgres-operator' }, trusted), 'any account of a trusted namespace')
  t.ok(trustedCreator(rolloutOwner, { username: 'system:serviceaccount:argo-rollouts:argo-rollouts' }, trusted))
  t.notOk(trustedCreator(rolloutOwner, { username: 'system:serviceaccount:argo-rollouts:default' }, trusted), 'another account of that namespace')
  t.notOk(trustedCreator(owner, { username: 'system:serviceaccount:operators-evil:x' }, trusted), 'a namespace whose name starts the same')
  t.notOk(trustedCreator({ apiVersion: 'apps/v1', kind: 'Widget', name: 'w' }, { username: 'system:serviceaccount:operators:x' }, trusted), 'an unknown kind of a built-in group is no custom resource')
  t.notOk(trustedCreator({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'g' }, { username: 'system:serviceaccount:operators:x' }, trusted), '*.k8s.io groups are not custom resources')
  t.notOk(trustedCreator(owner, {}, trusted), 'no username')
  const config = parseConfig('controllers:\n  trusted:\n    - {namespace: operators}\n', 'custom')
  t.same(config.controllers.trusted, [{ namespace: 'operators' }], 'the list replaces the shipped one')
  t.throws(() => parseConfig('controllers:\n  trusted:\n    - {serviceAccount: x}\n', 'bad'), /\$\.controllers\.trusted\.0: must have required property 'namespace'/)
})

t.test('outside admission (audits) the owner is judged, not its dependents', async (t) => {
  const object = ownedPod(replicaSetOwner)
  t.equal(skipReason({ operation: 'CREATE', kind: 'Pod', group: '', object, oldObject: null }), 'controlled by ReplicaSet/web-7d9f8')
})

t.test('the CEL twin gives the same verdict as the webhook', async (t) => {
  const trusted: TrustedController[] = [...TRUSTED, { namespace: 'operators' }]
  const condition = objectMatchCondition(trusted)
  const owners = [
    undefined,
    { ...replicaSetOwner, controller: false },
    replicaSetOwner,
    { apiVersion: 'extensions/v1beta1', kind: 'ReplicaSet', controller: true },
    { apiVersion: 'apps/v1', kind: 'Deployment', controller: true },
    { apiVersion: 'batch/v1', kind: 'Job', controller: true },
    { apiVersion: 'v1', kind: 'ReplicationController', controller: true },
    { apiVersion: 'v1', kind: 'Node', name: 'worker-1', controller: true },
    rolloutOwner,
    { apiVersion: 'example.com/v1', kind: 'Database', controller: true },
    { apiVersion: 'example.com/v1', kind: 'ReplicaSet', controller: true },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', controller: true },
  ]
  const users = [
    'system:serviceaccount:kube-system:replicaset-controller',
    'system:serviceaccount:kube-system:deployment-controller',
    'system:serviceaccount:kube-system:job-controller',
    'system:serviceaccount:kube-system:replication-controller',
    'system:kube-controller-manager',
    'system:node:worker-1',
    'system:node:worker-2',
    'system:serviceaccount:argo-rollouts:argo-rollouts',
    'system:serviceaccount:operators:db-operator',
    'system:serviceaccount:argocd:argocd-application-controller',
    'alice',
  ]
  let compared = 0
  for (const owner of owners) {
    for (const username of users) {
      const object = ownedPod(owner)
      const webhookSkips = skipReason(review(object, username), trusted) !== undefined
      const apiServerCalls = evaluateCel(condition.expression, { object, request: { userInfo: { username } } })
      t.equal(apiServerCalls, !webhookSkips, `${JSON.stringify(owner)} by ${username}`)
      compared++
    }
  }
  t.equal(compared, owners.length * users.length)
})
