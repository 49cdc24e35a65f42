// Parity of the exported policies with the webhook (test/export/parity.ts) in namespaces of each mode label and the ignore label.
// The JavaScript CEL is slow: a stable sample of the requests here (one in 2); the Go checker
// (test/export-go/checker.test.ts) puts every one of them to the API server's own code.
import t from 'tap'
import { compare } from './parity.ts'
import { SCENARIOS } from './scenarios.ts'

for (const scenario of SCENARIOS.namespaces) {
  t.test(scenario.name, async (t) => {
    t.ok(compare(t, scenario, 2) > 0)
  })
}
