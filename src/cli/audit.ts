// `hitless audit`: the webhook's rules over manifest files or a live cluster, reported as a table,
// JSON, SARIF, JUnit or PolicyReports. Exit 0: nothing at or above --fail-on; 1: findings at or above
// it; 2: usage error, or input that could not be read or parsed (the rest is still audited).
import { loadManifests, type InputError, type Manifest } from '../audit/manifests.ts'
import { auditManifests } from '../audit/run.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts'
import { summarize, type FailOn } from '../report/common.ts'
import { renderJson } from '../report/json.ts'
import { renderJunit } from '../report/junit.ts'
import { renderReports } from '../report/policy-report.ts'
import { renderSarif } from '../report/sarif.ts'
import { renderTable } from '../report/table.ts'
import { setting, UsageError } from './options.ts'
import packageJson from '../../package.json' with { type: 'json' }

const FORMATS = ['table', 'json', 'sarif', 'junit', 'policyreport', 'openreports'] as const
type Format = (typeof FORMATS)[number]

function progressOnTerminal(): (kind: string, count: number) => void {
  if (!process.stderr.isTTY) return () => {}
  return (kind, count) => process.stderr.write(`\r\x1b[2Klisting ${kind}s… ${count}`)
}

export interface AuditOptions {
  cluster?: boolean
  kubeconfig?: string
  namespace?: string
  allNamespaces?: boolean
  config?: string
  format?: string
  failOn?: string
}

export async function audit(positionals: string[], values: AuditOptions): Promise<number> {
  const format = (values.format ?? 'table') as Format
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`)
  const failOn = (values.failOn ?? 'deny') as FailOn
  if (!['deny', 'warn', 'never'].includes(failOn)) throw new UsageError('--fail-on must be deny, warn or never')
  if (values.cluster && positionals.length > 0) throw new UsageError('--cluster audits the live cluster; give no paths')
  if (values.allNamespaces && (values.namespace || !values.cluster)) throw new UsageError('--all-namespaces goes with --cluster and without --namespace')
  const config = await loadConfig(setting(values.config, 'HITLESS_CONFIG', DEFAULT_CONFIG_PATH))

  let manifests: Manifest[]
  let errors: InputError[] = []
  let files = 0
  let clusterVersion: KubernetesVersion | undefined
  if (values.cluster) {
    // Loaded only for --cluster: the Kubernetes client is most of a file audit's start-up otherwise.
    const [{ loadKubeConfig, readServerVersion }, { manifestsFromCluster }] = await Promise.all([import('../cluster/cache.ts'), import('../audit/cluster-source.ts')])
    const kc = loadKubeConfig(values.kubeconfig)
    clusterVersion = await readServerVersion(kc).catch(() => undefined)
    manifests = await manifestsFromCluster(kc, values.namespace, progressOnTerminal())
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
  } else {
    if (positionals.length === 0 && process.stdin.isTTY) {
      process.stderr.write('hitless audit: reading manifests from stdin (end with Ctrl-D); give paths to audit files, or --cluster\n')
    }
    const loaded = await loadManifests(positionals)
    ;({ manifests, errors, files } = loaded)
    for (const file of loaded.skipped) process.stderr.write(`hitless audit: skipped ${file}: no Kubernetes objects (chart metadata, values or other configuration)\n`)
  }
  const result = auditManifests(manifests, config, { defaultNamespace: values.namespace ?? 'default', liveSet: values.cluster === true, ...(clusterVersion ? { clusterVersion } : {}) })
  result.errors.unshift(...errors)
  const summary = summarize(result, files, failOn)
  const colour = process.stdout.isTTY === true && !process.env['NO_COLOR']
  const output = {
    table: () => renderTable(result, summary, colour),
    json: () => renderJson(result, summary),
    sarif: () => renderSarif(result, packageJson.version),
    junit: () => renderJunit(result, failOn),
    policyreport: () => renderReports(result, 'policyreport'),
    openreports: () => renderReports(result, 'openreports'),
  }[format]()
  process.stdout.write(output)
  if (result.errors.length > 0) return 2
  return summary.failed ? 1 : 0
}
