// The Namespace gate on a real kube-apiserver v1.20 (decision 0042): its webhook entry as
// manifests/base/webhooks.yaml ships it (rules with namespaces/status and namespaces/finalize, failurePolicy
// Ignore), pointed at a hitless with exemption approvers. A user who may only update those subresources
// cannot set hitless.dev/ignore through them; an approver can; and deleting a Namespace still completes
// through its finalize (no namespace controller runs here, so the test makes its finalize and its second
// DELETE), with hitless up and with hitless down.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadAll } from 'js-yaml'
import t, { type Test } from 'tap'
import { TestCluster, waitFor } from './cluster.ts'

const binary = process.env['HITLESS_E2E_APISERVER']
if (!binary) throw new Error('HITLESS_E2E_APISERVER is not set: run npm run test:e2e')
const cluster = new TestCluster(binary)
t.teardown(() => cluster.stop())
await cluster.start()
await writeFile(join(cluster.dir, 'approvers.yaml'), 'exemptions: {approvers: {users: [carol], groups: []}}\n')
await writeFile(join(cluster.dir, 'approval.key'), randomBytes(32))
const replica = await cluster.startReplica(['--config', join(cluster.dir, 'approvers.yaml'), '--approval-key', join(cluster.dir, 'approval.key')])

interface Hook {
  name: string
  clientConfig: Record<string, unknown>
}
const shipped = (loadAll(readFileSync(new URL('../../manifests/base/webhooks.yaml', import.meta.url), 'utf8')) as { kind: string; webhooks: Hook[] }[])
  .find((document) => document.kind === 'ValidatingWebhookConfiguration')!
  .webhooks.find((hook) => hook.name === 'namespaces.validate.hitless.dev')!
const gate = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: 'hitless-namespaces' },
  webhooks: [{ ...shipped, clientConfig: { url: `${replica.url}/validate`, caBundle: Buffer.from(cluster.ca).toString('base64') } }],
}

// mallory and carol may update the two subresources and nothing else about Namespaces (RBAC, impersonated).
const rbac = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespace-subresource-writer}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [get]}
- {apiGroups: [""], resources: [namespaces/status, namespaces/finalize], verbs: [update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: namespace-subresource-writers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: namespace-subresource-writer}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: mallory}
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}
`

const stored = (name: string) => JSON.parse(cluster.kubectl(['get', 'namespace', name, '-o', 'json']).stdout)
/** PUT /api/v1/namespaces/<name>/<subresource> of the stored Namespace changed by `change`, as `user` (impersonated). */
function put(name: string, subresource: 'status' | 'finalize', change: (namespace: any) => void, user?: string, dryRun = false) {
  const namespace = stored(name)
  change(namespace)
  const path = `/api/v1/namespaces/${name}/${subresource}${dryRun ? '?dryRun=All' : ''}`
  return cluster.kubectl(['replace', '--raw', path, '-f', '-', ...(user ? ['--as', user] : [])], JSON.stringify(namespace))
}
const addIgnore = (namespace: any) => {
  namespace.metadata.labels = { ...namespace.metadata.labels, 'hitless.dev/ignore': 'true' }
}

t.before(async () => {
  for (const name of ['shop', 'doomed', 'doomed-while-down']) t.equal(cluster.kubectl(['create', 'namespace', name]).status, 0, name)
  for (const name of ['doomed', 'doomed-while-down']) cluster.kubectl(['label', 'namespace', name, 'hitless.dev/mode=audit'])
  t.equal(cluster.kubectl(['apply', '-f', '-'], rbac).status, 0, 'RBAC')
  const applied = cluster.kubectl(['apply', '-f', '-'], JSON.stringify(gate))
  if (applied.status !== 0) throw new Error(`registering the Namespace gate failed: ${applied.stderr}`)
  await waitFor('the API server to call the gate', async () => put('shop', 'status', addIgnore, 'mallory', true).stderr.includes('not an exemption approver'))
})

t.test('the shipped gate names namespaces/status and namespaces/finalize', async (t) => {
  t.ok(JSON.stringify(shipped).includes('namespaces/status') && JSON.stringify(shipped).includes('namespaces/finalize'))
})

for (const subresource of ['status', 'finalize'] as const) {
  t.test(`a non-approver with update on namespaces/${subresource} cannot add hitless.dev/ignore through it`, async (t) => {
    const result = put('shop', subresource, addIgnore, 'mallory')
    t.not(result.status, 0, 'refused')
    t.match(result.stderr, `admission webhook "namespaces.validate.hitless.dev" denied the request`)
    t.match(result.stderr, `mallory is not an exemption approver and may not add or change hitless.dev/ignore (written through namespaces/${subresource})`)
    t.equal(stored('shop').metadata.labels?.['hitless.dev/ignore'], undefined, 'the label is not stored')
  })
}

t.test('an approver may, through namespaces/status; anyone may remove it again', async (t) => {
  const approved = put('shop', 'status', addIgnore, 'carol')
  t.equal(approved.status, 0, approved.stderr)
  t.equal(stored('shop').metadata.labels?.['hitless.dev/ignore'], 'true', 'stored')
  const removed = put('shop', 'status', (namespace) => delete namespace.metadata.labels?.['hitless.dev/ignore'], 'mallory')
  t.equal(removed.status, 0, removed.stderr)
  t.equal(stored('shop').metadata.labels?.['hitless.dev/ignore'], undefined, 'removed')
})

/** DELETE, the namespace controller's finalize (spec.finalizers emptied), DELETE again: the Namespace is gone. */
async function deleteCompletely(t: Test, name: string) {
  t.equal(cluster.kubectl(['delete', 'namespace', name, '--wait=false']).status, 0, 'DELETE')
  t.equal(stored(name).status.phase, 'Terminating')
  const finalized = put(name, 'finalize', (namespace) => (namespace.spec.finalizers = []))
  t.equal(finalized.status, 0, `finalize: ${finalized.stderr}`)
  cluster.kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found'])
  await waitFor(`namespace ${name} to be gone`, async () => cluster.kubectl(['get', 'namespace', name]).stderr.includes('NotFound'), 30_000)
  t.pass(`${name} is gone`)
}

t.test('deleting a Namespace completes: its finalize passes the gate', async (t) => {
  await deleteCompletely(t, 'doomed')
})

t.test('deleting a Namespace completes with hitless down: its finalize passes (failurePolicy Ignore)', async (t) => {
  await replica.stop()
  await deleteCompletely(t, 'doomed-while-down')
})
