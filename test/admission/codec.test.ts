import t from 'tap'
import { decodeReview } from '../../src/admission/codec.ts'
import { admissionReview, loadYaml } from '../helpers/objects.ts'

const valid = () => admissionReview(loadYaml('pre-stop/fires-deployment-no-lifecycle.yaml'), { uid: 'u-1' })

t.test('a valid review becomes a ReviewInput', async (t) => {
  const decoded = decodeReview(valid())
  t.ok(decoded.ok)
  if (decoded.ok) {
    t.match(decoded.review, { operation: 'CREATE', kind: 'Deployment', group: 'apps', namespace: 'shop', name: 'web' })
    t.equal(decoded.request.uid, 'u-1')
  }
})

t.test('what is wrong is named, with the uid when there is one', async (t) => {
  const mutate = (change: (body: any) => void) => {
    const body: any = valid()
    change(body)
    return decodeReview(body)
  }
  t.same(decodeReview(null), { ok: false, reason: 'body is not an AdmissionReview: expected a JSON object' })
  t.same(decodeReview([1]), { ok: false, reason: 'body is not an AdmissionReview: expected a JSON object' })
  t.match(mutate((b) => (b.apiVersion = 'admission.k8s.io/v1beta1')), { ok: true, apiVersion: 'admission.k8s.io/v1beta1' }, 'v1beta1 is read (and answered in v1beta1)')
  t.match(mutate((b) => (b.apiVersion = 'admission.k8s.io/v2')), { ok: false, uid: 'u-1', reason: /unsupported apiVersion "admission.k8s.io\/v2".*admissionReviewVersions/ })
  t.match(mutate((b) => (b.kind = 'Review')), { ok: false, uid: 'u-1', reason: 'kind must be AdmissionReview, got "Review"' })
  t.same(mutate((b) => delete b.request.uid), { ok: false, apiVersion: 'admission.k8s.io/v1', reason: 'request.uid is missing' })
  t.same(mutate((b) => (b.request.uid = '')), { ok: false, apiVersion: 'admission.k8s.io/v1', reason: 'request.uid is missing' })
  t.same(mutate((b) => (b.request.uid = 42)), { ok: false, apiVersion: 'admission.k8s.io/v1', reason: 'request.uid is missing' })
  t.same(mutate((b) => delete b.request), { ok: false, apiVersion: 'admission.k8s.io/v1', reason: 'request is missing' })
  t.match(mutate((b) => (b.request.operation = 'PATCH')), { uid: 'u-1', reason: /request\.operation must be equal to one of the allowed values/ })
  t.match(mutate((b) => (b.request.kind = 'Deployment')), { uid: 'u-1', reason: 'request.kind must be object' })
  t.match(mutate((b) => (b.request.object = 'x')), { uid: 'u-1', reason: 'request.object must be object,null' })
  t.match(mutate((b) => (b.request.userInfo = { groups: 'admins' })), { uid: 'u-1', reason: 'request.userInfo.groups must be array' })
})
