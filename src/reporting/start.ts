// Wires the report writer for `serve`: the Lease that elects one writer, and the sync that scans and
// writes while this replica leads. Off unless config reports.format names a format.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { KubeConfig } from '@kubernetes/client-node'
import type { ReportsConfig, Config } from '../config/load.ts'
import type { Logger } from '../log/log.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { LeaderLease } from './lease.ts'
import { ReportSync, type ReportSyncState, type ViolationCount } from './sync.ts'

export const LEASE_NAME = 'hitless-reports'
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

export interface RunningReports {
  state(): ReportSyncState
  violations(): ViolationCount[]
  stop(): Promise<void>
}

/** Where the Lease lives: config, else the namespace hitless runs in, else hitless-system. */
export function leaseNamespace(reports: ReportsConfig, serviceAccountFile = SERVICE_ACCOUNT_NAMESPACE): string {
  if (reports.leaseNamespace) return reports.leaseNamespace
  try {
    const namespace = readFileSync(serviceAccountFile, 'utf8').trim()
    if (namespace) return namespace
  } catch {
    // Not in a pod.
  }
  return process.env['POD_NAMESPACE'] || 'hitless-system'
}

export function startReports(kc: KubeConfig, config: Config, logger: Logger, clusterVersion: () => KubernetesVersion | undefined): RunningReports | undefined {
  const { format } = config.reports
  if (format === 'off') return undefined
  const identity = process.env['POD_NAME'] || `${hostname()}_${randomBytes(4).toString('hex')}`
  let sync: ReportSync | undefined = undefined
  const lease = new LeaderLease({ kc, namespace: leaseNamespace(config.reports), name: LEASE_NAME, identity, logger, onChange: (leading) => leading && sync?.poke() })
  sync = new ReportSync({
    kc,
    config,
    format,
    logger,
    intervalMs: config.reports.intervalSeconds * 1000,
    writesPerSecond: config.reports.writesPerSecond,
    limits: { maxResults: config.reports.maxResultsPerReport, maxBytes: 900_000 },
    leading: () => lease.leading,
    clusterVersion,
  })
  lease.start()
  sync.start()
  logger.info({ format, lease: `${leaseNamespace(config.reports)}/${LEASE_NAME}`, identity }, 'policy reports on: the replica holding the lease writes them')
  return {
    state: () => ({ ...sync.state, leading: lease.leading }),
    violations: () => sync.violationCounts(),
    async stop() {
      sync.stop()
      await lease.stop()
    },
  }
}
