// The writes the k8s-1.30 matchConditions are judged on (issue 25, decisions 0023 and 0035): the
// Namespace gate (`changes-hitless-keys`) and the controller identities (`not-created-by-a-controller`),
// each with what the design says: `sent` = some hitless webhook is called for it, so with the
// fail-closed + k8s-1.30 overlays and hitless down it is refused; a write not sent is admitted. Shared by
// test/deploy/namespace-gate.test.ts (the JavaScript model) and test/export-go/input.ts (the API server's
// own code in the Go checker).
import { GATE_INJECT_LABEL } from '../../src/cluster/load-balancers.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { APPROVAL_ANNOTATION, EXEMPT_ANNOTATION, REASON_ANNOTATION, UNTIL_ANNOTATION } from '../../src/exemptions/annotations.ts'
import { IGNORE_LABEL, MODE_LABEL } from '../../src/exemptions/approval.ts'
import type { AdmissionWrite } from '../helpers/webhook-dispatch.ts'

export interface JudgedWrite {
  name: string
  write: AdmissionWrite
  sent: boolean
}

/** The overlays that carry the matchConditions, and whether they fail closed. */
export const OVERLAYS: readonly { entry: string; failClosed: boolean }[] = [
  { entry: 'overlays/fail-closed-k8s-1.30', failClosed: true },
  { entry: 'overlays/k8s-1.30', failClosed: false },
]

/** What the verdict with no hitless replica answering must be. */
export const intended = (failClosed: boolean, write: JudgedWrite): 'admitted' | 'refused' => (failClosed && write.sent ? 'refused' : 'admitted')

/** A Namespace as the API server holds it: its defaulting labels every Namespace with its name. */
export function namespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, ...(Object.keys(annotations).length ? { annotations } : {}) },
    ...extra,
  } as KubeObject
}

/** The Namespaces that exist while the object writes are made. */
export const NAMESPACES: readonly KubeObject[] = [namespace('shop', { team: 'web' }), namespace('kube-system'), namespace('skipped', { [IGNORE_LABEL]: 'true' })]

const alice = { username: 'alice', groups: ['dev', 'system:authenticated'] }
const account = (namespace: string, name: string) => ({ username: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] })
const create = (object: KubeObject, userInfo = alice): AdmissionWrite => ({ operation: 'CREATE', object, oldObject: null, userInfo })
const update = (oldObject: KubeObject, object: KubeObject, userInfo = alice): AdmissionWrite => ({ operation: 'UPDATE', object, oldObject, userInfo })

const LABELS: Record<string, [string, string]> = { [IGNORE_LABEL]: ['true', 'yes'], [MODE_LABEL]: ['audit', 'off'] }
const ANNOTATIONS: Record<string, [string, string]> = {
  [EXEMPT_ANNOTATION]: ['readiness-probe', '*'],
  [REASON_ANNOTATION]: ['migration', 'other'],
  [UNTIL_ANNOTATION]: ['2026-07-01', '2027-01-01'],
  [APPROVAL_ANNOTATION]: ['approve', 'by boss; hmac-sha256:00'],
}

const withFinalizer = (object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, finalizers: ['example.com/cleanup'] } }) as KubeObject

