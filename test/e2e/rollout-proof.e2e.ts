// The proof: a real one-node cluster (test/e2e/node-cluster.sh), a 2-replica Deployment of an app that
// listens a few seconds after it starts and exits at once on SIGTERM, behind a ClusterIP Service; 100
// requests/s, each on a new connection, for 60 s, and `kubectl rollout restart` at 10 s.
//   1. hitless not registered: the manifest a user would write (no readinessProbe, no preStop) loses
//      requests during the rollout (this proves the harness sees failures).
//   2. hitless installed as users install it (its image built from the Dockerfile, `kubectl apply -k
//      manifests/overlays/enforce`, certs-script/generate.sh --apply: 3 replicas behind their Service),
//      enforce: that manifest is denied with the rule and the fix; with the
//      readinessProbe the message suggests it is admitted, hitless injects the preStop sleep (and the
//      grace period covers it), and the same rollout under the same load loses none.
//   3. audit: the first manifest is admitted with warnings that name exactly the rules whose absence
//      the failures show: with every warned rule fixed but one, each still loses requests.
//   4. the baseline: the same install with its container running an allow-all webhook
//      (test/e2e/node/allow-all-webhook.ts) instead of hitless, and variant 2's rollout again: what the
//      API server's timing of a webhook is on this node when the webhook does nothing.
// Every variant gets a fresh Service (a conntrack entry from an earlier run can black-hole a request).
// Around each rollout every hitless replica's and the API server's /metrics are read: the latency
// attribution row (test/e2e/latency-attribution.ts: the API server's timing of the webhooks beside
// hitless's own handling, loop delay, GC, connections), with the load average, for each run and the
// baseline side by side. After each rollout (and on fresh replicas, right after hitless and the
// allow-all are installed) a dry-run probe (test/e2e/dry-run-probe.ts): 50 dry-run writes of the
// variant's Deployment timed at the client, so what a webhook adds to a write is p50(with) − p50(none)
// in milliseconds, where the API server's histogram has only its 5 / 25 / 100 ms buckets; with it, the
// slowest reviews in hitless's decision log and where they came in their replica's life (the how-many-th
// review, seconds after the container started). Results go to the tap output and
// bench/results/rollout-proof.json.
// Run by test/e2e/apiserver.sh (npm run test:e2e); HITLESS_NODE_KEEP=1 leaves the cluster up.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { waitFor, type KubectlResult } from './cluster.ts'
import { dryRunProbe, probeCell, rank, type ProbeResult } from './dry-run-probe.ts'
import { attribution, attributionRow, ATTRIBUTION_HEADER, type Attribution } from './latency-attribution.ts'
import { failureTimeline, FAILURE_KINDS, runLoad, type LoadResult } from './load.ts'
import { delta, finish, histogram, NodeCluster, quantile, withNodeCluster, type Bucket, type LoopDelay, type ScriptResult } from './node-cluster.ts'

const RATE = 100
const SECONDS = 60
const RESTART_AT = 10
const ABLATION_RESTARTS = [10, 35]
const TIMEOUT_MS = 3000
const APP_PORT = 8080
const RESULTS = fileURLToPath(new URL('../../bench/results/rollout-proof.json', import.meta.url))

const cluster = new NodeCluster()
await withNodeCluster(t, cluster, proof)

interface WebhookLatency {
  calls: number
  p50Ms: number
  /** Interpolated inside its bucket as histogram_quantile does (with a few dozen calls, near the slowest). */
  p99Ms: number
  /** The upper bound of the bucket the p99 falls in: p99 is at most this. */
  p99AtMostMs: number
  /** Calls per bucket: "12 ≤ 5 ms, 2 ≤ 25 ms". */
  distribution: string
  buckets: Bucket[]
}

/** Who answers the webhooks during a run: nobody (not registered), hitless, or the allow-all baseline. */
type Webhook = 'none' | 'hitless' | 'allow-all'

