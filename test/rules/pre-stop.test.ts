import fastJsonPatch from 'fast-json-patch'
import t from 'tap'
import { buildPolicy } from '../../src/engine/policy.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { injectedBesideOwner, preStopHandler, supportsNativeSleep } from '../../src/rules/pre-stop.ts'
import { lifecycleErrors } from '../helpers/api-validation.ts'
import { configFrom, loadYaml, policyFrom, reviewOf } from '../helpers/objects.ts'

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

t.test('the injected handler gives way to the owner’s: which handler types are taken out', async (t) => {
  const sleep = { sleep: { seconds: 5 } }
  const exec = { exec: { command: ['sleep', '5'] } }
  t.same(injectedBesideOwner({ ...sleep, exec: { command: ['/bin/drain'] } }, sleep), ['sleep'], 'native sleep beside an owner exec')
  t.same(injectedBesideOwner({ exec: { command: ['sleep', '8'] }, httpGet: { path: '/drain', port: 80 } }, exec), ['exec'], 'exec sleep (another length) beside an owner httpGet')
  t.same(injectedBesideOwner({ sleep: { seconds: 3 }, tcpSocket: { port: 80 } }, exec), ['sleep'], 'whatever style is injected now')
  t.same(injectedBesideOwner({ ...sleep, ...exec }, sleep), ['sleep'], 'two sleeps: the one of the style injected now goes')
  t.same(injectedBesideOwner({ ...sleep, ...exec }, exec), ['exec'])
  t.same(injectedBesideOwner(sleep, sleep), [], 'one handler: nothing to do')
  t.same(injectedBesideOwner({ exec: { command: ['sh', '-c', 'sleep 5'] }, httpGet: { port: 80 } }, sleep), [], 'two owner hooks: not hitless’s to choose')
})

// kubectl apply (client- or server-side), Helm 3 and Argo CD keep fields the manifest does not name:
// the stored preStop is the live one with the manifest's handler added beside it.
const applied = (live: KubeObject, manifestHook: Record<string, unknown>): KubeObject => {
  const next = structuredClone(live) as any
  const container = next.spec.template.spec.containers[0]
  container.lifecycle = { ...container.lifecycle, preStop: { ...container.lifecycle?.preStop, ...manifestHook } }
  return next
}
const mutate = (object: KubeObject, version: { major: number; minor: number }, oldObject?: KubeObject) => {
  const policy = buildPolicy(configFrom(onlyPreStop), { clusterVersion: version, liveCluster: true })
  const review = reviewOf(object, oldObject ? { operation: 'UPDATE', oldObject } : {})
  const { patch, findings } = evaluate(review, policy)
  return { findings, stored: fastJsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument }
}

for (const [version, injected] of [
  [{ major: 1, minor: 20 }, { exec: { command: ['sleep', '5'] } }],
  [{ major: 1, minor: 31 }, { sleep: { seconds: 5 } }],
] as const) {
  t.test(`v${version.major}.${version.minor}: an owner hook added after the injection is the one stored, and the API server accepts it`, async (t) => {
    const first = mutate(loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml'), version)
    const spec = (o: KubeObject) => (o.spec as any).template.spec
    t.same(spec(first.stored).containers[0].lifecycle.preStop, injected, 'injected in the style this version takes')
    t.same(lifecycleErrors(spec(first.stored), version), [])
    for (const hook of [{ httpGet: { path: '/drain', port: 80 } }, { exec: { command: ['/bin/drain'] } }, { tcpSocket: { port: 80 } }]) {
      const merged = applied(first.stored, hook)
      const kind = Object.keys(hook)[0]!
      const { stored, findings } = mutate(merged, version, first.stored)
      if (Object.keys(spec(merged).containers[0].lifecycle.preStop).length > 1) {
        t.ok(lifecycleErrors(spec(merged), version).some((e) => /may not specify more than 1 handler type/.test(e)), `${kind}: the merge alone is refused by the API server`)
        t.match(findings[0]?.patchSummary, /removed the injected preStop/)
      }
      t.same(spec(stored).containers[0].lifecycle.preStop, hook, `${kind}: only the owner's hook is stored`)
      t.same(lifecycleErrors(spec(stored), version), [], `${kind}: the API server accepts it`)
      t.same(mutate(stored, version, stored).findings, [], `${kind}: nothing to do the second time`)
    }
  })
}
