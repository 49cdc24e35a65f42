import t from 'tap'
import { evaluate } from '../../src/engine/evaluate.ts'
import { preStopHandler, supportsNativeSleep } from '../../src/rules/pre-stop.ts'
import { loadYaml, policyFrom, reviewOf } from '../helpers/objects.ts'

const onlyPreStop = 'rules: {readiness-probe: {action: off}, termination-grace-period: {action: off}}\n'

t.test('native sleep from Kubernetes 1.30', async (t) => {
  t.notOk(supportsNativeSleep({ major: 1, minor: 29 }))
  t.ok(supportsNativeSleep({ major: 1, minor: 30 }))
  t.ok(supportsNativeSleep({ major: 2, minor: 0 }))
})

t.test('style picks the handler', async (t) => {
  const sleep = { sleep: { seconds: 5 } }
  const exec = { exec: { command: ['sleep', '5'] } }
  t.same(preStopHandler({ sleepSeconds: 5, style: 'auto' }), sleep, 'auto without a cluster version: native sleep')
  t.same(preStopHandler({ sleepSeconds: 5, style: 'auto' }, { major: 1, minor: 31 }), sleep)
  t.same(preStopHandler({ sleepSeconds: 5, style: 'auto' }, { major: 1, minor: 28 }), exec, 'auto never sends sleep to < 1.30')
  t.same(preStopHandler({ sleepSeconds: 5, style: 'exec' }, { major: 1, minor: 31 }), exec)
  t.same(preStopHandler({ sleepSeconds: 5, style: 'sleep' }, { major: 1, minor: 28 }), sleep, 'an explicit style is obeyed')
})

t.test('adds the whole lifecycle when there is none', async (t) => {
  const object = loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml')
  const { patch, findings } = evaluate(reviewOf(object), policyFrom(onlyPreStop))
  t.same(patch, [{ op: 'add', path: '/spec/template/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 5 } } } }])
  t.equal(findings[0]!.message, 'container "web" has no preStop hook')
  t.match(findings[0]!.fix, /containers:\n\s+- name: web\n\s+lifecycle:\n\s+preStop:\n\s+sleep:\n\s+seconds: 5/)
  t.equal(findings[0]!.patchSummary, 'added a 5s preStop sleep to container "web"')
})

t.test('adds only preStop beside an existing postStart', async (t) => {
  const object = loadYaml('pre-stop/fires-lifecycle-with-only-poststart.yaml')
  const { patch } = evaluate(reviewOf(object), policyFrom(onlyPreStop))
  t.same(patch, [{ op: 'add', path: '/spec/template/spec/containers/0/lifecycle/preStop', value: { sleep: { seconds: 5 } } }])
})

t.test('honours sleepSeconds and exec style; patches sidecars under initContainers', async (t) => {
  const object = loadYaml('pre-stop/fires-second-container-and-sidecar.yaml')
  const config = 'rules: {readiness-probe: {action: off}, termination-grace-period: {action: off}, pre-stop: {sleepSeconds: 12, style: exec}}'
  const { patch } = evaluate(reviewOf(object), policyFrom(config))
  const handler = { preStop: { exec: { command: ['sleep', '12'] } } }
  t.same(patch, [
    { op: 'add', path: '/spec/template/spec/containers/1/lifecycle', value: handler },
    { op: 'add', path: '/spec/template/spec/initContainers/0/lifecycle', value: handler },
  ])
})

t.test('a bare Pod is patched at /spec, and only on CREATE', async (t) => {
  const object = loadYaml('pre-stop/fires-bare-pod.yaml')
  t.equal(evaluate(reviewOf(object), policyFrom(onlyPreStop)).patch[0]!.path, '/spec/containers/0/lifecycle')
  const update = evaluate(reviewOf(object, { operation: 'UPDATE', oldObject: object }), policyFrom(onlyPreStop))
  t.same(update.findings, [], 'pod specs are immutable: an UPDATE is never judged')
})

t.test('a custom ignore list replaces the default one', async (t) => {
  const object = loadYaml('pre-stop/passes-linkerd-proxy.yaml')
  const { findings } = evaluate(reviewOf(object), policyFrom(onlyPreStop + 'servingContainers: {ignore: []}'))
  t.same(findings.map((f) => f.container), ['linkerd-proxy'])
})
