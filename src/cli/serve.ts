// `hitless serve`: the webhook. Resolves settings, loads the config (an invalid one stops here with
// the JSON path and reason), finds TLS material, then hands over to server.ts.
import { resolve } from 'node:path'
import type { Readiness } from '../app.ts'
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts'
import { buildPolicy, type Policy } from '../engine/policy.ts'
import { InstallChecks } from '../install/checks.ts'
import { DEFAULT_WEBHOOK_CONFIGURATION, WebhookConfigurations } from '../install/webhook-configurations.ts'
import { createLogger, stdoutLog } from '../log/log.ts'
import { startReports } from '../reporting/start.ts'
import { closeOnSignals, startServer } from '../server.ts'
import { readServingFiles } from '../tls/serving-files.ts'
import { clusterWanted, connectCluster } from './cluster-access.ts'
import { approvalKeyFrom, portNumber, setting, UsageError } from './options.ts'

async function tlsMaterial(certPath: string | undefined, keyPath: string | undefined, secret: string | undefined, log: ReturnType<typeof createLogger>) {
  if (certPath && keyPath) return readServingFiles({ certPath, keyPath, ...(secret ? { secret } : {}) })
  if (certPath || keyPath) throw new UsageError('--tls-cert and --tls-key go together')
  // Loaded only when needed: certificate generation pulls in an X.509 library production never uses.
  const { ensureDevCertificate } = await import('../tls/dev-certificate.ts')
  const dev = await ensureDevCertificate(resolve('.hitless', 'dev-certs'))
  log.warn(
    { caPath: dev.caPath, certPath: dev.certPath, created: dev.created },
    'no --tls-cert/--tls-key: serving a development certificate for localhost and 127.0.0.1; trust its CA to call it',
  )
  return { cert: dev.cert, key: dev.key }
}

export interface ServeOptions {
  host?: string
  port?: string
  probePort?: string
  tlsCert?: string
  tlsKey?: string
  config?: string
  cluster?: string
  kubeconfig?: string
  logLevel?: string
  shutdownDelay?: string
  tlsSecret?: string
  service?: string
  webhookConfiguration?: string
  approvalKey?: string
}

/** Ready only when every part is; reasons and details of all of them. */
function allOf(states: Readiness[]): Readiness {
  return {
    ready: states.every((state) => state.ready),
    reasons: states.flatMap((state) => state.reasons),
    detail: Object.assign({}, ...states.map((state) => state.detail ?? {})),
  }
}

