import t from 'tap'
import { evaluate } from '../../src/engine/evaluate.ts'
import { loadYaml, onlyRule, reviewOf } from '../helpers/objects.ts'

t.test('a deny names the container and shows a probe on its own port', async (t) => {
  const { findings } = evaluate(reviewOf(loadYaml('readiness-probe/fires-statefulset-two-serving-containers.yaml')), onlyRule('readiness-probe'))
  t.equal(findings[0]!.message, 'container "db" has no readinessProbe')
  t.match(findings[0]!.fix, /- name: db\n\s+readinessProbe:\n\s+httpGet:\n\s+path: \/ready\n\s+port: pg/, 'named port preferred')
  t.match(findings[1]!.fix, /port: 8080/)
  t.same(findings.map((f) => f.object), [
    { kind: 'StatefulSet', namespace: 'data', name: 'db' },
    { kind: 'StatefulSet', namespace: 'data', name: 'db' },
  ])
})

t.test('never patches, whatever the action', async (t) => {
  const result = evaluate(reviewOf(loadYaml('readiness-probe/fires-deployment-no-probe.yaml')), onlyRule('readiness-probe', 'warn'))
  t.equal(result.findings[0]!.action, 'warn')
  t.same(result.patch, [])
  t.equal(result.findings[0]!.patch, undefined)
})

t.test('a native sidecar is found under initContainers', async (t) => {
  const { findings } = evaluate(reviewOf(loadYaml('readiness-probe/fires-native-sidecar-with-port.yaml')), onlyRule('readiness-probe'))
  t.match(findings[0]!.fix, /initContainers:\n\s+- name: auth-proxy/)
})
