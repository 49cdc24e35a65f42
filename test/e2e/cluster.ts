// A real control plane on loopback for the e2e: etcd, kube-apiserver (built by build-apiserver.sh) with
// token auth and RBAC and a throwaway CA, hitless with cluster access, and kubectl. Every process is
// tracked by PID and killed on stop(), on process exit and on signals, whatever happens.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { webhookRules } from '../../src/contract/derive.ts'
import { RULES } from '../../src/contract/registry.ts'

const BIN = fileURLToPath(new URL('../../bin/hitless.js', import.meta.url))
const children = new Set<ChildProcess>()
const killAll = () => {
  for (const child of children) child.kill('SIGKILL')
}
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (killAll(), process.exit(1)))

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

export function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
}

export function start(command: string, args: string[], log: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  children.add(child)
  child.stdout!.on('data', (d) => log.push(String(d)))
  child.stderr!.on('data', (d) => log.push(String(d)))
  child.on('exit', () => children.delete(child))
  return child
}

export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/**
 * GET over HTTPS with the test CA (and a bearer token); resolves with status and body, never rejects.
 * Each on a connection of its own, as a prober's: the pooled connections stay the reviews' alone, as the
 * API server's are (hitless closes a connection that carried no review after 5 s idle, decision 0025, and
 * a pooled request can race that close when the test's event loop was blocked meanwhile).
 */
export function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ca, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 3000 }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', () => resolve({ status: 0, body: '' }))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/** POSTs an AdmissionReview to hitless (as the API server would) and returns the parsed answer. */
export function postReview(url: string, ca: string, review: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, timeout: 5000 }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body ? JSON.parse(body) : undefined }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('hitless did not answer within 5 s')))
    req.end(JSON.stringify(review))
  })
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

export interface Replica {
  url: string
  logs: string[]
  stop(): Promise<void>
}

export interface KubectlResult {
  status: number
  stdout: string
  stderr: string
}

export class TestCluster {
  readonly logs = { etcd: [] as string[], apiserver: [] as string[], hitless: [] as string[] }
  dir = ''
  ca = ''
  apiserverUrl = ''
  hitlessUrl = ''
  kubeconfig = ''
  private etcd?: ChildProcess
  private apiserver?: ChildProcess
  private hitless?: ChildProcess
  private readonly replicas: ChildProcess[] = []
  private apiserverArgs: string[] = []
  private readonly apiserverBinary: string
  private readonly token = 'e2e-admin-token'

