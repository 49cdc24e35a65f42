// Parity of the exported policies with the webhook (test/export/parity.ts) under the shipped config (every request) and four others.
// The JavaScript CEL is slow: a stable sample of the requests here (one in 2); the Go checker
// (test/export-go/checker.test.ts) puts every one of them to the API server's own code.
import t from 'tap'
import { compare } from './parity.ts'
import { SCENARIOS } from './scenarios.ts'

for (const scenario of SCENARIOS.configs) {
  t.test(scenario.name, async (t) => {
    t.ok(compare(t, scenario, scenario.name === 'the shipped config' ? 1 : 2) > 0)
  })
}