interface Run {
  variant: string
  webhook: Webhook
  manifest: string
  /** The machine's 1-minute load average when the load started and when it ended (the cores are shared). */
  loadAverage: { atStart: number; atEnd: number }
  requests: number
  ok: number
  failed: number
  byKind: LoadResult['byKind']
  failureSeconds: string[]
  okLatencyMs: LoadResult['latency']
  backends: Record<string, number>
  apiserverWebhook?: WebhookLatency | undefined
  hitlessReview?: WebhookLatency | undefined
  /** The five slowest reviews hitless logged during the run, where they came in their replica's life. */
  slowestReviews: SlowReview[]
  /** The dry-run probe after the rollout. */
  probe?: Probe | undefined
  /** Where the webhook calls' milliseconds went (with a webhook registered), and its table row. */
  attribution?: Attribution | undefined
  attributionRow?: string | undefined
  /** The allow-all baseline: reviews its replicas answered during the run, and each one's loop delay. */
  allowAll?: { reviews: number; loop: LoopDelay[] } | undefined
}

/** A review from hitless's decision log, with where it came in its replica's life. */
interface SlowReview {
  pod: string
  time: string
  latencyMs: number
  /** 1: the first review this replica answered since it started. */
  nthOfPod: number
  /** Seconds between the container's start and the review. */
  sinceStartS: number | undefined
  endpoint: string
  operation: string
  kind: string
  name: string
  dryRun: boolean
  decision: string
}

const decisions = (logs: Record<string, any>[]) => logs.filter((line) => line.msg === 'admission decision')

/** The `count` slowest reviews of those `picked`, each with its rank among its replica's reviews. */
function slowest(logs: Record<string, any>[], picked: (line: Record<string, any>) => boolean, started: Record<string, number>, count = 5): SlowReview[] {
  const nth = new Map<Record<string, any>, number>()
  const byPod = new Map<string, Record<string, any>[]>()
  for (const line of decisions(logs)) byPod.set(line.pod, [...(byPod.get(line.pod) ?? []), line])
  for (const lines of byPod.values()) lines.sort((a, b) => a.time - b.time).forEach((line, i) => nth.set(line, i + 1))
  return decisions(logs)
    .filter(picked)
    .sort((a, b) => b.latencyMs - a.latencyMs)
    .slice(0, count)
    .map((line) => ({
      pod: line.pod,
      time: new Date(line.time).toISOString(),
      latencyMs: line.latencyMs,
      nthOfPod: nth.get(line) ?? 0,
      sinceStartS: started[line.pod] === undefined ? undefined : Math.round((line.time - started[line.pod]!) / 100) / 10,
      endpoint: line.endpoint,
      operation: line.operation,
      kind: line.kind,
      name: `${line.namespace ?? ''}/${line.name ?? ''}`,
      dryRun: line.dryRun === true,
      decision: line.decision,
    }))
}

const slowLine = (r: SlowReview) => `${r.latencyMs} ms: ${r.endpoint} ${r.operation} ${r.kind} ${r.name}${r.dryRun ? ' (dry run)' : ''} → ${r.decision}; review ${r.nthOfPod} of ${r.pod}, ${r.sinceStartS ?? '?'} s after it started, at ${r.time}`

/** Each running hitless replica's container start (ms since the epoch). */
function containerStarts(): Record<string, number> {
  return Object.fromEntries(cluster.hitlessPods().filter((p) => p.startedAt).map((p) => [p.name, Date.parse(p.startedAt!)]))
}

/** One dry-run probe (dry-run-probe.ts) of a Deployment, with the API server's and hitless's view of its calls. */
interface Probe {
  label: string
  webhook: Webhook
  client: ProbeResult
  /** The webhook calls of the probe as the API server's histogram has them (two a write: mutate, validate). */
  apiserverWebhook?: WebhookLatency | undefined
  /** hitless's own latencyMs of the probe's reviews (its decision log): p50 / max, and how many. */
  hitlessOwn?: { reviews: number; p50Ms: number; p90Ms: number; maxMs: number } | undefined
  /** The slowest of those reviews, where they came in their replica's life. */
  slowest: SlowReview[]
  /** hitless's loop delay, GC and connections during the probe (its /metrics before and after). */
  attributionRow?: string | undefined
}

const probes: Probe[] = []
const PROBE_WRITES = 50
const PROBE_SPACING_MS = 50

/**
 * The probe of `namespace/name` with `webhook` registered (taken apart from the rollouts' scrapes, so its
 * calls are in neither row). Asserts only outcomes: every dry-run write was admitted, and with a
 * webhook the webhook answered each.
 */
