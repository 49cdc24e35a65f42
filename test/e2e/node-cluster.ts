// The one-node cluster of test/e2e/node-cluster.sh seen from a test: bring it up (its output, with the
// failing component's log tail, is the failure message), kubectl against it, hitless in it as users
// install it: the shipped manifests (its image built from the Dockerfile), the API server's and
// hitless's /metrics, hitless's log.
import { execFile, spawnSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { httpsGet, type KubectlResult } from './cluster.ts'

const SCRIPT = fileURLToPath(new URL('./node-cluster.sh', import.meta.url))
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const CERTS = join(REPO, 'certs-script', 'generate.sh')
export const HITLESS_NAMESPACE = 'hitless-system'

export interface HitlessPod {
  name: string
  ip: string
  ready: boolean
  restarts: number
  image: string
  startedAt?: string
  readyAt?: string
}

/** The shipped overlay at `overlay` (relative), with the one change a v1.20 cluster needs, and `extra` lines. */
function installKustomization(overlay: string, extra = ''): string {
  return `# Made by test/e2e/node-cluster.ts: the shipped overlay as a v1.20 cluster takes it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [${overlay}]
patches:
  - target: {group: policy, version: v1, kind: PodDisruptionBudget}
    patch: |-
      - {op: replace, path: /apiVersion, value: policy/v1beta1}
${extra}`
}

const ALLOW_ALL = fileURLToPath(new URL('./node/allow-all-webhook.ts', import.meta.url))

/**
 * What turns the installed hitless into the allow-all baseline: the same Deployment, Service, probes,
 * certificate and webhook configurations; the container runs test/e2e/node/allow-all-webhook.ts
 * (from a ConfigMap, as .mts) with the image's node instead of hitless.
 */
const ALLOW_ALL_PATCH = `  - target: {group: apps, version: v1, kind: Deployment, name: hitless}
    patch: |-
      - {op: add, path: /spec/template/spec/containers/0/command, value: [/usr/local/bin/node, /opt/allow-all/allow-all-webhook.mts]}
      - {op: add, path: /spec/template/spec/containers/0/args, value: []}
      - {op: add, path: /spec/template/spec/volumes/-, value: {name: allow-all, configMap: {name: allow-all-webhook}}}
      - {op: add, path: /spec/template/spec/containers/0/volumeMounts/-, value: {name: allow-all, mountPath: /opt/allow-all, readOnly: true}}
configMapGenerator:
  - name: allow-all-webhook
    namespace: ${HITLESS_NAMESPACE}
    files: [allow-all-webhook.mts=allow-all-webhook.ts]
`

/** How late a process's event loop ran a timer due every 10 ms (test/e2e/node/allow-all-webhook.ts's /loop). */
export interface LoopDelay {
  count: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export interface ScriptResult {
  ok: boolean
  seconds: number
  output: string
}

function script(command: 'up' | 'down' | 'status', timeoutMs: number): ScriptResult {
  const started = performance.now()
  const run = spawnSync('bash', [SCRIPT, command], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.message}` : ''}`
  return { ok: run.status === 0, seconds: Math.round((performance.now() - started) / 100) / 10, output }
}

/** One bucket row of a Prometheus histogram: upper bound and cumulative count. */
export interface Bucket {
  le: number
  count: number
}

/** Cumulative buckets of a histogram summed over the series whose labels match, from /metrics text. */
export function histogram(text: string, metric: string, match: (labels: string) => boolean): Bucket[] {
  const sums = new Map<number, number>()
  for (const line of text.split('\n')) {
    const m = /^(\w+)_bucket\{(.*)\} (\S+)$/.exec(line)
    if (!m || m[1] !== metric || !match(m[2]!)) continue
    const le = /(?:^|,)le="([^"]+)"/.exec(m[2]!)?.[1]
    if (le === undefined) continue
    const bound = le === '+Inf' ? Infinity : Number(le)
    sums.set(bound, (sums.get(bound) ?? 0) + Number(m[3]))
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }))
}

