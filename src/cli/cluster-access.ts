// --cluster auto|on|off: whether `serve` watches the cluster, and everything that follows from it
// (the cache, the server version, readiness).
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Readiness } from '../app.ts'
import { ClusterCache, loadKubeConfig } from '../cluster/cache.ts'
import { CACHED_RESOURCES } from '../contract/registry.ts'
import type { Logger } from '../log/log.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { UsageError } from './options.ts'

export interface ClusterAccess {
  kc: KubeConfig
  cache: ClusterCache
  /** The API server's version, once it has answered. */
  readonly version: KubernetesVersion | undefined
  readiness(): Readiness
}

/** auto: on when there is a kubeconfig to use or hitless runs in a cluster, off otherwise. */
export function clusterWanted(mode: string, kubeconfig: string | undefined): boolean {
  if (mode === 'on') return true
  if (mode === 'off') return false
  if (mode !== 'auto') throw new UsageError(`--cluster must be auto, on or off, got "${mode}"`)
  return Boolean(kubeconfig || process.env['KUBECONFIG'] || process.env['KUBERNETES_SERVICE_HOST'] || existsSync(join(homedir(), '.kube', 'config')))
}

/**
 * Starts watching at once; nothing waits for the API server (a hanging one must not keep hitless from
 * listening). Its version arrives with the first answer to the liveness probe: until then pre-stop's
 * `auto` style injects the exec sleep every version accepts, and `onVersion` is told when it is known.
 */
export function connectCluster(kubeconfig: string | undefined, logger: Logger, onVersion: (version: KubernetesVersion) => void = () => {}): ClusterAccess {
  const kc = loadKubeConfig(kubeconfig)
  const server = kc.getCurrentCluster()!.server
  const cache = new ClusterCache({ kc, resources: CACHED_RESOURCES, logger, liveness: { onVersion } })
  cache.start()
  logger.info({ server }, 'watching the cluster')
  return {
    kc,
    cache,
    get version() {
      const version = cache.serverVersion()
      return version ? { major: version.major, minor: version.minor } : undefined
    },
    readiness() {
      const state = cache.readiness()
      return {
        ready: state.ready,
        reasons: state.reasons,
        detail: { apiserver: { ...state.apiserver, version: state.apiserver.version?.gitVersion ?? 'unknown' }, cache: state.kinds },
      }
    },
  }
}