async function probeWrites(t: Test, label: string, namespace: string, name: string, webhook: Webhook): Promise<Probe> {
  const apiBefore = await cluster.apiMetrics()
  const hitlessBefore = webhook === 'hitless' ? await cluster.hitlessMetrics() : []
  const client = await dryRunProbe({ url: cluster.get('HITLESS_NODE_API_URL'), ca: await readFile(cluster.get('HITLESS_NODE_CA'), 'utf8'), token: cluster.get('HITLESS_NODE_TOKEN'), namespace, deployment: name }, PROBE_WRITES, PROBE_SPACING_MS)
  const apiAfter = await cluster.apiMetrics()
  const hitlessAfter = webhook === 'hitless' ? await cluster.hitlessMetrics() : []
  t.same(client.statuses, { 200: PROBE_WRITES }, `${label}: ${PROBE_WRITES} dry-run writes of ${namespace}/${name}, every one admitted`)
  const apiserverWebhook = webhook === 'none' ? undefined : latency(delta(histogram(apiAfter, 'apiserver_admission_webhook_admission_duration_seconds', ours), histogram(apiBefore, 'apiserver_admission_webhook_admission_duration_seconds', ours)))
  if (webhook !== 'none') t.ok((apiserverWebhook?.calls ?? 0) >= 2 * PROBE_WRITES, `${label}: the API server called both webhooks on each dry-run write (${apiserverWebhook?.calls ?? 0} calls)`)
  let hitlessOwn: Probe['hitlessOwn']
  let slow: SlowReview[] = []
  if (webhook === 'hitless') {
    const logs = await cluster.hitlessLog()
    const ofProbe = (line: Record<string, any>) => line.dryRun === true && line.name === name && line.namespace === namespace && line.time >= client.startedAt - 1000
    const mine = decisions(logs).filter(ofProbe)
    const own = mine.map((line) => Number(line.latencyMs))
    hitlessOwn = { reviews: own.length, p50Ms: rank(own, 0.5), p90Ms: rank(own, 0.9), maxMs: Math.max(0, ...own) }
    t.equal(own.length, 2 * PROBE_WRITES, `${label}: hitless logged a decision for each of the probe's reviews`)
    slow = slowest(logs, ofProbe, containerStarts(), 3)
  }
  const row = webhook === 'hitless' ? attributionRow(`probe: ${label}`, attribution({ hitless: hitlessAfter, apiserver: apiAfter }, { hitless: hitlessBefore, apiserver: apiBefore })) : undefined
  const result: Probe = { label, webhook, client, apiserverWebhook, hitlessOwn, slowest: slow, attributionRow: row }
  probes.push(result)
  t.comment(`  probe, ${label}: ${PROBE_WRITES} dry-run writes, client p50 / p90 / max ${probeCell(client)}`)
  if (apiserverWebhook) t.comment(`    ${latencyLine('its webhook calls as the API server timed them', apiserverWebhook)}`)
  if (hitlessOwn) t.comment(`    hitless's own time for them: ${hitlessOwn.reviews} reviews, p50 ${hitlessOwn.p50Ms} ms, p90 ${hitlessOwn.p90Ms} ms, max ${hitlessOwn.maxMs} ms`)
  for (const r of slow) t.comment(`    slow: ${slowLine(r)}`)
  if (row) t.comment(`    attribution:\n${ATTRIBUTION_HEADER}\n${row}`)
  t.comment(`    every call (ms): ${client.latenciesMs.join(' ')}`)
  return result
}

/** The probes side by side: what each webhook adds to a write's median over the probe with no webhook. */
function probeTable(): string {
  const none = probes.find((p) => p.webhook === 'none')
  const lines = probes.map((p) => {
    const added = none && p !== none ? `${Math.round((p.client.p50Ms - none.client.p50Ms) * 100) / 100} ms` : '–'
    const own = p.hitlessOwn ? `${p.hitlessOwn.p50Ms} / ${p.hitlessOwn.p90Ms} / ${p.hitlessOwn.maxMs} ms` : '–'
    return `| ${p.label} | ${p.client.p50Ms} / ${p.client.p90Ms} / ${p.client.maxMs} ms | ${added} | ${p.apiserverWebhook?.distribution ?? '–'} | ${own} |`
  })
  return ['| probe (50 dry-run writes) | client p50 / p90 / max | p50 − p50(no webhook) | API server: webhook calls per bucket | hitless\'s own p50 / p90 / max |', '|---|---|---|---|---|', ...lines].join('\n')
}

const runs: Run[] = []

