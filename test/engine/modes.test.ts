// enforce / audit / off, from the config and from the Namespace label; and dryRun.
import t from 'tap'
import { handleAdmission } from '../../src/admission/handle.ts'
import { namespacesFrom } from '../../src/model/namespaces.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { admissionReview, loadYaml, policyFrom } from '../helpers/objects.ts'

const pod = () => loadYaml('readiness-probe/fires-bare-pod.yaml') // denies readiness-probe, patches pre-stop
const namespace = (mode: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'hitless.dev/mode': mode } } })
const env = (...namespaces: KubeObject[]) => ({ now: () => new Date(), namespaces: namespacesFrom(namespaces) })

function answer(endpoint: 'mutate' | 'validate', config = '', namespaces: KubeObject[] = [], dryRun = false) {
  const handled = handleAdmission(admissionReview(pod(), { uid: 'u', dryRun }), endpoint, policyFrom(config), env(...namespaces))
  return { response: (handled.body as { response: Record<string, any> }).response, log: handled.log }
}

t.test('audit mode: nothing denied or patched; both come back as [audit] warnings', async (t) => {
  const validate = answer('validate', 'mode: audit')
  t.same(validate.response, {
    uid: 'u',
    allowed: true,
    warnings: [
      '[audit] hitless [readiness-probe]: would deny: container "web" has no readinessProbe',
      '[audit] hitless [pre-stop]: would patch: container "web" has no preStop hook',
    ],
  })
  t.equal(validate.log.decision, 'would-deny')
  t.equal(validate.log.mode, 'audit')
  t.match(validate.log.rules, [{ rule: 'readiness-probe', outcome: 'would-deny' }, { rule: 'pre-stop', outcome: 'would-patch' }])

  const mutate = answer('mutate', 'mode: audit')
  t.same(mutate.response, { uid: 'u', allowed: true, warnings: ['[audit] hitless [pre-stop]: would patch: container "web" has no preStop hook'] })
  t.equal(mutate.log.decision, 'would-patch')
  t.equal(
    mutate.response['warnings'][0],
    validate.response['warnings'][1],
    'the same text from both webhooks, so the API server shows it once',
  )
})

t.test('the namespace label overrides the configured mode', async (t) => {
  t.equal(answer('validate', 'mode: enforce', [namespace('audit')]).response['allowed'], true, 'audit namespace in an enforcing cluster')
  t.equal(answer('validate', 'mode: audit', [namespace('enforce')]).response['allowed'], false, 'enforcing namespace in an auditing cluster')
  t.ok(answer('mutate', 'mode: audit', [namespace('enforce')]).response['patch'], 'and patched there')
  const off = answer('validate', '', [namespace('off')])
  t.same(off.response, { uid: 'u', allowed: true }, 'off: hitless stays out of that namespace')
  t.equal(off.log.skipped, 'namespace default has hitless.dev/mode=off')
  const typo = answer('validate', '', [namespace('audti')])
  t.equal(typo.response['allowed'], false, 'an unknown label value keeps the configured mode')
  t.ok(typo.response['status'], 'and is denied as usual')
  t.same(typo.log.notices, ['namespace default has hitless.dev/mode="audti"; expected enforce, audit or off'])
})

t.test('dryRun is judged exactly like a real request', async (t) => {
  for (const endpoint of ['mutate', 'validate'] as const) {
    const real = answer(endpoint)
    const dry = answer(endpoint, '', [], true)
    t.same(dry.response, real.response, endpoint)
    t.equal(dry.log.dryRun, true)
  }
})
