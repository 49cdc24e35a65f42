// Start-up warm-up: before /readyz passes, judge a few built-in reviews through handleAdmission, the
// path every real review takes, so the first reviews the API server sends do not run V8's
// unoptimised first-call code and build the caches the rules fill on first use. handleAdmission
// is pure: no decision line is written and no metric counts a warm-up review (both happen in the
// route, app.ts). Bounded in reviews and in time (its own, and wall time), in slices so the probe
// port and the cluster cache's start-up keep their turns.
import { handleAdmission } from './admission/handle.ts'
import type { Endpoint } from './engine/decide.ts'
import type { ReviewEnvironment } from './engine/judge.ts'
import type { Policy } from './engine/policy.ts'

export interface WarmUpLimits {
  /** Times every sample review is judged at most. */
  rounds: number
  /**
   * Time spent judging at most (summed over the slices, so the cluster cache's start-up sharing the
   * loop does not eat it); the warm-up stops after the round running when it is spent.
   */
  budgetMs: number
  /** Wall time since the start at most, whatever the budget: a starved replica is not held unready. */
  wallMs: number
  /** Longest run of reviews between two turns of the event loop. */
  sliceMs: number
}

export const DEFAULT_WARM_UP: WarmUpLimits = { rounds: 150, budgetMs: 1000, wallMs: 10_000, sliceMs: 10 }

export interface WarmUpResult {
  /** Reviews judged (each sample review on each endpoint counts once a round). */
  reviews: number
  rounds: number
  /** Time spent judging (the budget's measure). */
  ms: number
  /** Time from its start to its end, the other work of the loop included. */
  wallMs: number
  /** False when the time budget or the wall limit ended it before `rounds`. */
  complete: boolean
}

const NAMESPACE = 'hitless-warm-up'

function container(complete: boolean): Record<string, unknown> {
  return {
    name: 'app',
    image: 'registry.example/app:1.0.0',
    ports: [{ containerPort: 8080 }],
    ...(complete
      ? {
          readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
          livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        }
      : {}),
  }
}

function podSpec(complete: boolean): Record<string, unknown> {
  return { terminationGracePeriodSeconds: 30, containers: [container(complete)] }
}

function deployment(complete: boolean, generation: number): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app', namespace: NAMESPACE, generation, labels: { app: 'app' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'app' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels: { app: 'app', version: String(generation) } }, spec: podSpec(complete) },
    },
  }
}

function service(port: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'app', namespace: NAMESPACE },
    spec: { type: 'ClusterIP', selector: { app: 'app' }, ports: [{ name: 'http', port, targetPort: 8080, protocol: 'TCP' }] },
  }
}

function pod(complete: boolean): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app-0', namespace: NAMESPACE, labels: { app: 'app' } }, spec: podSpec(complete) }
}

const RESOURCES: Record<string, { group: string; version: string; resource: string }> = {
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  Service: { group: '', version: 'v1', resource: 'services' },
  Pod: { group: '', version: 'v1', resource: 'pods' },
}

function review(operation: 'CREATE' | 'UPDATE', object: Record<string, unknown>, oldObject: Record<string, unknown> | null, index: number): string {
  const kind = object['kind'] as string
  const { group, version, resource } = RESOURCES[kind]!
  const metadata = object['metadata'] as { name: string; namespace: string }
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: metadata.name,
      namespace: metadata.namespace,
      operation,
      userInfo: { username: 'system:serviceaccount:kube-system:deployment-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object,
      oldObject,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions' },
    },
  })
}

/**
 * The sample reviews, as the API server's JSON: a Deployment, a Service and a Pod, each created and
 * updated, one that every rule passes and one that most rules judge (so both paths are warm).
 */
export function sampleReviews(): string[] {
  const samples: [operation: 'CREATE' | 'UPDATE', object: Record<string, unknown>, old: Record<string, unknown> | null][] = [
    ['CREATE', deployment(true, 1), null],
    ['CREATE', deployment(false, 1), null],
    ['UPDATE', deployment(true, 2), deployment(true, 1)],
    ['UPDATE', deployment(false, 2), deployment(false, 1)],
    ['CREATE', service(80), null],
    ['UPDATE', service(8080), service(80)],
    ['CREATE', pod(true), null],
    ['CREATE', pod(false), null],
    ['UPDATE', pod(true), pod(true)],
  ]
  return samples.map(([operation, object, old], i) => review(operation, object, old, i))
}

const ENDPOINTS: Endpoint[] = ['mutate', 'validate']

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Judges every sample review on both endpoints, `rounds` times or until `budgetMs` is spent: parsed
 * from its JSON, handled, and the answer serialised, as the route does for a real one.
 */
export async function warmUp(policy: () => Policy, environment: ReviewEnvironment | undefined, limits: WarmUpLimits = DEFAULT_WARM_UP): Promise<WarmUpResult> {
  const texts = sampleReviews()
  const started = performance.now()
  let spent = 0
  let reviews = 0
  let rounds = 0
  let slice = started
  while (rounds < limits.rounds && spent < limits.budgetMs && performance.now() - started < limits.wallMs) {
    for (const text of texts) {
      for (const endpoint of ENDPOINTS) {
        JSON.stringify(handleAdmission(JSON.parse(text), endpoint, policy(), environment).body)
        reviews++
      }
    }
    rounds++
    const now = performance.now()
    if (now - slice >= limits.sliceMs) {
      spent += now - slice
      await turn()
      slice = performance.now()
    }
  }
  spent += performance.now() - slice
  const ms = (value: number) => Math.round(value * 10) / 10
  return { reviews, rounds, ms: ms(spent), wallMs: ms(performance.now() - started), complete: rounds >= limits.rounds }
}