function latency(buckets: Bucket[]): WebhookLatency | undefined {
  const p50 = quantile(buckets, 0.5)
  const p99 = quantile(buckets, 0.99)
  if (!p50 || !p99) return undefined
  const ms = (s: number) => Math.round(s * 10_000) / 10
  const distribution = buckets
    .map((b, i) => ({ le: b.le, n: b.count - (buckets[i - 1]?.count ?? 0) }))
    .filter((b) => b.n > 0)
    .map((b) => `${b.n} ${b.le === Infinity ? 'slower' : `≤ ${ms(b.le)} ms`}`)
    .join(', ')
  return { calls: p99.count, p50Ms: ms(p50.value), p99Ms: ms(p99.value), p99AtMostMs: ms(p99.bound), distribution, buckets }
}

/** Bucket-wise sum of histograms with the same bounds. */
function sum(histograms: Bucket[][]): Bucket[] {
  const [first = []] = histograms
  return first.map(({ le }) => ({ le, count: histograms.reduce((n, h) => n + (h.find((b) => b.le === le)?.count ?? 0), 0) }))
}

function latencyLine(label: string, l: WebhookLatency): string {
  return `${label}: ${l.calls} calls, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms (at most ${l.p99AtMostMs} ms); ${l.distribution}`
}

const ours = (labels: string) => /name="(mutate|validate)\.hitless\.dev"/.test(labels)

const loadAverage = async () => Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0])

/**
 * The Deployment and its Service; `container` goes into the container (a readinessProbe, a
 * lifecycle), `grace` is the pod's terminationGracePeriodSeconds.
 */
function manifest(namespace: string, name: string, container: Record<string, unknown> = {}, grace?: number): string {
  const app = { name: 'app', image: cluster.get('HITLESS_NODE_APP_IMAGE'), imagePullPolicy: 'Never', ports: [{ containerPort: APP_PORT }], ...container }
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:${grace === undefined ? '' : `
      terminationGracePeriodSeconds: ${grace}`}
      containers:
      - ${JSON.stringify(app)}
`
}

/**
 * A PodDisruptionBudget (policy/v1beta1: the node runs v1.20) over every Deployment of the namespace
 * (each has an app label): drains are not what this proof is about, so pdb-missing has nothing to say.
 */
function disruptionBudget(namespace: string): string {
  return `apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: apps, namespace: ${namespace}}
spec: {maxUnavailable: 1, selector: {matchExpressions: [{key: app, operator: Exists}]}}
`
}

function service(namespace: string, name: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec: {selector: {app: ${name}}, ports: [{port: 80, targetPort: ${APP_PORT}}]}
`
}

async function namespace(name: string, labels: string[] = []): Promise<void> {
  cluster.must(['create', 'namespace', name])
  if (labels.length > 0) cluster.must(['label', 'namespace', name, ...labels])
  // Pods need the namespace's default ServiceAccount, which the controller-manager makes.
  await waitFor(`the default ServiceAccount in ${name}`, async () => cluster.kubectl(['get', 'serviceaccount', 'default', '-n', name]).status === 0, 60_000)
}

/** The pods of a Deployment that are not being deleted. */
function pods(namespace: string, name: string): string[] {
  const list = JSON.parse(cluster.must(['get', 'pods', '-n', namespace, '-l', `app=${name}`, '-o', 'json']))
  return list.items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name as string)
}

const allowed = () => [cluster.get('HITLESS_NODE_POD_CIDR'), cluster.get('HITLESS_NODE_SERVICE_CIDR')]

