// Parity of the exported policies with the webhook (test/export/parity.ts) with exemption annotations on the object and its Namespace, under two exemption policies.
// The JavaScript CEL is slow: a stable sample of the requests here (one in 8); the Go checker
// (test/export-go/checker.test.ts) puts every one of them to the API server's own code.
import t from 'tap'
import { compare } from './parity.ts'
import { SCENARIOS } from './scenarios.ts'

for (const scenario of SCENARIOS.exemptions) {
  t.test(scenario.name, async (t) => {
    t.ok(compare(t, scenario, 8) > 0)
  })
}
