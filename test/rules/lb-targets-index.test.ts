// The load-balancer rules' lookups against a scan, on random namespaces that keep changing: the store's
// indexes of alb Ingresses and TargetGroupBindings by Service against a scan of the namespace's
// records; a workload review's targets (only the Services that select it) and every side's targeted
// workloads against the namespace-wide scan the rules first did; and the rules' findings with the
// engine's per-review memo against each rule judging alone.
import t from 'tap'
import { replaceKindInSlices } from '../../src/cluster/relist.ts'
import { forget, ingest } from '../../src/cluster/ingest.ts'
import { selects, selectsPods } from '../../src/cluster/label-selectors.ts'
import type { ServiceRecord } from '../../src/cluster/service-records.ts'
import { ClusterStore } from '../../src/cluster/store.ts'
import { evaluate } from '../../src/engine/evaluate.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import type { KubeObject, ReviewInput } from '../../src/model/types.ts'
import { stateWith, targetedReviewed, targetedWorkloads, type IpTarget, type LbState } from '../../src/rules/load-balancers.ts'
import { configFrom, reviewOf } from '../helpers/objects.ts'
import { random, type Random } from '../helpers/random.ts'

const NS = 'shop'
const SERVICES = ['web', 'api', 'admin', 'ghost']
const APPS = ['web', 'api', 'admin']
const TIERS = ['front', 'back']
const annotations = (rng: Random, pairs: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(pairs).flatMap(([key, values]) => (rng.chance(0.5) ? [[key, rng.pick(values)]] : [])))
const labels = (rng: Random) => ({ ...(rng.chance(0.8) ? { app: rng.pick(APPS) } : {}), ...(rng.chance(0.6) ? { tier: rng.pick(TIERS) } : {}) })

function service(rng: Random, name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: NS,
      annotations: annotations(rng, {
        'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': ['ip', 'instance'],
        'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': ['deregistration_delay.timeout_seconds=20'],
        'alb.ingress.kubernetes.io/target-type': ['ip', 'instance'],
        'alb.ingress.kubernetes.io/target-group-attributes': ['deregistration_delay.timeout_seconds=45'],
      }),
    },
    spec: { type: rng.pick(['LoadBalancer', 'ClusterIP']), selector: rng.chance(0.9) ? { app: rng.pick(APPS), ...(rng.chance(0.3) ? { tier: rng.pick(TIERS) } : {}) } : {}, ports: [{ port: 80, targetPort: 'http' }] },
  }
}

function ingress(rng: Random, name: string): KubeObject {
  const backend = () => ({ service: { name: rng.pick(SERVICES), port: { number: 80 } } })
  const alb = rng.chance(0.7)
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: NS,
      annotations: {
        ...annotations(rng, { 'alb.ingress.kubernetes.io/target-type': ['ip', 'ip', 'instance'], 'alb.ingress.kubernetes.io/target-group-attributes': ['deregistration_delay.timeout_seconds=10', 'deregistration_delay.timeout_seconds=90'] }),
        ...(alb && rng.chance(0.5) ? { 'kubernetes.io/ingress.class': 'alb' } : {}),
      },
    },
    spec: {
      ...(alb && rng.chance(0.5) ? { ingressClassName: 'alb' } : !alb ? { ingressClassName: 'nginx' } : {}),
      ...(rng.chance(0.3) ? { defaultBackend: backend() } : {}),
      rules: [{ http: { paths: Array.from({ length: 1 + Math.floor(rng.next() * 3) }, (_, i) => ({ path: `/${i}`, pathType: 'Prefix', backend: backend() })) } }],
    },
  }
}

const binding = (rng: Random, name: string): KubeObject => ({
  apiVersion: 'elbv2.k8s.aws/v1beta1',
  kind: 'TargetGroupBinding',
  metadata: { name, namespace: NS },
  spec: { serviceRef: { name: rng.pick(SERVICES), port: 80 }, ...(rng.chance(0.8) ? { targetType: rng.pick(['ip', 'instance']) } : {}) },
})

const deployment = (rng: Random, name: string): KubeObject => {
  const podLabels = labels(rng)
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas: 2, selector: { matchLabels: podLabels }, template: { metadata: { labels: podLabels }, spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }], lifecycle: { preStop: { sleep: { seconds: rng.pick([5, 30, 60]) } } } }] } } },
  }
}

