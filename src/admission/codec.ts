// AdmissionReview in: checks the envelope against admission.k8s.io/v1 and turns the request into the
// ReviewInput the engine judges. Anything wrong is named, with the uid when one could be read, so the
// answer can still be an AdmissionReview the API server shows the user.
import { Ajv } from 'ajv'
import type { AdmissionOperation, KubeObject, ReviewInput } from '../model/types.ts'

export interface AdmissionRequest {
  uid: string
  kind: { group: string; version: string; kind: string }
  resource?: { group: string; version: string; resource: string }
  subResource?: string
  name?: string
  namespace?: string
  operation: AdmissionOperation
  userInfo?: { username?: string; groups?: string[] }
  object?: KubeObject | null
  oldObject?: KubeObject | null
  dryRun?: boolean
}

/** The versions hitless answers, each in its own version: v1beta1 has the same request and response. */
export const REVIEW_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const
export type ReviewVersion = (typeof REVIEW_VERSIONS)[number]

export type Decoded =
  | { ok: true; request: AdmissionRequest; review: ReviewInput; apiVersion: ReviewVersion }
  | { ok: false; uid?: string; reason: string; apiVersion?: ReviewVersion }
const str = { type: 'string' }
const groupVersionKind = { type: 'object', required: ['version', 'kind'], properties: { group: str, version: str, kind: str } }
const validateRequest = new Ajv({ allErrors: false, strict: false }).compile<AdmissionRequest>({
  type: 'object',
  required: ['uid', 'kind', 'operation'],
  properties: {
    uid: { type: 'string', minLength: 1 },
    kind: groupVersionKind,
    resource: { type: 'object', properties: { group: str, version: str, resource: str } },
    subResource: str,
    name: str,
    namespace: str,
    operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
    userInfo: { type: 'object', properties: { username: str, groups: { type: 'array', items: str } } },
    object: { type: ['object', 'null'] },
    oldObject: { type: ['object', 'null'] },
    dryRun: { type: ['boolean', 'null'] },
  },
})

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function decodeReview(body: unknown): Decoded {
  if (!isRecord(body)) return { ok: false, reason: 'body is not an AdmissionReview: expected a JSON object' }
  const request = body['request']
  const rawUid = isRecord(request) ? request['uid'] : undefined
  const uid = typeof rawUid === 'string' && rawUid.length > 0 ? rawUid : undefined
  const fail = (reason: string): Decoded => ({ ok: false, ...(uid ? { uid } : {}), reason })

  if (body['kind'] !== 'AdmissionReview') return fail(`kind must be AdmissionReview, got ${JSON.stringify(body['kind'] ?? null)}`)
  const apiVersion = REVIEW_VERSIONS.find((version) => version === body['apiVersion'])
  if (!apiVersion) {
    return fail(
      `unsupported apiVersion ${JSON.stringify(body['apiVersion'] ?? null)}: hitless speaks ${REVIEW_VERSIONS.join(' and ')} ` +
        '(set admissionReviewVersions: ["v1"] in the webhook configuration)',
    )
  }
  const failIn = (reason: string): Decoded => ({ ...(fail(reason) as Extract<Decoded, { ok: false }>), apiVersion })
  if (!isRecord(request)) return failIn('request is missing')
  if (!uid) return failIn('request.uid is missing')
  if (!validateRequest(request)) {
    const error = validateRequest.errors![0]!
    return failIn(`request${error.instancePath.replaceAll('/', '.')} ${error.message ?? 'is invalid'}`)
  }
  const review: ReviewInput = {
    operation: request.operation,
    kind: request.kind.kind,
    group: request.kind.group ?? '',
    object: request.object ?? null,
    oldObject: request.oldObject ?? null,
    ...(request.namespace ? { namespace: request.namespace } : {}),
    ...(request.name ? { name: request.name } : {}),
    ...(request.subResource ? { subResource: request.subResource } : {}),
    ...(request.userInfo ? { userInfo: request.userInfo } : {}),
    dryRun: request.dryRun === true,
  }
  return { ok: true, request, review, apiVersion }
}
