// AdmissionReview out. The HTTP status is 200 whenever there is a uid to answer: a non-200 reply is a
// webhook failure to the API server, and the user would see "failed calling webhook" instead of why.
import type { Decision } from '../engine/decide.ts'
import type { ReviewVersion } from './codec.ts'
import { denyMessage, warningsFor } from './messages.ts'

export interface AdmissionResponse {
  uid: string
  allowed: boolean
  status?: { code: number; message: string; reason?: string }
  warnings?: string[]
  patchType?: 'JSONPatch'
  patch?: string
}

export interface AdmissionReviewOut {
  apiVersion: ReviewVersion
  kind: 'AdmissionReview'
  response: AdmissionResponse
}

/** The answer, in the version the request came in (the API server expects exactly that). */
function wrap(response: AdmissionResponse, apiVersion: ReviewVersion): AdmissionReviewOut {
  return { apiVersion, kind: 'AdmissionReview', response }
}

export function decisionReview(uid: string, decision: Decision, apiVersion: ReviewVersion = 'admission.k8s.io/v1'): AdmissionReviewOut {
  const response: AdmissionResponse = { uid, allowed: decision.allowed }
  if (!decision.allowed) response.status = { code: 403, reason: 'Forbidden', message: denyMessage(decision) }
  const warnings = warningsFor(decision)
  if (warnings.length > 0) response.warnings = warnings
  if (decision.patch.length > 0) {
    response.patchType = 'JSONPatch'
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64')
  }
  return wrap(response, apiVersion)
}

/** A request hitless cannot judge: refused with code 400 and what is wrong. */
export function badRequestReview(uid: string, reason: string, apiVersion: ReviewVersion = 'admission.k8s.io/v1'): AdmissionReviewOut {
  return wrap({ uid, allowed: false, status: { code: 400, reason: 'BadRequest', message: `hitless: bad request: ${reason}` } }, apiVersion)
}