/** Creates the Service, waits for the Deployment, and restarts it under load; checks the rollout happened within the load. */
async function rolloutUnderLoad(t: Test, variant: string, namespace: string, name: string, webhook: Webhook, description: string, restartAt: number[] = [RESTART_AT]): Promise<Run> {
  const hitless = webhook === 'hitless'
  const svc = cluster.kubectl(['apply', '-f', '-'], service(namespace, name))
  t.equal(svc.status, 0, `a fresh Service ${namespace}/${name}`, { stderr: svc.stderr })
  cluster.must(['rollout', 'status', `deployment/${name}`, '-n', namespace, '--timeout=180s'])
  const ip = cluster.must(['get', 'service', name, '-n', namespace, '-o', 'jsonpath={.spec.clusterIP}']).trim()
  const before = pods(namespace, name)
  t.equal(before.length, 2, 'two replicas before the restart')
  // Both pods answer through the Service before the load starts.
  await waitFor(`both pods of ${namespace}/${name} answering through the Service`, async () => {
    const warm = await runLoad({ host: ip, port: 80, allowed: allowed(), rate: 20, seconds: 1, timeoutMs: 2000 })
    return warm.failed === 0 && before.every((pod) => (warm.backends[pod] ?? 0) > 0)
  }, 90_000)

  const apiBefore = await cluster.apiMetrics()
  const hitlessBefore = hitless ? await cluster.hitlessMetrics() : []
  const allowAllBefore = webhook === 'allow-all' ? await cluster.allowAll() : undefined
  const restarts: KubectlResult[] = []
  const loadAtStart = await loadAverage()
  const loadStarted = Date.now()
  const result = await runLoad({
    host: ip,
    port: 80,
    allowed: allowed(),
    rate: RATE,
    seconds: SECONDS,
    timeoutMs: TIMEOUT_MS,
    events: restartAt.map((second) => ({ second, run: async () => void restarts.push(await cluster.kubectlAsync(['rollout', 'restart', `deployment/${name}`, '-n', namespace])) })),
  })
  const loadAtEnd = await loadAverage()
  const apiAfter = await cluster.apiMetrics()
  const hitlessAfter = hitless ? await cluster.hitlessMetrics() : []
  const allowAllAfter = webhook === 'allow-all' ? await cluster.allowAll() : undefined
  t.ok(restarts.length === restartAt.length && restarts.every((r) => r.status === 0), `kubectl rollout restart at ${restartAt.join(' and ')} s`, { stderr: restarts.map((r) => r.stderr) })
  cluster.must(['rollout', 'status', `deployment/${name}`, '-n', namespace, '--timeout=60s'])
  const after = pods(namespace, name)
  t.same(after.filter((pod) => before.includes(pod)), [], 'every pod was replaced')
  t.ok(after.length === 2 && after.every((pod) => (result.backends[pod] ?? 0) > 0), 'the new pods served requests within the load: the rollout finished inside it', { backends: result.backends })
  t.equal(result.requests, RATE * SECONDS, `${RATE * SECONDS} requests, each on a new connection`)

  const attributed = webhook === 'none' ? undefined : attribution({ hitless: hitlessAfter, apiserver: apiAfter }, { hitless: hitlessBefore, apiserver: apiBefore })
  // The baseline's own loop delay (it has no /metrics): the worst replica's.
  if (attributed && allowAllAfter && allowAllAfter.loop.length > 0) {
    const worst = (pick: (l: LoopDelay) => number) => Math.max(...allowAllAfter.loop.map(pick))
    attributed.loopDelay = { count: allowAllAfter.loop.reduce((n, l) => n + l.count, 0), p50Ms: worst((l) => l.p50Ms), p99Ms: worst((l) => l.p99Ms), maxAtMostMs: worst((l) => l.maxMs), maxMs: worst((l) => l.maxMs) }
  }
  const run: Run = {
    variant,
    webhook,
    manifest: description,
    loadAverage: { atStart: loadAtStart, atEnd: loadAtEnd },
    requests: result.requests,
    ok: result.ok,
    failed: result.failed,
    byKind: result.byKind,
    failureSeconds: failureTimeline(result),
    okLatencyMs: result.latency,
    backends: result.backends,
    apiserverWebhook: webhook !== 'none' ? latency(delta(histogram(apiAfter, 'apiserver_admission_webhook_admission_duration_seconds', ours), histogram(apiBefore, 'apiserver_admission_webhook_admission_duration_seconds', ours))) : undefined,
    hitlessReview: hitless ? latency(delta(histogram(hitlessAfter.join('\n'), 'hitless_review_duration_seconds', () => true), histogram(hitlessBefore.join('\n'), 'hitless_review_duration_seconds', () => true))) : undefined,
    slowestReviews: hitless ? slowest(await cluster.hitlessLog(), (line) => line.time >= loadStarted, containerStarts()) : [],
    attribution: attributed,
    attributionRow: attributed && attributionRow(`${variant} (load ${loadAtStart}–${loadAtEnd})`, attributed),
    ...(allowAllAfter && allowAllBefore ? { allowAll: { reviews: allowAllAfter.reviews - allowAllBefore.reviews, loop: allowAllAfter.loop } } : {}),
  }
  runs.push(run)
  const kinds = FAILURE_KINDS.filter((k) => result.byKind[k] > 0).map((k) => `${result.byKind[k]} ${k}`).join(', ')
  t.comment(`${variant}: ${result.failed} of ${result.requests} requests failed${kinds ? ` (${kinds})` : ''}; ok latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; load average ${loadAtStart} at the start, ${loadAtEnd} at the end`)
  for (const line of run.failureSeconds) t.comment(`  ${line}`)
  const who = hitless ? "hitless's webhooks" : 'the allow-all webhooks'
  if (run.apiserverWebhook) t.comment(`  ${latencyLine(`${who} as the API server timed them`, run.apiserverWebhook)}`)
  if (run.hitlessReview) t.comment(`  ${latencyLine("hitless's own review time", run.hitlessReview)}`)
  if (run.attributionRow) t.comment(`  attribution:\n${ATTRIBUTION_HEADER}\n${run.attributionRow}`)
  for (const r of run.slowestReviews) t.comment(`  slow: ${slowLine(r)}`)
  // After the rollout's scrapes: the probe's calls are in its own row, not the rollout's.
  run.probe = await probeWrites(t, `${variant}, after the rollout`, namespace, name, webhook)
  return run
}

