import t from 'tap'
import { decide, outcomeOf } from '../../src/engine/decide.ts'
import { evaluate, objectRef } from '../../src/engine/evaluate.ts'
import { skipReason } from '../../src/engine/scope.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { loadYaml, policyFrom, reviewOf } from '../helpers/objects.ts'

const bad = (): KubeObject => loadYaml('readiness-probe/fires-bare-pod.yaml')
const deployment = (): KubeObject => loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml')

t.test('out of scope, whatever the rules say', async (t) => {
  const pod = bad()
  t.equal(skipReason(reviewOf(pod, { subResource: 'status' })), 'subresource status')
  t.equal(skipReason(reviewOf(pod, { operation: 'DELETE' })), 'operation DELETE')
  t.equal(skipReason(reviewOf(pod, { operation: 'CONNECT' })), 'operation CONNECT')
  t.equal(skipReason({ ...reviewOf(pod), object: null }), 'no object')
  t.equal(skipReason(reviewOf({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } })), 'object is being deleted')
  const owned = { ...deployment(), kind: 'ReplicaSet' }
  owned.metadata = { ...owned.metadata, ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] }
  t.equal(skipReason(reviewOf(owned)), 'controlled by Deployment/web', 'a Deployment-owned ReplicaSet is never patched')
  const notController = { ...pod, metadata: { ...pod.metadata, ownerReferences: [{ kind: 'ConfigMap', name: 'x' }] } }
  t.equal(skipReason(reviewOf(notController)), undefined, 'an owner that is not the controller does not count')
  t.equal(skipReason(reviewOf(pod)), undefined)
})

t.test('a skipped review has no findings and says why', async (t) => {
  const result = evaluate(reviewOf(bad(), { subResource: 'scale' }), policyFrom())
  t.same(result, { findings: [], patch: [], notices: [], skipped: 'subresource scale' })
})

t.test('unknown kinds pass untouched', async (t) => {
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y' }, data: { a: 'b' } }
  t.same(evaluate(reviewOf(configMap), policyFrom()), { findings: [], patch: [], notices: [] })
  const custom = { apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: deployment().spec }
  t.same(evaluate(reviewOf(custom), policyFrom()).findings, [], 'a Deployment of another API group is not ours')
})

t.test('an UPDATE of a workload is judged like a CREATE', async (t) => {
  const object = deployment()
  const result = evaluate(reviewOf(object, { operation: 'UPDATE', oldObject: object }), policyFrom())
  t.same(result.findings.map((f) => f.rule), ['pre-stop'])
})

t.test('objectRef falls back to metadata and generateName', async (t) => {
  t.same(objectRef({ ...reviewOf(bad()), namespace: undefined, name: undefined } as never), { kind: 'Pod', namespace: 'default', name: 'debug-web' })
  const generated = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-' } }
  t.same(objectRef({ ...reviewOf(generated) }), { kind: 'Pod', name: 'web-' })
})

t.test('decide: /mutate patches and never denies; /validate denies what mutation should have fixed', async (t) => {
  const policy = policyFrom('rules: {readiness-probe: {action: deny}}')
  const evaluation = evaluate(reviewOf(bad()), policy)
  t.same(evaluation.findings.map((f) => [f.rule, f.action]), [['readiness-probe', 'deny'], ['pre-stop', 'mutate']])

  const mutate = decide(evaluation, 'mutate')
  t.equal(mutate.allowed, true)
  t.same(mutate.patched.map((f) => f.rule), ['pre-stop'])
  t.equal(mutate.patch.length, 1)
  t.equal(outcomeOf(mutate), 'patch')

  const validate = decide(evaluation, 'validate')
  t.equal(validate.allowed, false)
  t.same(validate.denied.map((f) => f.rule), ['readiness-probe', 'pre-stop'], 'all findings, not just the first')
  t.same(validate.patch, [])
  t.equal(outcomeOf(validate), 'deny')
})

t.test('decide: warn findings are admitted with a warning on both endpoints', async (t) => {
  const policy = policyFrom('rules: {readiness-probe: {action: warn}, pre-stop: {action: warn}}')
  const evaluation = evaluate(reviewOf(bad()), policy)
  for (const endpoint of ['mutate', 'validate'] as const) {
    const decision = decide(evaluation, endpoint)
    t.equal(decision.allowed, true, endpoint)
    t.same(decision.warned.map((f) => f.rule), ['readiness-probe', 'pre-stop'], endpoint)
    t.equal(outcomeOf(decision), 'warn')
  }
  t.equal(outcomeOf(decide({ findings: [], patch: [], notices: [] }, 'validate')), 'allow')
})
