// The Namespace gate through namespaces/status and namespaces/finalize (decision 0042): the API server keeps
// the labels and annotations such a write carries, so /validate judges it as an UPDATE of the Namespace
// (the approver check, lb-readiness-gate), names the subresource when it refuses, and lets the namespace
// controller's finalize of a terminating Namespace through. Every other subresource stays unjudged.
import t from 'tap'
import { handleAdmission } from '../../src/admission/handle.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { admissionReview, loadFixture, onlyRule, policyFrom } from '../helpers/objects.ts'

const gated = policyFrom('exemptions: {approvers: {users: [carol], groups: []}}')
const mallory = { username: 'mallory', groups: ['devs', 'system:authenticated'] }
const carol = { username: 'carol', groups: ['system:authenticated'] }
const namespaceController = { username: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts', 'system:authenticated'] }

const ns = (labels: Record<string, string> = {}, extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', ...labels }, annotations, ...extra }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }) as KubeObject

/** What the API server sends for PUT /api/v1/namespaces/shop/<subResource>: resource namespaces, the Namespace's name as namespace. */
function review(subResource: string, object: KubeObject, oldObject: KubeObject, user: { username: string; groups: string[] }) {
  const body = admissionReview(object, { operation: 'UPDATE', oldObject, subResource, user })
  return { ...body, request: { ...body.request, namespace: 'shop' } }
}

const validate = (body: unknown, policy = gated) => handleAdmission(body, 'validate', policy)
const response = (body: unknown, policy = gated) => (validate(body, policy).body as { response: { allowed: boolean; status?: { message: string } } }).response

for (const subResource of ['status', 'finalize']) {
  t.test(`namespaces/${subResource}: a non-approver adding hitless.dev/ignore is refused, naming the subresource`, async (t) => {
    const answer = response(review(subResource, ns({ 'hitless.dev/ignore': 'true' }), ns(), mallory))
    t.equal(answer.allowed, false)
    t.match(answer.status?.message, `mallory is not an exemption approver and may not add or change hitless.dev/ignore (written through namespaces/${subResource})`)
  })

  t.test(`namespaces/${subResource}: hitless.dev/mode off and namespace-wide exemptions too; an approver may; removals and other keys pass`, async (t) => {
    t.equal(response(review(subResource, ns({ 'hitless.dev/mode': 'off' }), ns(), mallory)).allowed, false, 'mode off')
    t.equal(response(review(subResource, ns({}, {}, { 'hitless.dev/exempt': '*' }), ns(), mallory)).allowed, false, 'a namespace-wide exemption')
    t.equal(response(review(subResource, ns({ 'hitless.dev/ignore': 'true' }), ns(), carol)).allowed, true, 'an approver')
    t.equal(response(review(subResource, ns(), ns({ 'hitless.dev/ignore': 'true' }), mallory)).allowed, true, 'removing ignore')
    t.equal(response(review(subResource, ns({ team: 'web' }), ns(), mallory)).allowed, true, 'an unrelated label')
    t.equal(validate(review(subResource, ns({ team: 'web' }), ns(), mallory)).log.skipped, undefined, 'judged, not skipped')
  })
}

t.test("the namespace controller's finalize of a terminating Namespace passes, as does one that only drops finalizers", async (t) => {
  const terminating = (finalizers: string[], labels: Record<string, string> = {}) =>
    ({ ...ns(labels, { deletionTimestamp: '2026-12-07T05:00:00Z' }), spec: { finalizers }, status: { phase: 'Terminating' } }) as KubeObject
  const finalize = validate(review('finalize', terminating([], { 'hitless.dev/mode': 'audit' }), terminating(['kubernetes'], { 'hitless.dev/mode': 'audit' }), namespaceController))
  t.equal((finalize.body as { response: { allowed: boolean } }).response.allowed, true)
  t.equal(finalize.log.skipped, 'object is being deleted')
  const dropOnly = { ...ns(), spec: { finalizers: [] } } as KubeObject
  t.equal(response(review('finalize', dropOnly, ns(), mallory)).allowed, true, 'an active Namespace whose finalizers a non-approver drops')
})

t.test('lb-readiness-gate judges the injection label removed through namespaces/status like an UPDATE', async (t) => {
  const fixture = loadFixture(new URL('../fixtures/lb-readiness-gate/fires-namespace-label-removed.yaml', import.meta.url))
  const policy = onlyRule('lb-readiness-gate', 'deny', fixture.cluster)
  const answer = response(review('status', fixture.review.object!, fixture.review.oldObject!, mallory), policy)
  t.equal(answer.allowed, false)
  t.match(answer.status?.message, /\[lb-readiness-gate\].*loses elbv2\.k8s\.aws\/pod-readiness-gate-inject=enabled/s)
})

t.test('every other subresource stays unjudged: a Deployment’s scale and status, a Pod’s status, a CREATE through a Namespace subresource', async (t) => {
  const deployment = loadFixture(new URL('../fixtures/readiness-probe/fires-deployment-no-probe.yaml', import.meta.url)).review.object!
  const exempted = { ...deployment, metadata: { ...deployment.metadata, annotations: { 'hitless.dev/exempt': '*' } } } as KubeObject
  for (const subResource of ['scale', 'status']) {
    const handled = validate(admissionReview(exempted, { operation: 'UPDATE', oldObject: deployment, subResource, user: mallory }))
    t.equal((handled.body as { response: { allowed: boolean } }).response.allowed, true, `deployments/${subResource}`)
    t.equal(handled.log.skipped, `subresource ${subResource}`)
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop', annotations: { 'hitless.dev/exempt': '*' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } as KubeObject
  t.equal(validate(admissionReview(pod, { operation: 'UPDATE', oldObject: pod, subResource: 'status', user: mallory })).log.skipped, 'subresource status', 'pods/status')
  const other = review('status', ns({ 'hitless.dev/ignore': 'true' }), ns(), mallory)
  t.equal(validate({ ...other, request: { ...other.request, operation: 'CREATE', oldObject: null } }).log.skipped, 'subresource status', 'a CREATE through a Namespace subresource is no UPDATE')
})