const MAKERS: Record<string, (rng: Random, name: string) => KubeObject> = { Service: service, Ingress: ingress, TargetGroupBinding: binding, Deployment: deployment }
const NAMES: Record<string, string[]> = { Service: SERVICES.slice(0, 3), Ingress: ['i-a', 'i-b', 'i-c', 'i-d'], TargetGroupBinding: ['tg-a', 'tg-b'], Deployment: ['d-a', 'd-b', 'd-c', 'd-d'] }

/** A namespace of random objects, then random changes and deletions: the store's indexes must follow both. */
function randomStore(rng: Random): { store: ClusterStore; live: Map<string, KubeObject> } {
  const store = new ClusterStore()
  const live = new Map<string, KubeObject>()
  store.putNamespace({ name: NS, labels: rng.chance(0.5) ? { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } : {}, annotations: {} })
  for (let i = 0; i < 40; i++) {
    const kind = rng.pick(Object.keys(MAKERS))
    const name = rng.pick(NAMES[kind]!)
    if (rng.chance(0.2)) {
      forget(store, kind, { kind, metadata: { name, namespace: NS } })
      live.delete(`${kind}/${name}`)
    } else {
      const object = MAKERS[kind]!(rng, name)
      ingest(store, kind, object)
      live.set(`${kind}/${name}`, object)
    }
  }
  return { store, live }
}