  constructor(apiserverBinary: string) {
    this.apiserverBinary = apiserverBinary
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'hitless-e2e-'))
    const d = this.dir
    openssl(d, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=e2e CA', '-keyout', 'ca.key', '-out', 'ca.crt')
    for (const name of ['apiserver', 'hitless']) {
      openssl(d, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
      await writeFile(join(d, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
      openssl(d, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`)
    }
    openssl(d, 'genrsa', '-out', 'sa.key', '2048')
    openssl(d, 'rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub')
    await writeFile(join(d, 'tokens.csv'), `${this.token},e2e-admin,e2e-admin,"system:masters"\n`)
    this.ca = execFileSync('cat', [join(d, 'ca.crt')], { encoding: 'utf8' })

    const [etcdPort, peerPort, apiPort, hitlessPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
    this.etcd = start('etcd', ['--data-dir', join(d, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`, '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-cluster', `default=http://127.0.0.1:${peerPort}`], this.logs.etcd)
    this.apiserverUrl = `https://127.0.0.1:${apiPort}`
    this.apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--tls-cert-file=${join(d, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(d, 'apiserver.key')}`,
      `--token-auth-file=${join(d, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(d, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(d, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.96.0.0/16',
      // No controller-manager runs: nothing would create the ServiceAccount that plugin insists on.
      '--disable-admission-plugins=ServiceAccount',
      '--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
      `--cert-dir=${join(d, 'apiserver-certs')}`,
      '--profiling=false',
    ]
    await this.startApiserver()
    this.kubeconfig = join(d, 'kubeconfig')
    await writeFile(this.kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'e2e',
      clusters: [{ name: 'e2e', cluster: { server: this.apiserverUrl, 'certificate-authority': join(d, 'ca.crt') } }],
      users: [{ name: 'e2e', user: { token: this.token } }],
      contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e' } }],
    }))
    this.hitlessUrl = `https://127.0.0.1:${hitlessPort}`
    this.hitless = start(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(hitlessPort), '--probe-port', '0', '--tls-cert', join(d, 'hitless.crt'), '--tls-key', join(d, 'hitless.key'), '--kubeconfig', this.kubeconfig, '--cluster', 'on', '--shutdown-delay', '0'], this.logs.hitless)
    await waitFor('hitless /readyz', async () => (await httpsGet(`${this.hitlessUrl}/readyz`, this.ca)).status === 200)
  }

  async startApiserver(): Promise<void> {
    this.apiserver = start(this.apiserverBinary, this.apiserverArgs, this.logs.apiserver)
    await waitFor('kube-apiserver /readyz', async () => (await httpsGet(`${this.apiserverUrl}/readyz`, this.ca, this.token)).status === 200, 90_000)
  }

  async stopApiserver(): Promise<void> {
    await stopProcess(this.apiserver)
  }

  /** Freezes the API server: connections stay open and nothing answers, as in a half-open partition. */
  pauseApiserver(): void {
    this.apiserver?.kill('SIGSTOP')
  }

  resumeApiserver(): void {
    this.apiserver?.kill('SIGCONT')
  }

  kubectl(args: string[], stdin?: string): KubectlResult {
    const result = spawnSync('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { input: stdin ?? '', encoding: 'utf8', timeout: 30_000 })
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  /** The decision lines hitless has logged so far. */
  decisions(): Record<string, any>[] {
    return this.logs.hitless
      .join('')
      .split('\n')
      .filter((line) => line.includes('"admission decision"'))
      .map((line) => JSON.parse(line))
  }

  /** Another hitless replica with its own config (and its own log), on a free port; stopped with the cluster. */
  async startReplica(args: string[], env: Record<string, string> = {}): Promise<Replica> {
    const port = await freePort()
    const logs: string[] = []
    const child = start(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--probe-port', '0', '--tls-cert', join(this.dir, 'hitless.crt'), '--tls-key', join(this.dir, 'hitless.key'), '--kubeconfig', this.kubeconfig, '--cluster', 'on', '--shutdown-delay', '0', ...args], logs, env)
    this.replicas.push(child)
    const url = `https://127.0.0.1:${port}`
    await waitFor('hitless replica /readyz', async () => (await httpsGet(`${url}/readyz`, this.ca)).status === 200)
    return { url, logs, stop: () => stopProcess(child) }
  }

  async stop(): Promise<void> {
    for (const replica of this.replicas) await stopProcess(replica)
    await stopProcess(this.hitless)
    await stopProcess(this.apiserver)
    await stopProcess(this.etcd)
  }
}

/**
 * Webhook configurations for `cluster` as the shipped manifests have them (rules derived from the rule
 * declarations; matchPolicy Equivalent; the ignore label), pointing at the test's hitless.
 */
export function derivedWebhooks(cluster: TestCluster, webhooks: readonly ('mutating' | 'validating')[]): string {
  const ca = Buffer.from(cluster.ca).toString('base64')
  const hook = (webhook: 'mutating' | 'validating') => `apiVersion: admissionregistration.k8s.io/v1
kind: ${webhook === 'mutating' ? 'Mutating' : 'Validating'}WebhookConfiguration
metadata: {name: hitless}
webhooks:
  - name: ${webhook === 'mutating' ? 'mutate' : 'validate'}.hitless.dev
    clientConfig: {url: "${cluster.hitlessUrl}/${webhook === 'mutating' ? 'mutate' : 'validate'}", caBundle: "${ca}"}
    admissionReviewVersions: [v1]
    sideEffects: None
    timeoutSeconds: 5
    matchPolicy: Equivalent
    failurePolicy: Fail
    namespaceSelector:
      matchExpressions: [{key: hitless.dev/ignore, operator: DoesNotExist}]
    rules: ${JSON.stringify(webhookRules(RULES, webhook))}
`
  return webhooks.map(hook).join('---\n')
}
