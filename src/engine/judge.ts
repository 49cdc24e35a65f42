// Everything about one review that does not depend on the endpoint: its Namespace, its mode, and the
// rules' findings with exemptions resolved. The webhook and the CLI both start here.
import { evaluate, type Evaluation } from './evaluate.ts'
import { effectiveMode, MODE_LABEL, type NamespaceMode } from './mode.ts'
import { NO_NAMESPACES, type NamespaceDirectory } from '../model/namespaces.ts'
import type { Policy } from './policy.ts'
import type { ReviewInput } from '../model/types.ts'

export interface ReviewEnvironment {
  now(): Date
  namespaces: NamespaceDirectory
}

export const STANDALONE: ReviewEnvironment = { now: () => new Date(), namespaces: NO_NAMESPACES }

export interface Judgement {
  mode: NamespaceMode
  evaluation: Evaluation
}

export function judge(review: ReviewInput, policy: Policy, environment: ReviewEnvironment = STANDALONE): Judgement {
  const namespaceName = review.namespace ?? review.object?.metadata?.namespace
  const namespace = namespaceName ? environment.namespaces.get(namespaceName) : undefined
  const { mode, notice } = effectiveMode(policy.mode, namespace)
  if (mode === 'off') {
    return { mode, evaluation: { findings: [], patch: [], notices: [], skipped: `namespace ${namespaceName} has ${MODE_LABEL}=off` } }
  }
  const evaluation = evaluate(review, policy, { now: environment.now(), ...(namespace ? { namespace } : {}) })
  return { mode, evaluation: notice ? { ...evaluation, notices: [...evaluation.notices, notice] } : evaluation }
}