export async function serve(values: ServeOptions): Promise<void> {
  const kubeconfig = values.kubeconfig
  const wantCluster = clusterWanted(setting(values.cluster, 'HITLESS_CLUSTER', 'auto'), kubeconfig)
  const host = setting(values.host, 'HITLESS_HOST', '0.0.0.0')
  const port = portNumber(setting(values.port, 'HITLESS_PORT', '8443'), '--port')
  const probePort = portNumber(setting(values.probePort, 'HITLESS_PROBE_PORT', '8081'), '--probe-port')
  if (probePort !== 0 && probePort === port) throw new UsageError('--probe-port must differ from --port')
  const delay = Number(setting(values.shutdownDelay, 'HITLESS_SHUTDOWN_DELAY', '2'))
  if (!Number.isFinite(delay) || delay < 0 || delay > 300) throw new UsageError('--shutdown-delay must be a number of seconds from 0 to 300')
  const stdout = stdoutLog()
  const logger = createLogger(setting(values.logLevel, 'HITLESS_LOG_LEVEL', 'info'), stdout.stream)
  const configPath = setting(values.config, 'HITLESS_CONFIG', DEFAULT_CONFIG_PATH)
  const config = await loadConfig(configPath)
  buildPolicy(config) // an invalid config stops here, before any connection is made
  // Who hitless is in the cluster: its namespace from the downward API, its Service and TLS Secret.
  const namespace = process.env['POD_NAMESPACE'] || undefined
  const secretName = setting(values.tlsSecret, 'HITLESS_TLS_SECRET')
  const secret = secretName && (secretName.includes('/') ? secretName : namespace ? `${namespace}/${secretName}` : undefined)
  const serviceName = setting(values.service, 'HITLESS_SERVICE')
  const certPath = setting(values.tlsCert, 'HITLESS_TLS_CERT')
  const keyPath = setting(values.tlsKey, 'HITLESS_TLS_KEY')
  // Unusable TLS files stop hitless here, with one line, before any connection is made.
  const tls = await tlsMaterial(certPath, keyPath, secret, logger)
  // The server's version arrives after start-up (see connectCluster); the rules read it from the
  // policy's settings at each review, so it is filled in there when it comes.
  let policy: Policy | undefined
  const cluster = wantCluster
    ? connectCluster(kubeconfig, logger, (version) => {
        if (policy) policy.settings.clusterVersion = version
      })
    : undefined
  const approvalKey = await approvalKeyFrom(setting(values.approvalKey, 'HITLESS_APPROVAL_KEY'))
  if (!approvalKey && config.exemptions.approvers.users.length + config.exemptions.approvers.groups.length > 0) {
    logger.warn('exemptions.approvers is set but there is no approval key (--approval-key, HITLESS_APPROVAL_KEY: missing, or no such file): approval records this process writes hold only until it restarts, and other replicas do not accept them')
  }
  policy = buildPolicy(config, cluster ? { cluster: cluster.cache, liveCluster: true, ...(cluster.version ? { clusterVersion: cluster.version } : {}) } : {}, approvalKey)
  if (!cluster && config.reports.format !== 'off') logger.warn({ format: config.reports.format }, 'reports.format is set but cluster access is off: no reports are written')
  const reports = cluster ? startReports(cluster.kc, config, logger, () => cluster.version) : undefined
  const webhookName = setting(values.webhookConfiguration, 'HITLESS_WEBHOOK_CONFIGURATION', DEFAULT_WEBHOOK_CONFIGURATION)
  // The serving certificate against the names and caBundle the API server uses (docs/decisions/0033).
  const webhooks = cluster && webhookName !== 'none' ? new WebhookConfigurations({ kc: cluster.kc, logger, name: webhookName, onChange: () => install.recheck() }) : undefined
  const install = new InstallChecks({ logger, ...(serviceName && namespace ? { service: { namespace, name: serviceName } } : {}), ...(webhooks ? { webhooks } : {}) })
  webhooks?.start()
  const readiness = (): Readiness => {
    const state = allOf([...(cluster ? [cluster.readiness()] : []), install.readiness()])
    return reports ? { ...state, detail: { ...state.detail, reports: reports.state() } } : state
  }
  const server = await startServer({
    host,
    port,
    probePort,
    tls,
    policy,
    logger,
    drainDelayMs: delay * 1000,
    readiness,
    warmUp: true,
    onCertificate: (cert) => install.setCertificate(cert),
    ...(certPath && keyPath ? { tlsFiles: { certPath, keyPath } } : {}),
    ...(cluster ? { cacheState: () => cluster.cache.readiness().kinds, apiserverReachable: () => cluster.cache.readiness().apiserver.reachable } : {}),
    ...(cluster
      ? { environment: { now: () => new Date(), namespaces: cluster.cache } }
      : {}),
    ...(reports ? { violations: () => reports.violations() } : {}),
    logDrops: stdout.droppedLines,
  })
  closeOnSignals(server, logger, async () => {
    cluster?.cache.stop()
    webhooks?.stop()
    await reports?.stop()
  })
  // Said once the warm-up is over: from here on /readyz waits only for the cluster cache and the install.
  await server.warmedUp
  logger.info(
    { url: server.url, probeUrl: server.probeUrl, config: configPath, mode: policy.mode, cluster: cluster ? 'on' : 'off', rules: Object.fromEntries(policy.rules.map((r) => [r.rule.id, r.action])) },
    'hitless is serving /mutate and /validate',
  )
}
