// Turns findings into a verdict for one endpoint. /mutate fixes what it can and never denies;
// /validate denies deny findings and any mutate finding still present (the mutation did not run).
import type { Evaluation } from './evaluate.ts'
import type { Finding, PatchOperation } from './types.ts'

export type Endpoint = 'mutate' | 'validate'

export interface Decision {
  allowed: boolean
  /** Findings that cause the deny (empty when allowed). */
  denied: Finding[]
  /** Findings the patch fixes (mutate endpoint only). */
  patched: Finding[]
  /** Findings admitted with a warning. */
  warned: Finding[]
  patch: PatchOperation[]
}

export function decide(evaluation: Evaluation, endpoint: Endpoint): Decision {
  const warned = evaluation.findings.filter((f) => f.action === 'warn')
  if (endpoint === 'mutate') {
    const patched = evaluation.findings.filter((f) => f.action === 'mutate' && f.patch && f.patch.length > 0)
    return { allowed: true, denied: [], patched, warned, patch: evaluation.patch }
  }
  const denied = evaluation.findings.filter((f) => f.action === 'deny' || f.action === 'mutate')
  return { allowed: denied.length === 0, denied, patched: [], warned, patch: [] }
}

/** The word the decision log uses. */
export function outcomeOf(decision: Decision): 'deny' | 'patch' | 'warn' | 'allow' {
  if (!decision.allowed) return 'deny'
  if (decision.patch.length > 0) return 'patch'
  return decision.warned.length > 0 ? 'warn' : 'allow'
}
