// Every rule hitless knows, in evaluation order: a rule sees the fixes of the rules before it
// (termination-grace-period must come after pre-stop, whose sleep it has to cover).
import { readinessProbe } from './readiness-probe.ts'
import { preStop } from './pre-stop.ts'
import { terminationGracePeriod } from './termination-grace-period.ts'
import { serviceSelector } from './service-selector.ts'
import { serviceTargetPort } from './service-target-port.ts'
import { probePortRule } from './probe-port.ts'
import { livenessProbe } from './liveness-probe.ts'
import { pdbSelectsNothing } from './pdb-selects-nothing.ts'
import { pdbBlocksDrain } from './pdb-blocks-drain.ts'
import { pdbMissing } from './pdb-missing.ts'
import { rolloutCapacity } from './rollout-capacity.ts'
import { ingressBackend } from './ingress-backend.ts'
import { routeBackend } from './route-backend.ts'
import { requestsFitNodes } from './requests-fit-nodes.ts'
import { lbReadinessGate } from './lb-readiness-gate.ts'
import { lbDeregistration } from './lb-deregistration.ts'
import { replicasSpread } from './replicas-spread.ts'
import type { RegisteredRule } from './rule.ts'

export const RULES: readonly RegisteredRule[] = [readinessProbe, preStop, terminationGracePeriod, serviceSelector, serviceTargetPort, probePortRule, livenessProbe, pdbSelectsNothing, pdbBlocksDrain, pdbMissing, rolloutCapacity, ingressBackend, routeBackend, requestsFitNodes, lbReadinessGate, lbDeregistration, replicasSpread]

export function ruleById(id: string): RegisteredRule | undefined {
  return RULES.find((rule) => rule.id === id)
}
