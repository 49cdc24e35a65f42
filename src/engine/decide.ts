// Turns findings into a verdict for one endpoint and mode. /mutate fixes what it can and never denies;
// /validate denies deny findings and any mutate finding still present (the mutation did not run).
// In audit mode nothing is denied or patched: the same findings come back as would-deny/would-patch.
import { isExempted, type Evaluation } from './evaluate.ts'
import type { Mode } from './mode.ts'
import type { Finding, PatchOperation } from '../model/types.ts'

export type Endpoint = 'mutate' | 'validate'

export interface Decision {
  mode: Mode
  allowed: boolean
  /** Findings that cause the deny (empty when allowed). */
  denied: Finding[]
  /** Findings the patch fixes. */
  patched: Finding[]
  /** Findings admitted with a warning. */
  warned: Finding[]
  /** Findings an honoured exemption lets through. */
  exempted: Finding[]
  /** Audit mode: what enforce would have denied and patched. */
  wouldDeny: Finding[]
  wouldPatch: Finding[]
  patch: PatchOperation[]
  notices: string[]
}

const fixable = (f: Finding) => f.action === 'mutate' && (f.patch?.length ?? 0) > 0

export function decide(evaluation: Evaluation, endpoint: Endpoint, mode: Mode = 'enforce'): Decision {
  const active = evaluation.findings.filter((f) => !isExempted(f))
  const base = {
    mode,
    warned: active.filter((f) => f.action === 'warn'),
    exempted: evaluation.findings.filter(isExempted),
    notices: evaluation.notices,
    denied: [] as Finding[],
    patched: [] as Finding[],
    wouldDeny: [] as Finding[],
    wouldPatch: [] as Finding[],
    patch: [] as PatchOperation[],
  }
  const toPatch = active.filter(fixable)
  if (endpoint === 'mutate') {
    return mode === 'audit'
      ? { ...base, allowed: true, wouldPatch: toPatch }
      : { ...base, allowed: true, patched: toPatch, patch: evaluation.patch }
  }
  const toDeny = active.filter((f) => f.action === 'deny' || f.action === 'mutate')
  if (mode === 'audit') {
    // Without audit, /mutate would have fixed the fixable ones before /validate saw them.
    return { ...base, allowed: true, wouldDeny: toDeny.filter((f) => !fixable(f)), wouldPatch: toPatch }
  }
  return { ...base, allowed: toDeny.length === 0, denied: toDeny }
}

export type Outcome = 'deny' | 'would-deny' | 'patch' | 'would-patch' | 'warn' | 'allow'
export type FindingOutcome = Exclude<Outcome, 'allow'> | 'exempt'

/** What the webhook pair (mutate, then validate) does with one finding in a mode. */
export function findingOutcome(finding: Finding, mode: Mode): FindingOutcome {
  if (isExempted(finding)) return 'exempt'
  if (finding.action === 'warn') return 'warn'
  const patchable = fixable(finding)
  if (mode === 'audit') return patchable ? 'would-patch' : 'would-deny'
  return patchable ? 'patch' : 'deny'
}

/** The word the decision log uses. */
export function outcomeOf(decision: Decision): Outcome {
  if (!decision.allowed) return 'deny'
  if (decision.wouldDeny.length > 0) return 'would-deny'
  if (decision.patch.length > 0) return 'patch'
  if (decision.wouldPatch.length > 0) return 'would-patch'
  return decision.warned.length > 0 ? 'warn' : 'allow'
}