/** after - before, bucket by bucket (the observations in between). */
export function delta(after: Bucket[], before: Bucket[]): Bucket[] {
  return after.map(({ le, count }) => ({ le, count: count - (before.find((b) => b.le === le)?.count ?? 0) }))
}

/**
 * A quantile of cumulative buckets, interpolated linearly inside its bucket as Prometheus's
 * histogram_quantile does; `bound` is the bucket's upper bound (the quantile is at most that).
 */
export function quantile(buckets: Bucket[], q: number): { count: number; value: number; bound: number } | undefined {
  const total = buckets.at(-1)?.count ?? 0
  if (total === 0) return undefined
  const rank = q * total
  let previous = { le: 0, count: 0 }
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return { count: total, value: previous.le, bound: Infinity }
      const inBucket = bucket.count - previous.count
      const value = previous.le + (bucket.le - previous.le) * (inBucket === 0 ? 1 : (rank - previous.count) / inBucket)
      return { count: total, value, bound: bucket.le }
    }
    previous = bucket
  }
  return undefined
}

export class NodeCluster {
  env: Record<string, string> = {}

  up(): ScriptResult {
    // Cold, this builds five Kubernetes binaries (about 4 min on 2 cores); warm it takes about 20 s.
    return script('up', 45 * 60_000)
  }

  /** Set once `down` has run. */
  isDown = false

  down(): ScriptResult {
    this.isDown = true
    return script('down', 5 * 60_000)
  }

  /** Each component running or not, and the node; fails when one is not running. */
  status(): ScriptResult {
    return script('status', 60_000)
  }

  async load(): Promise<void> {
    const state = process.env['HITLESS_NODE_STATE'] ?? '/var/lib/hitless-node'
    const text = await readFile(join(state, 'cluster.env'), 'utf8')
    this.env = Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  }

  get(name: string): string {
    const value = this.env[name]
    if (value === undefined) throw new Error(`${name} is not in the cluster's cluster.env`)
    return value
  }

