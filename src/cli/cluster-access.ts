// --cluster auto|on|off: whether `serve` watches the cluster, and everything that follows from it
// (the cache, the server version, readiness).
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Readiness } from '../app.ts'
import { ClusterCache, loadKubeConfig, readServerVersion } from '../cluster/cache.ts'
import type { Logger } from '../log.ts'
import type { KubernetesVersion } from '../rules/rule.ts'
import { UsageError } from './options.ts'

export interface ClusterAccess {
  kc: KubeConfig
  cache: ClusterCache
  version?: KubernetesVersion
  readiness(): Readiness
}

/** auto: on when there is a kubeconfig to use or hitless runs in a cluster, off otherwise. */
export function clusterWanted(mode: string, kubeconfig: string | undefined): boolean {
  if (mode === 'on') return true
  if (mode === 'off') return false
  if (mode !== 'auto') throw new UsageError(`--cluster must be auto, on or off, got "${mode}"`)
  return Boolean(kubeconfig || process.env['KUBECONFIG'] || process.env['KUBERNETES_SERVICE_HOST'] || existsSync(join(homedir(), '.kube', 'config')))
}

export async function connectCluster(kubeconfig: string | undefined, logger: Logger): Promise<ClusterAccess> {
  const kc = loadKubeConfig(kubeconfig)
  const server = kc.getCurrentCluster()!.server
  let version: KubernetesVersion | undefined
  try {
    version = await readServerVersion(kc)
  } catch (error) {
    logger.warn({ server, err: (error as Error).message }, 'cannot read the API server version; pre-stop style auto injects exec sleep')
  }
  const cache = new ClusterCache({ kc, logger })
  cache.start()
  logger.info({ server, version: version ? `${version.major}.${version.minor}` : 'unknown' }, 'watching the cluster')
  return {
    kc,
    cache,
    ...(version ? { version } : {}),
    readiness() {
      const state = cache.readiness()
      return { ready: state.synced, reasons: state.reasons, detail: { cache: state.kinds } }
    },
  }
}