/** The rule ids of hitless's Warning: lines in kubectl's stderr (in audit mode: "[audit] hitless [rule]: ..."). */
function warnedRules(stderr: string): string[] {
  return [...new Set([...stderr.matchAll(/^Warning: (?:\[audit\] )?hitless \[([a-z-]+)\]/gm)].map((m) => m[1]!))].sort()
}

/** The YAML under "fix:" of a rule's entry in hitless's deny message, parsed. */
function suggestedFix(message: string, rule: string): any {
  const lines = message.split('\n')
  const entry = lines.findIndex((line) => line.includes(`[${rule}]`))
  const fix = lines.findIndex((line, i) => i > entry && line.trim() === 'fix:')
  if (entry < 0 || fix < 0) return undefined
  const body: string[] = []
  for (const line of lines.slice(fix + 1)) {
    if (!line.startsWith('    ')) break
    body.push(line.slice(4))
  }
  return parse(body.join('\n'))
}

function proof(up: ScriptResult): void {
  t.test('1. hitless not registered: the manifest a user would write loses requests in a rollout', async (t) => {
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease', 'default']) cluster.must(['label', 'namespace', ns, 'hitless.dev/ignore=true', '--overwrite'])
    await namespace('proof-none')
    cluster.must(['apply', '-f', '-'], manifest('proof-none', 'app'))
    const run = await rolloutUnderLoad(t, 'no hitless', 'proof-none', 'app', 'none', 'no readinessProbe, no preStop')
    t.ok(run.failed > 0, `failures are seen: ${run.failed}`)
    cluster.kubectl(['delete', 'namespace', 'proof-none', '--wait=false'])
  })

  let probe: unknown
  let injectedPreStop: unknown
  let grace: number | undefined
  t.test('2. hitless installed (enforce): denied with the fix; fixed, patched, and a rollout loses nothing', async (t) => {
    const seconds = await cluster.installHitless('enforce')
    const replicas = cluster.hitlessPods()
    t.equal(replicas.filter((p) => p.ready).length, 3, `3 replicas Ready, installed in ${seconds} s`, { replicas })
    t.comment(`hitless installed (kubectl apply -k manifests/overlays/enforce, certs-script --apply, 3 replicas Ready) in ${seconds} s`)
    await namespace('proof-enforce')
    // The API server calls webhooks once its informer has the configuration: retry until hitless answers.
    let denied: KubectlResult = { status: 0, stdout: '', stderr: '' }
    await waitFor('hitless to judge the Deployment', async () => {
      denied = cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('proof-enforce', 'app'))
      return denied.stderr.includes('hitless')
    }, 30_000)
    denied = cluster.kubectl(['apply', '-f', '-'], manifest('proof-enforce', 'app'))
    t.not(denied.status, 0, 'the manifest without a readinessProbe is denied')
    t.match(denied.stderr, /admission webhook "validate\.hitless\.dev" denied the request: hitless: Deployment proof-enforce\/app has 1 problem/)
    t.match(denied.stderr, /\[readiness-probe\] container "app" has no readinessProbe/, 'naming the rule')
    t.not(cluster.kubectl(['get', 'deployment', 'app', '-n', 'proof-enforce']).status, 0, 'nothing was stored')
    const fix = suggestedFix(denied.stderr, 'readiness-probe')
    probe = fix?.spec?.template?.spec?.containers?.[0]?.readinessProbe
    t.ok(probe, 'the message suggests a readinessProbe', { fix })

    const admitted = cluster.kubectl(['apply', '-f', '-'], manifest('proof-enforce', 'app', { readinessProbe: probe }))
    t.equal(admitted.status, 0, 'with the suggested readinessProbe the manifest is admitted', { stderr: admitted.stderr })
    t.match(admitted.stderr, /Warning: hitless \[pre-stop\]: added a 5s preStop sleep to container "app"/, 'hitless says what it injected')
    const spec = JSON.parse(cluster.must(['get', 'deployment', 'app', '-n', 'proof-enforce', '-o', 'json'])).spec.template.spec
    injectedPreStop = spec.containers[0].lifecycle?.preStop
    t.same(injectedPreStop, { exec: { command: ['sleep', '5'] } }, 'the stored Deployment has the preStop sleep (exec on v1.20)')
    t.ok(spec.terminationGracePeriodSeconds >= 5 + 10, `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} covers the 5 s sleep and 10 s to drain`)

    grace = spec.terminationGracePeriodSeconds
    // Replicas that have answered only the few reviews above: what a write sees from a fresh install.
    await probeWrites(t, 'hitless enforce, fresh replicas', 'proof-enforce', 'app', 'hitless')
    const run = await rolloutUnderLoad(t, 'hitless enforce', 'proof-enforce', 'app', 'hitless', 'the suggested readinessProbe; preStop sleep and grace period by hitless')
    t.equal(run.failed, 0, 'no request fails', { byKind: run.byKind, seconds: run.failureSeconds })
    cluster.kubectl(['delete', 'namespace', 'proof-enforce', '--wait=false'])
  })

  t.test('3. audit: admitted with warnings that name exactly the rules whose absence fails requests', async (t) => {
    await namespace('proof-audit', ['hitless.dev/mode=audit'])
    // The namespace has a PDB over its Deployments, so pdb-missing (drains, not rollouts) has nothing to
    // say; wait until hitless's cache has it.
    cluster.must(['apply', '-f', '-'], disruptionBudget('proof-audit'))
    await waitFor('the PDB in hitless\'s cache', async () => !cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('proof-audit', 'app')).stderr.includes('pdb-missing'), 60_000)
    const admitted = cluster.kubectl(['apply', '-f', '-'], manifest('proof-audit', 'app'))
    t.equal(admitted.status, 0, 'the manifest a user would write is admitted', { stderr: admitted.stderr })
    const rules = warnedRules(admitted.stderr)
    t.same(rules, ['pre-stop', 'readiness-probe'], 'warnings name readiness-probe and pre-stop', { stderr: admitted.stderr })
    t.match(admitted.stderr, /Warning: \[audit\] hitless \[readiness-probe\]: would deny/)
    t.match(admitted.stderr, /Warning: \[audit\] hitless \[pre-stop\]: would patch/)
    t.notOk(JSON.parse(cluster.must(['get', 'deployment', 'app', '-n', 'proof-audit', '-o', 'json'])).spec.template.spec.containers[0].lifecycle, 'nothing is patched in audit mode')
    cluster.must(['delete', 'deployment', 'app', '-n', 'proof-audit'])

    // Each warned rule is needed: every other warned rule fixed (as in variant 2), that one missing.
    const fixes: Record<string, Record<string, unknown>> = { 'readiness-probe': { readinessProbe: probe }, 'pre-stop': { lifecycle: { preStop: injectedPreStop } } }
    for (const missing of rules) {
      const container = Object.assign({}, ...rules.filter((rule) => rule !== missing).map((rule) => fixes[rule] ?? {}))
      const name = `without-${missing}`
      const applied = cluster.kubectl(['apply', '-f', '-'], manifest('proof-audit', name, container))
      t.equal(applied.status, 0, `${name}: admitted`, { stderr: applied.stderr })
      t.same(warnedRules(applied.stderr), [missing], `${name}: the warnings name only ${missing}`, { stderr: applied.stderr })
      // Two restarts (four pods replaced): without pre-stop alone, a termination loses a few requests
      // or, when kube-proxy wins the race with the kubelet, none; four of them lose some.
      const run = await rolloutUnderLoad(t, `audit, only ${missing} missing`, 'proof-audit', name, 'hitless', `every warned rule fixed but ${missing}; restarts at ${ABLATION_RESTARTS.join(' and ')} s`, ABLATION_RESTARTS)
      t.ok(run.failed > 0, `without ${missing} alone requests fail: ${run.failed}`)
      cluster.kubectl(['delete', 'deployment', name, '-n', 'proof-audit', '--wait=false'])
    }
    cluster.kubectl(['delete', 'namespace', 'proof-audit', '--wait=false'])
  })

  t.test('4. the baseline: an allow-all webhook installed the same way, and the enforce rollout again', async (t) => {
    const seconds = await cluster.installAllowAll()
    const replicas = cluster.hitlessPods()
    t.equal(replicas.filter((p) => p.ready).length, 3, `3 allow-all replicas Ready (the hitless install, its container running allow-all-webhook.ts), in ${seconds} s`, { replicas })
    await namespace('proof-allow')
    // What hitless denies is admitted unchanged, once the API server reaches only allow-all replicas.
    await waitFor('the allow-all webhook to answer', async () => {
      const before = (await cluster.allowAll()).reviews
      const dry = cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest('proof-allow', 'app'))
      return dry.status === 0 && !dry.stderr.includes('hitless') && (await cluster.allowAll()).reviews > before
    }, 60_000)
    // Variant 2's Deployment as hitless stored it: the suggested readinessProbe, the injected preStop, its grace period.
    const applied = cluster.kubectl(['apply', '-f', '-'], manifest('proof-allow', 'app', { readinessProbe: probe, lifecycle: { preStop: injectedPreStop } }, grace))
    t.equal(applied.status, 0, "variant 2's Deployment is admitted", { stderr: applied.stderr })
    t.notMatch(applied.stderr, /hitless/, 'with no word from hitless')
    await probeWrites(t, 'allow-all, fresh replicas', 'proof-allow', 'app', 'allow-all')
    const run = await rolloutUnderLoad(t, 'allow-all baseline', 'proof-allow', 'app', 'allow-all', "variant 2's stored Deployment; an allow-all webhook in hitless's place")
    t.ok((run.allowAll?.reviews ?? 0) > 0 && (run.apiserverWebhook?.calls ?? 0) > 0, `the allow-all replicas answered the rollout's reviews: ${run.allowAll?.reviews} (the API server timed ${run.apiserverWebhook?.calls ?? 0} calls)`, { loop: run.allowAll?.loop })
    cluster.kubectl(['delete', 'namespace', 'proof-allow', '--wait=false'])
  })

  t.test('the cluster goes down and leaves the machine as found', async (t) => {
    const rows = [...runs.filter((run) => run.attributionRow).map((run) => run.attributionRow), ...probes.filter((p) => p.attributionRow).map((p) => p.attributionRow)]
    t.comment(`latency attribution, every run with a webhook:\n${ATTRIBUTION_HEADER}\n${rows.join('\n')}`)
    t.comment(`dry-run probes, every variant:\n${probeTable()}`)
    // The latency hitless added over every rollout it saw, pooled: a few dozen calls.
    const pooled = (pick: (run: Run) => WebhookLatency | undefined) => latency(sum(runs.filter((run) => run.webhook === 'hitless').map(pick).filter((l) => l !== undefined).map((l) => l.buckets)))
    const apiserverWebhook = pooled((run) => run.apiserverWebhook)
    const hitlessReview = pooled((run) => run.hitlessReview)
    if (apiserverWebhook) t.comment(latencyLine("all rollouts, hitless's webhooks as the API server timed them", apiserverWebhook))
    if (hitlessReview) t.comment(latencyLine("all rollouts, hitless's own review time", hitlessReview))
    await mkdir(fileURLToPath(new URL('.', `file://${RESULTS}`)), { recursive: true })
    await writeFile(RESULTS, JSON.stringify({ date: new Date().toISOString(), clusterUpSeconds: up.seconds, rate: RATE, seconds: SECONDS, restartAt: RESTART_AT, timeoutMs: TIMEOUT_MS, runs, probes, probeTable: probeTable(), pooled: { apiserverWebhook, hitlessReview }, attributionHeader: ATTRIBUTION_HEADER }, null, 2))
    t.comment(`results: ${RESULTS}`)
    await finish(t, cluster)
  })
}