const byName = <T extends { name: string }>(list: Iterable<T>) => [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
const targetText = (t: Pick<IpTarget, 'by' | 'service' | 'delay'>) => `${t.by.kind}/${t.by.name}→${t.service}:${t.delay?.seconds ?? '-'}`

/** The targets of every workload of `state`, by scanning every Service, Ingress and TargetGroupBinding of the namespace. */
function scanned(store: ClusterStore, state: LbState): Map<string, string[]> {
  const reviewed = state.reviewed
  const swap = <T extends { name: string }>(kind: string, live: Iterable<T>, record: T | undefined) => {
    if (reviewed?.kind !== kind) return [...live]
    const rest = [...live].filter((item) => item.name !== reviewed.name)
    return record ? [...rest, record] : rest
  }
  const services = swap('Service', store.services(NS), reviewed?.kind === 'Service' ? reviewed.record : undefined)
  const ingresses = byName(swap('Ingress', store.ingresses(NS), reviewed?.kind === 'Ingress' ? reviewed.record : undefined))
  const bindings = byName(swap('TargetGroupBinding', store.targetGroupBindings(NS), reviewed?.kind === 'TargetGroupBinding' ? reviewed.record : undefined))
  const targetsOf = (service: ServiceRecord): string[] => [
    ...(service.aws?.nlbIp ? [`Service/${service.name}→${service.name}:${service.aws.nlbDelay ?? 300}`] : []),
    ...ingresses
      .filter((i) => i.alb && i.backends.some((b) => b.service === service.name) && (service.aws?.albTargetType ?? i.alb.targetType) === 'ip')
      .map((i) => `Ingress/${i.name}→${service.name}:${service.aws?.albDelay ?? i.alb!.delay ?? 300}`),
    ...bindings.filter((b) => b.service === service.name && b.targetType === 'ip').map((b) => `TargetGroupBinding/${b.name}→${service.name}:-`),
  ]
  const workloads = store.workloadsMatching(NS, {}).filter((w) => !state.workload || w.kind !== state.workload.kind || w.name !== state.workload.name)
  const result = new Map<string, string[]>()
  for (const service of services) {
    const targets = targetsOf(service)
    if (targets.length === 0) continue
    const selected = workloads.filter((w) => selectsPods(service.selector, w))
    if (state.workload && selects(service.selector, state.workload.labels)) selected.push(state.workload)
    for (const w of selected) result.set(`${w.kind}/${w.name}`, [...(result.get(`${w.kind}/${w.name}`) ?? []), ...targets])
  }
  return result
}

const sorted = (list: string[]) => [...list].sort()
/** The kind under review: a workload half the time (its review takes the shortcut). */
const reviewedKind = (rng: Random) => (rng.chance(0.5) ? 'Deployment' : rng.pick(Object.keys(MAKERS)))

t.test('alb Ingresses and TargetGroupBindings by Service: the index answers as a scan of the namespace, through changes and deletions', async (t) => {
  let checks = 0
  for (let seed = 1; seed <= 200; seed++) {
    const { store } = randomStore(random(seed))
    for (const name of SERVICES) {
      const ingresses = byName([...store.ingresses(NS)].filter((i) => i.alb && i.backends.some((b) => b.service === name)))
      const bindings = byName([...store.targetGroupBindings(NS)].filter((b) => b.service === name))
      if (!t.same(store.albIngressesTo(NS, name), ingresses, `seed ${seed}, Service ${name}: alb Ingresses`)) return
      if (!t.same(store.targetGroupBindingsTo(NS, name), bindings, `seed ${seed}, Service ${name}: TargetGroupBindings`)) return
      checks++
    }
    // A re-list that finds none deletes each one the store held, as watch deletions would.
    await replaceKindInSlices(store, 'Ingress', [])
    await replaceKindInSlices(store, 'TargetGroupBinding', [])
    if (!t.same(SERVICES.map((name) => [...store.albIngressesTo(NS, name), ...store.targetGroupBindingsTo(NS, name)]).flat(), [], `seed ${seed}: nothing left after a re-list that lists none`)) return
  }
  t.equal(checks, 200 * SERVICES.length)
})

t.test('targets as the namespace-wide scan finds them: a workload review from its own Services, every other side from every Service', async (t) => {
  const counts = { workload: 0, targeted: 0, sides: 0 }
  for (let seed = 1; seed <= 300; seed++) {
    const rng = random(seed)
    const { store, live } = randomStore(rng)
    const kind = reviewedKind(rng)
    const name = rng.pick(NAMES[kind]!)
    const old = live.get(`${kind}/${name}`) ?? null
    const updated = rng.chance(0.85) ? MAKERS[kind]!(rng, name) : null
    if (!old && !updated) continue
    const review: ReviewInput = updated ? reviewOf(updated, old ? { operation: 'UPDATE', oldObject: old } : {}) : reviewOf(null, { operation: 'DELETE', oldObject: old })
    for (const side of ['object', 'oldObject'] as const) {
      const state = stateWith(store, review, side)
      if (!state) continue
      const where = `seed ${seed}, ${kind} ${name} ${review.operation}, ${side}`
      const expected = scanned(store, state)
      const found = new Map([...targetedWorkloads(store, state)].map(([key, { targets }]) => [key, sorted(targets.map(targetText))]))
      if (!t.same(found, new Map([...expected].map(([key, list]) => [key, sorted(list)])), `${where}: targeted workloads`)) return
      counts.sides++
      if (state.workload) {
        const own = expected.get(`${state.workload.kind}/${state.workload.name}`)
        const reviewed = targetedReviewed(store, { ...state, workload: state.workload })
        if (!t.same(reviewed?.targets.map(targetText), own, `${where}: the reviewed workload's targets, in order`)) return
        counts.workload++
        if (own) counts.targeted++
      }
    }
  }
  t.ok(counts.targeted > 50 && counts.workload > counts.targeted, `reviewed workloads that are targets (${counts.targeted}) and that are not (${counts.workload - counts.targeted})`)
  t.ok(counts.sides > 300, `${counts.sides} sides compared`)
})

t.test('findings with the per-review memo are those of each rule judging alone', async (t) => {
  // Nothing mutates and nothing is downgraded, so every rule judges the object as it arrived, as it does alone.
  const config = configFrom(
    'allowExistingViolations: false\nrules:\n  lb-readiness-gate: {action: deny}\n  lb-deregistration: {action: deny}\n  pre-stop: {action: warn, coverDeregistration: true}\n  termination-grace-period: {action: warn}\n',
  )
  const policy = (store: ClusterStore) => buildPolicy(config, { cluster: store })
  let fired = 0
  for (let seed = 1; seed <= 150; seed++) {
    const rng = random(seed)
    const { store, live } = randomStore(rng)
    const kind = reviewedKind(rng)
    const name = rng.pick(NAMES[kind]!)
    const old = live.get(`${kind}/${name}`)
    const review = reviewOf(MAKERS[kind]!(rng, name), old ? { operation: 'UPDATE', oldObject: old } : {})
    const engine = policy(store)
    const together = evaluate(review, engine).findings.map(({ rule, message, action }) => ({ rule, message, action }))
    const alone = engine.rules.flatMap(({ rule, action, options }) =>
      rule.check({ review: { ...review, object: review.object! }, original: review.object!, options, settings: engine.settings }).map(({ message, atMostWarn }) => ({ rule: rule.id, message, action: atMostWarn && action === 'deny' ? 'warn' : action })),
    )
    if (!t.same(together, alone, `seed ${seed}, ${kind} ${name}`)) return
    fired += together.filter((f) => f.rule.startsWith('lb-')).length
  }
  t.ok(fired > 15, `${fired} load-balancer findings compared`)
})