  /** The tail of a component's log (etcd, kube-apiserver, kubelet, containerd, kube-proxy, ...). */
  async logTail(component: string, lines = 40): Promise<string> {
    try {
      return (await readFile(join(this.get('HITLESS_NODE_LOGS'), `${component}.log`), 'utf8')).split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }

  kubectl(args: string[], stdin?: string): KubectlResult {
    const result = spawnSync('kubectl', ['--kubeconfig', this.get('HITLESS_NODE_KUBECONFIG'), '--cache-dir', join(this.get('HITLESS_NODE_STATE'), 'kube-cache'), ...args], {
      input: stdin ?? '',
      encoding: 'utf8',
      timeout: 60_000,
    })
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  /** kubectl without blocking the event loop (while a load runs in this process). */
  kubectlAsync(args: string[]): Promise<KubectlResult> {
    return new Promise((resolve) => {
      execFile('kubectl', ['--kubeconfig', this.get('HITLESS_NODE_KUBECONFIG'), '--cache-dir', join(this.get('HITLESS_NODE_STATE'), 'kube-cache'), ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
      })
    })
  }

  /** kubectl that must succeed; returns stdout. */
  must(args: string[], stdin?: string): string {
    const result = this.kubectl(args, stdin)
    if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`)
    return result.stdout
  }

  async apiMetrics(): Promise<string> {
    const { status, body } = await httpsGet(`${this.get('HITLESS_NODE_API_URL')}/metrics`, await readFile(this.get('HITLESS_NODE_CA'), 'utf8'), this.get('HITLESS_NODE_TOKEN'))
    if (status !== 200) throw new Error(`API server /metrics answered ${status}`)
    return body
  }

  /**
   * hitless's /metrics, one text per running replica, through the API server's pod proxy, as a
   * scraper in the cluster would reach them.
   */
  async hitlessMetrics(): Promise<string[]> {
    return Promise.all(this.hitlessPods().map(async (pod) => {
      const got = await this.kubectlAsync(['get', '--raw', `/api/v1/namespaces/${HITLESS_NAMESPACE}/pods/https:${pod.name}:8443/proxy/metrics`])
      if (got.status !== 0) throw new Error(`hitless /metrics of ${pod.name}: ${got.stderr}`)
      return got.stdout
    }))
  }

  /**
   * The allow-all baseline's running replicas (through the API server's pod proxy to their probe
   * port): the reviews they answered, summed, and each one's loop delay since the last call (which
   * starts it afresh).
   */
  async allowAll(): Promise<{ reviews: number; loop: LoopDelay[] }> {
    const get = async (pod: string, path: string) => {
      const got = await this.kubectlAsync(['get', '--raw', `/api/v1/namespaces/${HITLESS_NAMESPACE}/pods/http:${pod}:8081/proxy/${path}`])
      if (got.status !== 0) throw new Error(`allow-all /${path} of ${pod}: ${got.stderr}`)
      return got.stdout
    }
    const replicas = await Promise.all(this.hitlessPods().map(async (pod) => ({ reviews: Number(await get(pod.name, 'reviews')), loop: JSON.parse(await get(pod.name, 'loop')) as LoopDelay })))
    return { reviews: replicas.reduce((n, r) => n + r.reviews, 0), loop: replicas.map((r) => r.loop) }
  }

  /** hitless's pods that are not being deleted, with their IP, phase, readiness and container restarts. */
  hitlessPods(): HitlessPod[] {
    const list = JSON.parse(this.must(['get', 'pods', '-n', HITLESS_NAMESPACE, '-l', 'app=hitless', '-o', 'json']))
    return list.items
      .filter((p: any) => !p.metadata.deletionTimestamp)
      .map((p: any) => ({
        name: p.metadata.name,
        ip: p.status.podIP ?? '',
        ready: (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
        restarts: p.status.containerStatuses?.[0]?.restartCount ?? 0,
        image: p.spec.containers[0].image,
        startedAt: p.status.containerStatuses?.[0]?.state?.running?.startedAt,
        readyAt: (p.status.conditions ?? []).find((c: any) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime,
      }))
  }

  /** The JSON log lines of every running hitless replica (kubectl logs), parsed; other lines dropped. */
  async hitlessLog(): Promise<Record<string, any>[]> {
    const lines: Record<string, any>[] = []
    for (const pod of this.hitlessPods()) {
      const got = await this.kubectlAsync(['logs', '-n', HITLESS_NAMESPACE, pod.name])
      for (const line of got.stdout.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          lines.push({ pod: pod.name, ...JSON.parse(line) })
        } catch {}
      }
    }
    return lines
  }

  /**
   * hitless installed as its README says: `kubectl apply -k` of a shipped overlay, then
   * certs-script/generate.sh --apply (the TLS Secret and both caBundles), then the rollout of the 3
   * replicas. The one change v1.20 needs is made by a kustomization on top (kept in the state dir):
   * the PodDisruptionBudget as policy/v1beta1 (policy/v1 is 1.21+). Returns the seconds it took.
   */
  async installHitless(overlay: 'enforce' | 'fail-closed' | 'reports'): Promise<number> {
    const dir = join(this.get('HITLESS_NODE_STATE'), 'install', overlay)
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'kustomization.yaml'), installKustomization(relative(dir, join(REPO, 'manifests', 'overlays', overlay))))
    return this.install(dir)
  }

  /**
   * The allow-all baseline installed exactly as hitless is (installHitless('enforce'), same image),
   * but its container runs test/e2e/node/allow-all-webhook.ts: over an installed hitless, a rollout of
   * its Deployment. installHitless again turns it back. Returns the seconds it took.
   */
  async installAllowAll(): Promise<number> {
    const dir = join(this.get('HITLESS_NODE_STATE'), 'install', 'allow-all')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'allow-all-webhook.ts'), await readFile(ALLOW_ALL))
    await writeFile(join(dir, 'kustomization.yaml'), installKustomization(relative(dir, join(REPO, 'manifests', 'overlays', 'enforce')), ALLOW_ALL_PATCH))
    return this.install(dir)
  }

  private async install(dir: string): Promise<number> {
    const started = performance.now()
    this.certsDir = join(this.get('HITLESS_NODE_STATE'), 'hitless-certs')
    this.installed = dir
    this.must(['apply', '-k', dir])
    const certs = spawnSync('bash', [CERTS, '--apply', '--out', this.certsDir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KUBECONFIG: this.get('HITLESS_NODE_KUBECONFIG') } })
    if (certs.status !== 0) throw new Error(`certs-script/generate.sh --apply failed: ${certs.stdout}${certs.stderr}`)
    this.must(['rollout', 'status', 'deployment/hitless', '-n', HITLESS_NAMESPACE, '--timeout=300s'])
    return Math.round((performance.now() - started) / 100) / 10
  }

  /** Where certs-script/ keeps the CA and the serving certificate (after installHitless). */
  certsDir = ''
  /** The kustomization last applied (after installHitless). */
  installed = ''

  /** certs-script/generate.sh --apply again: a new serving certificate into the Secret, caBundle patched. */
  rotateCertificate(): { ok: boolean; output: string } {
    const certs = spawnSync('bash', [CERTS, '--apply', '--out', this.certsDir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KUBECONFIG: this.get('HITLESS_NODE_KUBECONFIG') } })
    return { ok: certs.status === 0, output: `${certs.stdout}${certs.stderr}` }
  }
}

const keep = () => process.env['HITLESS_NODE_KEEP'] === '1'

/**
 * The cluster for one test file: brought up now (a cluster that does not start is a failing test with
 * the component's log tail, never a skip), taken down by `finish` or, if the file ends before it, in
 * teardown; HITLESS_NODE_KEEP=1 leaves it up. `tests` registers the file's subtests (with no await in
 * between: tap ends the file when its queue runs dry) and runs only when the cluster came up.
 */
export async function withNodeCluster(t: Test, cluster: NodeCluster, tests: (up: ScriptResult) => void): Promise<void> {
  t.teardown(async () => {
    if (!cluster.isDown && !keep()) {
      const down = cluster.down()
      if (!down.ok) console.error(down.output)
    }
  })
  const up = cluster.up()
  if (up.ok) await cluster.load()
  t.test('the one-node cluster comes up', async (t) => {
    t.ok(up.ok, `node-cluster.sh up (${up.seconds} s)`, { output: up.output.split('\n').slice(-80).join('\n') })
    t.comment(`cluster up in ${up.seconds} s`)
  })
  if (up.ok) return tests(up)
  const down = cluster.down()
  if (!down.ok) console.error(down.output)
}

/** The last subtest's end: the components' and hitless's log tails after a failure, then `down`. */
export async function finish(t: Test, cluster: NodeCluster): Promise<void> {
  // `down` removes the logs with the rest: after a failure, their tails go to the output first.
  if (!t.parent?.passing()) {
    for (const component of ['kube-apiserver', 'kube-controller-manager', 'kubelet', 'containerd', 'kube-proxy']) t.comment(`${component} log, last 25 lines:\n${await cluster.logTail(component, 25)}`)
    t.comment(`hitless log, last 25 lines:\n${(await cluster.hitlessLog()).slice(-25).map((l) => JSON.stringify(l)).join('\n')}`)
  }
  if (keep()) return void t.pass('HITLESS_NODE_KEEP=1: left up')
  const down = cluster.down()
  t.ok(down.ok, `node-cluster.sh down (${down.seconds} s)`, { output: down.output })
  t.comment(`cluster down in ${down.seconds} s`)
}
