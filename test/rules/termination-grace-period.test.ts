import t from 'tap'
import fastJsonPatch from 'fast-json-patch'
import { evaluate } from '../../src/engine/evaluate.ts'
import { loadYaml, onlyRule, policyFrom, reviewOf } from '../helpers/objects.ts'

t.test('names the sleep, the drain time and the default', async (t) => {
  const { findings, patch } = evaluate(reviewOf(loadYaml('termination-grace-period/fires-shell-sleep-over-default.yaml')), onlyRule('termination-grace-period'))
  t.equal(findings[0]!.message, 'terminationGracePeriodSeconds 30 (default) < preStop sleep 45s (container "web") + 10s to drain')
  t.same(patch, [{ op: 'add', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 55 }], 'raised to exactly sleep + drain')
  t.match(findings[0]!.fix, /terminationGracePeriodSeconds: 55/)
})

t.test('replaces an explicit value, including null', async (t) => {
  const deployment = evaluate(reviewOf(loadYaml('termination-grace-period/fires-native-sleep-plus-drain.yaml')), onlyRule('termination-grace-period'))
  t.same(deployment.patch, [{ op: 'replace', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 35 }])
  const pod = evaluate(reviewOf(loadYaml('termination-grace-period/fires-bare-pod-null-grace.yaml')), onlyRule('termination-grace-period'))
  t.same(pod.patch, [{ op: 'replace', path: '/spec/terminationGracePeriodSeconds', value: 70 }], 'sleep 1m + 10s')
})

t.test('drainSeconds is configurable', async (t) => {
  const object = loadYaml('termination-grace-period/passes-default-grace-covers-short-sleep.yaml')
  const strict = policyFrom('rules: {pre-stop: {action: off}, termination-grace-period: {drainSeconds: 40}}')
  t.same(evaluate(reviewOf(object), strict).patch, [{ op: 'add', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 45 }])
})

t.test('runs after pre-stop and covers the sleep pre-stop injects, in one patch', async (t) => {
  const object = loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml')
  const policy = policyFrom('rules: {pre-stop: {sleepSeconds: 25}}')
  const { patch, findings } = evaluate(reviewOf(object), policy)
  t.same(findings.map((f) => f.rule), ['pre-stop', 'termination-grace-period'])
  t.equal(findings[1]!.message, 'terminationGracePeriodSeconds 30 (default) < preStop sleep 25s (container "web", the sleep hitless adds) + 10s to drain', 'the sleep is named as hitless’s, not the owner’s')
  t.match(findings[1]!.because, /^serving: it declares containerPort/)
  t.same(patch, [
    { op: 'add', path: '/spec/template/spec/containers/0/lifecycle', value: { preStop: { sleep: { seconds: 25 } } } },
    { op: 'add', path: '/spec/template/spec/terminationGracePeriodSeconds', value: 35 },
  ])
  const fixed = fastJsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument
  t.same(evaluate(reviewOf(fixed), policy).patch, [], 'idempotent')
  t.same(object.spec!['template'], loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml').spec!['template'], 'the input object is not modified')
})

t.test('with pre-stop at warn, the grace period judges the object as it is', async (t) => {
  const object = loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml')
  const { patch, findings } = evaluate(reviewOf(object), policyFrom('rules: {pre-stop: {action: warn, sleepSeconds: 25}}'))
  t.same(findings.map((f) => [f.rule, f.action]), [['pre-stop', 'warn']])
  t.same(patch, [])
})
