// One admission review from body to answer: decode → check shape → evaluate → decide → encode.
// The HTTP routes and `hitless review` both call this, so they cannot disagree.
import { decide, outcomeOf, type Endpoint } from '../engine/decide.ts'
import { evaluate, objectRef } from '../engine/evaluate.ts'
import type { Policy } from '../engine/policy.ts'
import { shapeError } from '../workloads/shape.ts'
import { decodeReview } from './codec.ts'
import { badRequestReview, decisionReview, type AdmissionReviewOut } from './response.ts'

/** The fields of the one structured log line written per decision. */
export interface DecisionLog {
  endpoint: Endpoint
  uid?: string
  operation?: string
  kind?: string
  namespace?: string
  name?: string
  user?: string
  dryRun?: boolean
  decision: 'allow' | 'deny' | 'patch' | 'warn' | 'bad-request'
  rules?: { rule: string; action: string; container?: string }[]
  skipped?: string
  error?: string
}

export interface HandledReview {
  statusCode: 200 | 400
  body: AdmissionReviewOut | { error: string }
  log: DecisionLog
}

export function handleAdmission(body: unknown, endpoint: Endpoint, policy: Policy): HandledReview {
  const decoded = decodeReview(body)
  if (!decoded.ok) {
    const log: DecisionLog = { endpoint, decision: 'bad-request', error: decoded.reason, ...(decoded.uid ? { uid: decoded.uid } : {}) }
    return decoded.uid
      ? { statusCode: 200, body: badRequestReview(decoded.uid, decoded.reason), log }
      : { statusCode: 400, body: { error: decoded.reason }, log }
  }
  const { request, review } = decoded
  const ref = objectRef(review)
  const context = {
    endpoint,
    uid: request.uid,
    operation: request.operation,
    kind: request.kind.kind,
    name: ref.name,
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    ...(request.userInfo?.username ? { user: request.userInfo.username } : {}),
    dryRun: request.dryRun === true,
  }
  const malformed = shapeError(review)
  if (malformed) {
    return {
      statusCode: 200,
      body: badRequestReview(request.uid, malformed),
      log: { ...context, decision: 'bad-request', error: malformed },
    }
  }
  const evaluation = evaluate(review, policy)
  const decision = decide(evaluation, endpoint)
  const fired = [...decision.denied, ...decision.patched, ...decision.warned]
  return {
    statusCode: 200,
    body: decisionReview(request.uid, decision),
    log: {
      ...context,
      decision: outcomeOf(decision),
      ...(fired.length > 0
        ? { rules: fired.map((f) => ({ rule: f.rule, action: f.action, ...(f.container ? { container: f.container } : {}) })) }
        : {}),
      ...(evaluation.skipped ? { skipped: evaluation.skipped } : {}),
    },
  }
}
