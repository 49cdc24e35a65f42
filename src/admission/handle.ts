// One admission review from body to answer: decode → check shape → judge → decide → encode.
// The HTTP routes and `hitless review` both call this, so they cannot disagree.
import { decide, outcomeOf, type Decision, type Endpoint, type Outcome } from '../engine/decide.ts'
import { objectRef } from '../engine/evaluate.ts'
import { judge, STANDALONE, type ReviewEnvironment } from '../engine/judge.ts'
import type { Policy } from '../engine/policy.ts'
import type { Finding } from '../model/types.ts'
import { shapeError } from '../workloads/shape.ts'
import { decodeReview } from './codec.ts'
import { badRequestReview, decisionReview, type AdmissionReviewOut } from './response.ts'

interface FiredRule {
  rule: string
  action: string
  outcome: Outcome | 'exempt'
  container?: string
}

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
  mode?: string
  decision: Outcome | 'bad-request'
  rules?: FiredRule[]
  exempted?: { rule: string; container?: string; reason?: string; until?: string; source: string }[]
  notices?: string[]
  skipped?: string
  error?: string
}

export interface HandledReview {
  statusCode: 200 | 400
  body: AdmissionReviewOut | { error: string }
  log: DecisionLog
  /** The decision, when the review was judged (metrics count from it). */
  decision?: Decision
}

function fired(decision: Decision): FiredRule[] {
  const entry = (outcome: FiredRule['outcome']) => (f: Finding): FiredRule => ({
    rule: f.rule,
    action: f.action,
    outcome,
    ...(f.container ? { container: f.container } : {}),
  })
  return [
    ...decision.denied.map(entry('deny')),
    ...decision.wouldDeny.map(entry('would-deny')),
    ...decision.patched.map(entry('patch')),
    ...decision.wouldPatch.map(entry('would-patch')),
    ...decision.warned.map(entry('warn')),
    ...decision.exempted.map(entry('exempt')),
  ]
}

function decisionFields(decision: Decision): Partial<DecisionLog> {
  const rules = fired(decision)
  const exempted = decision.exempted.map((f) => ({
    rule: f.rule,
    ...(f.container ? { container: f.container } : {}),
    ...(f.exemption?.honoured ? { reason: f.exemption.reason, until: f.exemption.until, source: f.exemption.source } : { source: 'object' }),
  }))
  return {
    ...(rules.length > 0 ? { rules } : {}),
    ...(exempted.length > 0 ? { exempted } : {}),
    ...(decision.notices.length > 0 ? { notices: decision.notices } : {}),
  }
}

export function handleAdmission(body: unknown, endpoint: Endpoint, policy: Policy, environment: ReviewEnvironment = STANDALONE): HandledReview {
  const decoded = decodeReview(body)
  if (!decoded.ok) {
    const log: DecisionLog = { endpoint, decision: 'bad-request', error: decoded.reason, ...(decoded.uid ? { uid: decoded.uid } : {}) }
    return decoded.uid
      ? { statusCode: 200, body: badRequestReview(decoded.uid, decoded.reason, decoded.apiVersion), log }
      : { statusCode: 400, body: { error: decoded.reason }, log }
  }
  const { request, review, apiVersion } = decoded
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
    return { statusCode: 200, body: badRequestReview(request.uid, malformed, apiVersion), log: { ...context, decision: 'bad-request', error: malformed } }
  }
  const { mode, evaluation } = judge(review, policy, environment)
  const decision = decide(evaluation, endpoint, mode === 'off' ? policy.mode : mode)
  return {
    statusCode: 200,
    body: decisionReview(request.uid, decision, apiVersion),
    decision,
    log: {
      ...context,
      mode,
      decision: outcomeOf(decision),
      ...decisionFields(decision),
      ...(evaluation.skipped ? { skipped: evaluation.skipped } : {}),
    },
  }
}
