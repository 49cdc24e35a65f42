// lb-readiness-gate, lb-deregistration and replicas-spread over ../shared/corpus-next, which holds real
// AWS load balancer manifests (ALB target-type ip Ingresses, NLB Services, a TargetGroupBinding): every
// finding of these three rules judged in expectations-lb.json ("corpus-next"), none false, and none
// where the AWS annotations are absent. (Their findings over ../shared/corpus are judged in the same
// file's "corpus" section, which corpus.test.ts merges.)
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { auditCorpus } from './audit-corpus.ts'

interface Judged {
  verdict: 'true' | 'noise' | 'false'
  reason: string
}
const judged = JSON.parse(readFileSync(new URL('expectations-lb.json', import.meta.url), 'utf8')) as Record<'corpus' | 'corpus-next', Record<string, Judged>>
const RULES = ['lb-readiness-gate', 'lb-deregistration', 'replicas-spread']
const AWS_REPOSITORIES = ['kubernetes-sigs+aws-load-balancer-controller/', 'aws-samples+eks-workshop-v2/']

t.test('corpus-next: the three rules’ findings judged, none false, the load-balancer rules only on AWS manifests', async (t) => {
  const { findings } = await auditCorpus(fileURLToPath(new URL('../../../shared/corpus-next/', import.meta.url)))
  const keys = findings.map((f) => f.key).filter((key) => RULES.includes(key.split('|')[2]!))
  const expected = judged['corpus-next']
  t.same(keys.filter((key) => !expected[key]), [], 'every finding has a judgement')
  t.same(Object.keys(expected).filter((key) => !keys.includes(key)), [], 'every judged finding is still reported')
  t.same(keys.filter((key) => expected[key]?.verdict === 'false'), [], 'none judged false')
  t.ok(Object.values(expected).every((j) => j.reason.length > 10), 'each judgement says why')
  const lb = keys.filter((key) => key.split('|')[2]!.startsWith('lb-'))
  t.ok(lb.length > 0, 'the load-balancer rules fire on the AWS examples')
  t.same(lb.filter((key) => !AWS_REPOSITORIES.some((repo) => key.startsWith(repo))), [], 'and nowhere else')
  const noise = keys.filter((key) => expected[key]?.verdict === 'noise').length
  t.ok(noise <= 0.05 * keys.length, `noise ${noise} of ${keys.length}`)
})
