// The one-node cluster of test/e2e/node-cluster.sh seen from a test: bring it up (its output, with the
// failing component's log tail, is the failure message), kubectl against it, hitless serving it as a
// registered webhook (a certificate from the cluster's CA), the API server's and hitless's /metrics.
import { execFile, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, httpsGet, openssl, start, stopProcess, waitFor, type KubectlResult } from './cluster.ts'

const SCRIPT = fileURLToPath(new URL('./node-cluster.sh', import.meta.url))
const BIN = fileURLToPath(new URL('../../bin/hitless.js', import.meta.url))

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
  hitlessUrl = ''
  readonly hitlessLogs: string[] = []
  private hitless?: ChildProcess
  private dir = ''

  up(): ScriptResult {
    // Cold, this builds five Kubernetes binaries (about 4 min on 2 cores); warm it takes about 20 s.
    return script('up', 45 * 60_000)
  }

  down(): ScriptResult {
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

  async hitlessMetrics(): Promise<string> {
    const { status, body } = await httpsGet(`${this.hitlessUrl}/metrics`, await readFile(this.get('HITLESS_NODE_CA'), 'utf8'))
    if (status !== 200) throw new Error(`hitless /metrics answered ${status}`)
    return body
  }

  /** hitless serve on loopback with a certificate from the cluster's CA, watching the cluster. */
  async startHitless(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'hitless-node-'))
    const d = this.dir
    const pki = join(this.get('HITLESS_NODE_STATE'), 'pki')
    openssl(d, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=hitless', '-keyout', 'hitless.key', '-out', 'hitless.csr')
    await writeFile(join(d, 'hitless.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
    openssl(d, 'x509', '-req', '-in', 'hitless.csr', '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-CAcreateserial', '-CAserial', join(d, 'ca.srl'), '-days', '2', '-extfile', 'hitless.ext', '-out', 'hitless.crt')
    const port = await freePort()
    this.hitlessUrl = `https://127.0.0.1:${port}`
    this.hitless = start(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--probe-port', '0', '--tls-cert', join(d, 'hitless.crt'), '--tls-key', join(d, 'hitless.key'), '--kubeconfig', this.get('HITLESS_NODE_KUBECONFIG'), '--cluster', 'on', '--shutdown-delay', '0'], this.hitlessLogs)
    const ca = await readFile(this.get('HITLESS_NODE_CA'), 'utf8')
    await waitFor('hitless /readyz', async () => (await httpsGet(`${this.hitlessUrl}/readyz`, ca)).status === 200, 60_000)
  }

  async stopHitless(): Promise<void> {
    await stopProcess(this.hitless)
  }

  /** hitless's mutating and validating webhooks, as manifests/ registers them, for every namespace without hitless.dev/ignore. */
  async webhooks(): Promise<string> {
    const caBundle = Buffer.from(await readFile(this.get('HITLESS_NODE_CA'))).toString('base64')
    const hook = (name: string, path: string, extra = '') => `
  - name: ${name}
    clientConfig: {url: "${this.hitlessUrl}${path}", caBundle: "${caBundle}"}
    admissionReviewVersions: [v1]
    sideEffects: None
    timeoutSeconds: 5
    matchPolicy: Equivalent
    failurePolicy: Fail${extra}
    namespaceSelector:
      matchExpressions: [{key: hitless.dev/ignore, operator: DoesNotExist}]
    rules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments, statefulsets, daemonsets, replicasets]}
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods, replicationcontrollers, services]}`
    return `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: hitless}
webhooks:${hook('mutate.hitless.dev', '/mutate', '\n    reinvocationPolicy: IfNeeded')}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hitless}
webhooks:${hook('validate.hitless.dev', '/validate')}
`
  }
}
