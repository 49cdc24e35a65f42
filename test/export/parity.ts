// Parity, the JavaScript side (the Go checker, test/export-go, is the authority and puts every request):
// the exported admission policies, evaluated with a JavaScript CEL (@marcbachmann/cel-js; see
// test/helpers/admission-policy.ts), give a request the verdict the webhook gives it: per rule the same
// outcome (deny, warn, audit-mode warning, or nothing), the same findings (container, message, why it is
// serving, the fix as `hitless audit` prints it), and with --mutating the same object the /mutate patch
// makes, in either order of the two mutating policies.
//
// The webhook is run without cluster state: the policies cannot see Services (divergences.test.ts holds
// the fixtures where that makes a difference), and its clock stands still at NOW with exemptions that
// have not expired (the policies have no clock).
import type { Test } from 'tap'
import { exportPolicies } from '../../src/export/policies.ts'
import { FIXING_ORDERS, requestsOf, VERSION, type Scenario } from './scenarios.ts'
import { mutated, policies, webhook } from './verdicts.ts'

/** A stable pick of one request in `every` (by name), so each file stays well under tap's timeout. */
function picked(name: string, every: number): boolean {
  let hash = 2166136261
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619)
  return (hash >>> 0) % every === 0
}

/** Checks the requests of `scenario` (one in `every`); returns how many were compared. */
export function compare(t: Test, scenario: Scenario, every = 1): number {
  const { documents } = exportPolicies(scenario.config, { kubernetesVersion: VERSION, mutating: true })
  let compared = 0
  for (const { name, request } of requestsOf(scenario)) {
    if (!picked(name, every)) continue
    const expected = webhook(scenario.config, request, VERSION)
    t.same(policies(documents, request), expected.verdicts, `${name}: verdicts`)
    for (const order of FIXING_ORDERS) {
      const { object } = mutated(documents, request, order)
      t.same(object, expected.patched, `${name}: mutated (${order.join(', ')})`)
      // Reinvoked, the policies find nothing more to do.
      t.equal(mutated(documents, { ...request, object }, order).patches, 0, `${name}: nothing more to patch`)
    }
    compared++
  }
  return compared
}