function namespaceGate(): JudgedWrite[] {
  const shop = namespace('shop', { team: 'web' }, { owner: 'team-web' })
  const out: JudgedWrite[] = [
    { name: 'CREATE an unrelated Namespace', write: create(namespace('unrelated')), sent: false },
    { name: 'CREATE a Namespace with other labels and annotations', write: create(namespace('other', { team: 'x' }, { owner: 'y' })), sent: false },
    { name: 'UPDATE of an unrelated label', write: update(shop, namespace('shop', { team: 'api' }, { owner: 'team-web' })), sent: false },
    { name: 'UPDATE of an unrelated annotation', write: update(shop, namespace('shop', { team: 'web' }, { owner: 'team-api' })), sent: false },
    {
      name: 'metadata-only UPDATE (a finalizer) keeping hitless.dev/mode',
      write: update(namespace('shop', { [MODE_LABEL]: 'audit' }), withFinalizer(namespace('shop', { [MODE_LABEL]: 'audit' }))),
      sent: false,
    },
    { name: 'UPDATE that keeps hitless.dev/mode and changes another label', write: update(namespace('shop', { [MODE_LABEL]: 'audit' }), namespace('shop', { [MODE_LABEL]: 'audit', team: 'x' })), sent: false },
    {
      name: 'status UPDATE (namespaces/status)',
      write: { ...update(namespace('shop', {}, {}, { status: { phase: 'Active' } }), namespace('shop', {}, {}, { status: { phase: 'Terminating' } })), subresource: 'status' },
      sent: false,
    },
    { name: 'DELETE of a Namespace with hitless.dev/mode', write: { operation: 'DELETE', object: null, oldObject: namespace('shop', { [MODE_LABEL]: 'audit' }), userInfo: alice }, sent: false },
    { name: 'UPDATE of kube-system adding hitless.dev/ignore (a system namespace, never judged)', write: update(namespace('kube-system'), namespace('kube-system', { [IGNORE_LABEL]: 'true' })), sent: false },
    { name: 'CREATE with the hitless.dev/ignore label', write: create(namespace('sneaky', { [IGNORE_LABEL]: 'true' })), sent: true },
    // lb-readiness-gate judges this label's removal on a Namespace (decision 0031); only the gate brings it.
    { name: `UPDATE removing ${GATE_INJECT_LABEL}`, write: update(namespace('shop', { [GATE_INJECT_LABEL]: 'enabled' }), namespace('shop')), sent: true },
    { name: `UPDATE adding ${GATE_INJECT_LABEL}`, write: update(namespace('shop'), namespace('shop', { [GATE_INJECT_LABEL]: 'enabled' })), sent: true },
    { name: `UPDATE keeping ${GATE_INJECT_LABEL}`, write: update(namespace('shop', { [GATE_INJECT_LABEL]: 'enabled' }), namespace('shop', { [GATE_INJECT_LABEL]: 'enabled', team: 'x' })), sent: false },
    { name: 'CREATE with a namespace-wide exemption', write: create(namespace('sneaky', {}, { [EXEMPT_ANNOTATION]: '*' })), sent: true },
    { name: 'CREATE with a hitless label by a controller account', write: create(namespace('sneaky', { [MODE_LABEL]: 'off' }), account('argocd', 'argocd-application-controller')), sent: true },
  ]
  out.push(...namespaceSubresources())
  for (const [kind, keys] of [['label', LABELS], ['annotation', ANNOTATIONS]] as const) {
    for (const [key, [first, second]] of Object.entries(keys)) {
      const withKey = (value: string) => (kind === 'label' ? namespace('shop', { team: 'web', [key]: value }, { owner: 'team-web' }) : namespace('shop', { team: 'web' }, { owner: 'team-web', [key]: value }))
      out.push(
        { name: `UPDATE adding the ${key} ${kind}`, write: update(shop, withKey(first)), sent: true },
        { name: `UPDATE changing the ${key} ${kind}`, write: update(withKey(first), withKey(second)), sent: true },
        { name: `UPDATE removing the ${key} ${kind}`, write: update(withKey(first), shop), sent: true },
      )
    }
  }
  return out
}

/**
 * Writes through namespaces/status and namespaces/finalize, whose labels and annotations the API server keeps
 * (decision 0042): sent when they change a gated key, never for what the namespace controller does.
 */
function namespaceSubresources(): JudgedWrite[] {
  const namespaceController = account('kube-system', 'namespace-controller')
  const terminating = (finalizers: string[]) =>
    namespace('shop', { [MODE_LABEL]: 'audit' }, {}, { spec: { finalizers }, status: { phase: 'Terminating' } })
  const deleting = (object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, deletionTimestamp: '2026-12-07T05:00:00Z' } }) as KubeObject
  const out: JudgedWrite[] = []
  for (const subresource of ['status', 'finalize']) {
    const through = (write: AdmissionWrite): AdmissionWrite => ({ ...write, subresource })
    out.push(
      { name: `namespaces/${subresource} adding the ${IGNORE_LABEL} label`, write: through(update(namespace('shop'), namespace('shop', { [IGNORE_LABEL]: 'true' }))), sent: true },
      { name: `namespaces/${subresource} setting ${MODE_LABEL}=off`, write: through(update(namespace('shop'), namespace('shop', { [MODE_LABEL]: 'off' }))), sent: true },
      { name: `namespaces/${subresource} adding a namespace-wide exemption`, write: through(update(namespace('shop'), namespace('shop', {}, { [EXEMPT_ANNOTATION]: '*' }))), sent: true },
      { name: `namespaces/${subresource} removing ${GATE_INJECT_LABEL}`, write: through(update(namespace('shop', { [GATE_INJECT_LABEL]: 'enabled' }), namespace('shop'))), sent: true },
      { name: `namespaces/${subresource} of kube-system adding ${IGNORE_LABEL} (a system namespace, never judged)`, write: through(update(namespace('kube-system'), namespace('kube-system', { [IGNORE_LABEL]: 'true' }))), sent: false },
    )
  }
  out.push(
    {
      name: "the namespace controller's finalize of a terminating Namespace (drops spec.finalizers, keeps hitless.dev/mode)",
      write: { ...update(deleting(terminating(['kubernetes'])), deleting(terminating([])), namespaceController), subresource: 'finalize' },
      sent: false,
    },
    {
      name: "the namespace controller's status UPDATE of a terminating Namespace (conditions, keeps hitless.dev/mode)",
      write: { ...update(deleting(terminating(['kubernetes'])), deleting({ ...terminating(['kubernetes']), status: { phase: 'Terminating', conditions: [{ type: 'NamespaceContentRemaining', status: 'False' }] } } as KubeObject), namespaceController), subresource: 'status' },
      sent: false,
    },
  )
  return out
}

