// Structure-aware fuzzing of the AdmissionReview a real kube-apiserver v1.28 sent (../shared/fixtures),
// through the whole Fastify app: 12,000 reviews, each the capture with a few fields of its object (or
// old object, or envelope) replaced by a value of another type, an extreme number, a huge string, or
// removed; Services and Namespaces built from it too. Every answer must be a 2xx or 4xx, never a 5xx;
// every patch must apply cleanly, write only numbers the API server takes, and leave a pod spec the API
// server's lifecycle validation accepts. Seeded, so a failure replays. Every field any rule reads, set
// to every JSON type: fuzz-fields.test.ts.
import { readFileSync } from 'node:fs'
import fastJsonPatch from 'fast-json-patch'
import t from 'tap'
import { podTemplateOf } from '../../src/workloads/pod-template.ts'
import { lifecycleErrors } from '../helpers/api-validation.ts'
import { testApp } from '../helpers/app.ts'
import { policyFrom } from '../helpers/objects.ts'

const capture = JSON.parse(readFileSync(new URL('../../../shared/fixtures/apiserver-v1.28-create-deployment.json', import.meta.url), 'utf8'))
const ROUNDS = 12_000

/** mulberry32: a small seeded generator, so every failure can be replayed from its round number. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const SPECIALS: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, '', ' ', '0', '-1', '99999999999999999999',
  'sleep 99999999999999999999', '1'.repeat(400), 'x'.repeat(70_000), [], [null], [{}], {}, { a: { b: { c: {} } } },
  ['sleep', '99999999999999999999'], ['sh', '-c', 'sleep 1e9'], { seconds: 2 ** 62 }, { port: 'http' }, { '__proto__': { admin: true } },
]

/** Every path to a value in `node`, as token lists. */
function paths(node: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix)
  if (Array.isArray(node)) node.forEach((v, i) => paths(v, [...prefix, i], out))
  else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) paths(v, [...prefix, k], out)
  return out
}

function mutate(root: any, rand: () => number): void {
  const all = paths(root).filter((p) => p.length > 0)
  const path = all[Math.floor(rand() * all.length)]!
  let parent = root
  for (const token of path.slice(0, -1)) parent = parent[token]
  const key = path[path.length - 1]!
  const roll = rand()
  if (roll < 0.15) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1)
    else delete parent[key]
  } else if (roll < 0.25 && Array.isArray(parent[key])) {
    parent[key] = [...parent[key], ...parent[key]]
  } else {
    parent[key] = structuredClone(SPECIALS[Math.floor(rand() * SPECIALS.length)])
  }
}

/** The capture as a Service, a Namespace or the Deployment, CREATE or UPDATE. */
function base(rand: () => number): any {
  const review = structuredClone(capture)
  const roll = rand()
  if (roll < 0.2) {
    review.request.kind = { group: '', version: 'v1', kind: 'Service' }
    review.request.resource = { group: '', version: 'v1', resource: 'services' }
    review.request.object = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
  } else if (roll < 0.3) {
    review.request.kind = { group: '', version: 'v1', kind: 'Namespace' }
    review.request.resource = { group: '', version: 'v1', resource: 'namespaces' }
    review.request.object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'hitless.dev/mode': 'off' }, annotations: { 'hitless.dev/exempt': '*' } } }
  }
  if (rand() < 0.4) {
    review.request.operation = 'UPDATE'
    review.request.oldObject = structuredClone(review.request.object)
  }
  return review
}

t.test(`${ROUNDS} mutated reviews: no 5xx, every patch applies and is accepted`, async (t) => {
  const { app } = testApp({ policy: () => policyFrom('exemptions: {approvers: {users: [carol], groups: []}}') })
  const statuses = new Map<number, number>()
  const failures: string[] = []
  let patched = 0
  for (let round = 0; round < ROUNDS && failures.length < 5; round++) {
    const rand = random(round)
    const review = base(rand)
    const target = rand() < 0.8 ? review.request.object : rand() < 0.5 && review.request.oldObject ? review.request.oldObject : review
    for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) mutate(target, rand)
    const endpoint = rand() < 0.5 ? '/mutate' : '/validate'
    const answer = await app.inject({ method: 'POST', url: endpoint, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(review) })
    statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1)
    if (answer.statusCode >= 500) {
      failures.push(`round ${round}: HTTP ${answer.statusCode}: ${answer.body.slice(0, 200)}`)
      continue
    }
    const patch = answer.statusCode === 200 ? answer.json().response?.patch : undefined
    if (!patch) continue
    patched++
    const ops = JSON.parse(Buffer.from(patch, 'base64').toString('utf8'))
    const object = review.request.object
    const invalid = fastJsonPatch.validate(ops, structuredClone(object))
    if (invalid) {
      failures.push(`round ${round}: the patch does not apply: ${invalid.message}`)
      continue
    }
    const fixed = fastJsonPatch.applyPatch(structuredClone(object), ops, false, false).newDocument
    const template = podTemplateOf({ operation: review.request.operation, kind: review.request.kind.kind, group: review.request.kind.group, object: fixed, oldObject: null })
    const errors = template ? lifecycleErrors(template.spec, { major: 1, minor: 30 }) : []
    // Only what hitless wrote is its responsibility: compare with what the object had before.
    const before = template ? lifecycleErrors(podTemplateOf({ operation: review.request.operation, kind: review.request.kind.kind, group: review.request.kind.group, object, oldObject: null })!.spec, { major: 1, minor: 30 }) : []
    const introduced = errors.filter((e) => !before.includes(e))
    if (introduced.length > 0) failures.push(`round ${round}: the patched object is invalid: ${introduced.join('; ')}`)
  }
  t.same(failures, [], 'no 5xx, no bad patch')
  t.notOk([...statuses.keys()].some((s) => s >= 500))
  t.ok(patched > 500, `${patched} answers carried a patch, each applied and checked`)
  t.ok((statuses.get(200) ?? 0) > ROUNDS / 2, `status counts: ${JSON.stringify(Object.fromEntries(statuses))}`)
})

