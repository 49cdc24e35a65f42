// The plain values that flow through hitless. Everything downstream of a Finding
// (deny text, warnings, log lines, CLI reports) is a view of it.
import type { Operation as PatchOperation } from 'fast-json-patch'

export type { PatchOperation }

export const ACTIONS = ['deny', 'warn', 'mutate', 'off'] as const
export type Action = (typeof ACTIONS)[number]

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'

/** A Kubernetes object as JSON; only the fields hitless reads are typed. */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  spec?: Record<string, unknown>
  [field: string]: unknown
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[]
  deletionTimestamp?: string
  resourceVersion?: string
}

export interface ObjectRef {
  kind: string
  namespace?: string
  name: string
}

/** What a rule reports: one problem with one object (and usually one container). */
export interface RuleFinding {
  container?: string
  message: string
  /** A short YAML snippet that shows the fix. */
  fix: string
  /** JSON Patch that fixes it, for rules that can mutate. Paths are relative to the object root. */
  patch?: PatchOperation[]
  /** One line for the warning that tells what a patch changed. */
  patchSummary?: string
  /** Report as a warning even when the rule's action is deny (e.g. a Service created before its pods). */
  atMostWarn?: boolean
  /** The rule could not judge (cluster state unusable): never a violation the old object "already had". */
  indeterminate?: boolean
  /** Why the rule applies here, when that is not obvious: `serving: Service shop/web targets its port http`. */
  because?: string
}

/** A RuleFinding placed in context: which rule, which object, what the policy says to do. */
export interface Finding extends RuleFinding {
  rule: string
  action: Exclude<Action, 'off'>
  object: ObjectRef
  /** The verdict on an exemption annotation that covers this finding, if one does. */
  exemption?: ExemptionVerdict
}

/** One thing to judge: an admission request, or a manifest read by the CLI. */
export interface ReviewInput {
  operation: AdmissionOperation
  /** The object's kind as the API server names it (request.kind.kind). */
  kind: string
  group: string
  object: KubeObject | null
  oldObject: KubeObject | null
  namespace?: string
  name?: string
  subResource?: string
  /** Who sent the request (admission only). */
  userInfo?: UserInfo
  dryRun?: boolean
  /** An offline audit: the object is judged as part of the state the manifests describe, not as a change. */
  audit?: boolean
}

/** major.minor of an API server. */
export interface KubernetesVersion {
  major: number
  minor: number
}

/** How hitless acts, globally (config) or per Namespace (label). */
export type Mode = 'enforce' | 'audit'

/** Who sent an admission request (the API server's userInfo). */
export interface UserInfo {
  username?: string
  groups?: string[]
}

/** A controller the config trusts to create what custom resources own: one service account, or every one of a namespace. */
export interface TrustedController {
  namespace: string
  serviceAccount?: string
}

/** Where an exemption annotation was written. */
export type ExemptionSource = 'object' | 'namespace'

/** Whether an exemption covers a finding, and if not, why (src/exemptions/). */
export type ExemptionVerdict =
  | { honoured: true; source: ExemptionSource; reason?: string; until?: string }
  | { honoured: false; source: ExemptionSource; why: string }