const owner = (apiVersion: string, kind: string, name: string, controller = true) => ({ apiVersion, kind, name, uid: `uid-${name}`, controller })
const owned = (kind: 'Pod' | 'ReplicaSet', owners: ReturnType<typeof owner>[], namespace = 'shop'): KubeObject => {
  const metadata = { name: `web-${kind.toLowerCase()}`, namespace, labels: { app: 'web' }, ...(owners.length ? { ownerReferences: owners } : {}) }
  const container = { name: 'web', image: 'nginx:1.27' }
  if (kind === 'Pod') return { apiVersion: 'v1', kind, metadata, spec: { containers: [container] } } as KubeObject
  return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } } } } as KubeObject
}

function controllerIdentities(): JudgedWrite[] {
  const byReplicaSet = owned('Pod', [owner('apps/v1', 'ReplicaSet', 'web-5d9')])
  const replicaSetController = account('kube-system', 'replicaset-controller')
  const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } as KubeObject
  return [
    { name: 'a ReplicaSet-owned Pod from Argo CD’s application controller', write: create(byReplicaSet, account('argocd', 'argocd-application-controller')), sent: true },
    { name: 'the same Pod from kube-system:replicaset-controller', write: create(byReplicaSet, replicaSetController), sent: false },
    { name: 'the same Pod from system:kube-controller-manager', write: create(byReplicaSet, { username: 'system:kube-controller-manager', groups: ['system:authenticated'] }), sent: false },
    { name: 'the same Pod UPDATEd by kube-system:replicaset-controller', write: update(byReplicaSet, byReplicaSet, replicaSetController), sent: false },
    { name: 'the same Pod from a person', write: create(byReplicaSet), sent: true },
    { name: 'the same Pod whose ownerReference is not the controller, from replicaset-controller', write: create(owned('Pod', [owner('apps/v1', 'ReplicaSet', 'web-5d9', false)]), replicaSetController), sent: true },
    { name: 'an unowned Pod from kube-system:replicaset-controller', write: create(owned('Pod', []), replicaSetController), sent: true },
    { name: 'a Rollout-owned ReplicaSet from the shipped Rollouts controller account', write: create(owned('ReplicaSet', [owner('argoproj.io/v1alpha1', 'Rollout', 'web')]), account('argo-rollouts', 'argo-rollouts')), sent: false },
    { name: 'a Rollout-owned ReplicaSet from Argo CD', write: create(owned('ReplicaSet', [owner('argoproj.io/v1alpha1', 'Rollout', 'web')]), account('argocd', 'argocd-application-controller')), sent: true },
    { name: 'a Deployment-owned ReplicaSet from replicaset-controller (not its creator)', write: create(owned('ReplicaSet', [owner('apps/v1', 'Deployment', 'web')]), replicaSetController), sent: true },
    { name: 'a Deployment-owned ReplicaSet from deployment-controller', write: create(owned('ReplicaSet', [owner('apps/v1', 'Deployment', 'web')]), account('kube-system', 'deployment-controller')), sent: false },
    { name: 'a mirror Pod from its node’s kubelet (system:node:node-1)', write: create(owned('Pod', [owner('v1', 'Node', 'node-1')]), { username: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] }), sent: false },
    { name: 'a mirror Pod claiming node-1 from another kubelet (system:node:node-2)', write: create(owned('Pod', [owner('v1', 'Node', 'node-1')]), { username: 'system:node:node-2', groups: ['system:nodes', 'system:authenticated'] }), sent: true },
    { name: 'a ReplicaSet-owned Pod in kube-system from a person (a system namespace)', write: create(owned('Pod', [owner('apps/v1', 'ReplicaSet', 'web-5d9')], 'kube-system')), sent: false },
    { name: 'a Pod in a namespace labelled hitless.dev/ignore', write: create(owned('Pod', [], 'skipped')), sent: false },
    { name: 'a Service CREATE from a person', write: create(service), sent: true },
    { name: 'a Service DELETE from a person (object null)', write: { operation: 'DELETE', object: null, oldObject: service, userInfo: alice }, sent: true },
  ]
}

/** Every write, in a stable order. */
export const WRITES: readonly JudgedWrite[] = [...namespaceGate(), ...controllerIdentities()]
