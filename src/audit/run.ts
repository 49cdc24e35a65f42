// Audits a set of objects the way the webhook would judge them, with the set itself as the cluster:
// a Service in one file is checked against Deployments in others, by namespace. Exemptions, modes
// (config and Namespace labels in the set) and actions mean what they mean in the webhook.
import { CACHED_KINDS, ingest, OTHER_POD_OWNERS } from '../cluster/ingest.ts'
import { ClusterStore } from '../cluster/store.ts'
import type { Config } from '../config/load.ts'
import { apiGroupOf } from '../model/api-group.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { findingOutcome, type FindingOutcome } from '../engine/decide.ts'
import { judge } from '../engine/judge.ts'
import { buildPolicy } from '../engine/policy.ts'
import type { Finding, KubeObject, ReviewInput } from '../model/types.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { shapeError } from '../workloads/shape.ts'
import { expiredExemptionNotice } from '../exemptions/expiry.ts'
import type { InputError, Manifest } from './manifests.ts'

/** deny: the webhook would refuse it; warn: it would admit it with a warning or a fix; exempt: allowed by an exemption. */
export type Level = 'deny' | 'warn' | 'exempt'

export interface AuditFinding extends Finding {
  outcome: FindingOutcome
  level: Level
  manifest: Manifest
}

export interface AuditResult {
  findings: AuditFinding[]
  /** Every audited manifest, with default namespaces filled in (findings point at these). */
  manifests: Manifest[]
  objects: number
  errors: InputError[]
  notices: { manifest: Manifest; notice: string }[]
}

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'IngressClass', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])

/** The object with the default namespace filled in where a namespaced object has none. */
function placed(object: KubeObject, defaultNamespace: string): KubeObject {
  if (CLUSTER_SCOPED.has(object.kind ?? '') || object.metadata?.namespace) return object
  return { ...object, metadata: { ...object.metadata, namespace: defaultNamespace } }
}

/**
 * A kind from an API group outside Kubernetes' own (`apps`, `batch`, `*.k8s.io`, the core group) that
 * hitless does not know as a pod template owner: an operator may turn it into pods.
 */
function isCustomResource(object: KubeObject): boolean {
  const group = apiGroupOf(object)
  if (!group.includes('.') || group.endsWith('.k8s.io') || OTHER_POD_OWNERS[object.kind ?? ''] === group || isKnownNonPodMaker(object.kind ?? '', group)) return false
  return true
}

/** A kind hitless reads and knows makes no pods (a ServiceMonitor): never an unknown pod maker. */
const isKnownNonPodMaker = (kind: string, group: string) => CACHED_KINDS[kind] === group && !(POD_TEMPLATE_KINDS as readonly string[]).includes(kind)

/** Workload API versions that current API servers no longer serve (and since which version). */
const REMOVED_VERSIONS: Record<string, string> = {
  'extensions/v1beta1 Deployment': '1.16',
  'extensions/v1beta1 DaemonSet': '1.16',
  'extensions/v1beta1 ReplicaSet': '1.16',
  'apps/v1beta1 Deployment': '1.16',
  'apps/v1beta1 StatefulSet': '1.16',
  'apps/v1beta2 Deployment': '1.16',
  'apps/v1beta2 StatefulSet': '1.16',
  'apps/v1beta2 DaemonSet': '1.16',
  'apps/v1beta2 ReplicaSet': '1.16',
}

export function levelOf(outcome: FindingOutcome): Level {
  return outcome === 'deny' ? 'deny' : outcome === 'exempt' ? 'exempt' : 'warn'
}

export interface AuditOptions {
  defaultNamespace: string
  /** The objects are a live cluster's (audit --cluster, the report scan): they hold every pod maker. */
  liveSet?: boolean
  now?: Date
  /** The live cluster's version, when auditing one (pre-stop's auto style follows it). */
  clusterVersion?: KubernetesVersion
}

export function auditManifests(manifests: Manifest[], config: Config, options: AuditOptions): AuditResult {
  const placedManifests = manifests.map((m) => ({ ...m, object: placed(m.object, options.defaultNamespace) }))
  const store = new ClusterStore({ offline: !options.liveSet })
  for (const { object } of placedManifests) {
    ingest(store, object.kind!, object)
    if (isCustomResource(object) && object.metadata?.namespace) store.noteCustomResource(object.metadata.namespace, object.kind!, object.metadata.name ?? '')
  }
  const policy = buildPolicy(config, { cluster: store, ...(options.clusterVersion ? { clusterVersion: options.clusterVersion, liveCluster: true } : {}) })
  const environment = { now: () => options.now ?? new Date(), namespaces: store }
  const result: AuditResult = { findings: [], manifests: placedManifests, objects: placedManifests.length, errors: [], notices: [] }
  const now = environment.now()
  for (const manifest of placedManifests) {
    const { object } = manifest
    // Every object (Namespaces too), whether or not a rule fires: an expired exemption still exempts in
    // the API server's own policies, and an audit is where that is seen.
    const expired = expiredExemptionNotice(object.metadata?.annotations, now)
    if (expired) result.notices.push({ manifest, notice: `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name ?? ''}: ${expired}` })
    const review: ReviewInput = {
      operation: 'CREATE',
      kind: object.kind!,
      group: apiGroupOf(object),
      object,
      oldObject: null,
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
      ...(object.metadata?.name ? { name: object.metadata.name } : {}),
      audit: true,
    }
    const malformed = shapeError(review)
    if (malformed) {
      result.errors.push({ file: manifest.file, line: manifest.line, message: `${object.kind} ${object.metadata?.name ?? ''}: ${malformed}` })
      continue
    }
    const { mode, evaluation } = judge(review, policy, environment)
    for (const notice of evaluation.notices) result.notices.push({ manifest, notice })
    const removed = REMOVED_VERSIONS[`${object.apiVersion} ${object.kind}`]
    if (removed) result.notices.push({ manifest, notice: `${object.apiVersion} ${object.kind} was removed in Kubernetes ${removed}: judged as apps/v1, but no current API server accepts it` })
    for (const finding of evaluation.findings) {
      const outcome = findingOutcome(finding, mode === 'off' ? 'enforce' : mode)
      result.findings.push({ ...finding, outcome, level: levelOf(outcome), manifest })
    }
  }
  return result
}
