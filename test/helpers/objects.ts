// Builders for what tests feed hitless: ReviewInputs, AdmissionReview bodies, fixture files, policies.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { parseConfig, type Config } from '../../src/config/load.ts'
import { storeFrom } from '../../src/cluster/ingest.ts'
import { ClusterStore } from '../../src/cluster/store.ts'
import { apiGroupOf } from '../../src/model/api-group.ts'
import { buildPolicy, type Policy } from '../../src/engine/policy.ts'
import type { AdmissionOperation, KubeObject, PatchOperation, ReviewInput } from '../../src/model/types.ts'
import type { KubernetesVersion } from '../../src/model/types.ts'

export const FIXTURES = new URL('../fixtures/', import.meta.url)

export interface ReviewOptions {
  operation?: AdmissionOperation
  oldObject?: KubeObject | null
  subResource?: string
}

/** A review of `object` (null for a DELETE, whose subject is options.oldObject). */
export function reviewOf(object: KubeObject | null, options: ReviewOptions = {}): ReviewInput {
  const subject = (object ?? options.oldObject)!
  return {
    operation: options.operation ?? 'CREATE',
    kind: subject.kind!,
    group: apiGroupOf(subject),
    object,
    oldObject: options.oldObject ?? null,
    ...(subject.metadata?.namespace ? { namespace: subject.metadata.namespace } : {}),
    ...(subject.metadata?.name ? { name: subject.metadata.name } : {}),
    ...(options.subResource ? { subResource: options.subResource } : {}),
  }
}

/** An admission.k8s.io/v1 AdmissionReview as the API server sends it. */
export function admissionReview(object: KubeObject | null, options: ReviewOptions & { uid?: string; dryRun?: boolean; user?: { username: string; groups: string[] } } = {}) {
  const subject = object ?? options.oldObject!
  const [group, version] = subject.apiVersion?.includes('/') ? subject.apiVersion.split('/') : ['', subject.apiVersion ?? 'v1']
  const kind = { group, version, kind: subject.kind }
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? randomUUID(),
      kind,
      resource: { group, version, resource: `${subject.kind!.toLowerCase()}s` },
      requestKind: kind,
      ...(options.subResource ? { subResource: options.subResource } : {}),
      name: subject.metadata?.name,
      namespace: subject.metadata?.namespace,
      operation: options.operation ?? 'CREATE',
      userInfo: options.user ?? { username: 'alice', groups: ['system:authenticated'] },
      object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
    },
  }
}

export interface Fixture {
  name: string
  review: ReviewInput
  /** Objects standing for the rest of the cluster (structured fixtures only). */
  cluster?: KubeObject[]
  /** From a `# containers: a, b` header; `-` means a finding with no container. */
  containers?: (string | undefined)[]
  /** From a `# actions: warn, deny` header. */
  actions?: string[]
}

const headerList = (text: string, name: string) =>
  new RegExp(`^# ${name}: (.*)$`, 'm').exec(text)?.[1]?.split(',').map((c) => c.trim())

/**
 * A fixture is either one object (reviewed as a CREATE with no cluster) or a structured document:
 * `review: {operation, object, oldObject}` and `cluster: [objects]` for rules that read the cluster.
 */
export function loadFixture(url: URL): Fixture {
  const text = readFileSync(url, 'utf8')
  const document = parse(text) as KubeObject & { review?: { operation?: AdmissionOperation; object: KubeObject | null; oldObject?: KubeObject }; cluster?: KubeObject[] }
  const containers = headerList(text, 'containers')
  const actions = headerList(text, 'actions')
  const review = document.review
    ? reviewOf(document.review.object, { operation: document.review.operation ?? 'CREATE', oldObject: document.review.oldObject ?? null })
    : reviewOf(document)
  return {
    name: url.pathname.split('/').pop()!,
    review,
    ...(document.cluster ? { cluster: document.cluster } : {}),
    ...(containers ? { containers: containers.map((c) => (c === '-' ? undefined : c)) } : {}),
    ...(actions ? { actions } : {}),
  }
}

export function loadYaml(relative: string): KubeObject {
  return parse(readFileSync(new URL(relative, FIXTURES), 'utf8')) as KubeObject
}

/** The shipped config with `yaml` merged over it, as a policy. */
/** The approval key of test policies (one for every policy, as every replica shares one). */
export const TEST_APPROVAL_KEY = new Uint8Array(32).fill(7)

export function policyFrom(yaml = '', clusterVersion?: KubernetesVersion): Policy {
  return buildPolicy(configFrom(yaml), clusterVersion ? { clusterVersion } : {}, TEST_APPROVAL_KEY)
}

export function configFrom(yaml = ''): Config {
  return parseConfig(yaml, 'test config')
}

/** A policy that runs only `ruleId`, at `action` (its default action when omitted), seeing `cluster`. */
export function onlyRule(ruleId: string, action?: string, cluster?: KubeObject[]): Policy {
  const config = configFrom()
  for (const [id, rule] of Object.entries(config.rules)) {
    if (id !== ruleId) rule.action = 'off'
    else if (action) rule.action = action as never
  }
  return buildPolicy(config, cluster ? { cluster: storeFrom(cluster) } : {})
}

export function decodePatch(base64: string | undefined): PatchOperation[] {
  return base64 ? (JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as PatchOperation[]) : []
}

/** An empty cluster view that reports itself unusable for `reason` (a cache not synced, a broken watch). */
export function unusableView(reason: string): ClusterStore {
  return Object.assign(new ClusterStore(), { unavailable: () => reason })
}
