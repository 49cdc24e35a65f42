// `hitless audit --cluster`: the live objects to audit, listed through @kubernetes/client-node's
// KubeConfig (whole objects this time: the pod-spec rules read templates), one namespace or all.
import type { KubeConfig } from '@kubernetes/client-node'
import { CACHED_RESOURCES } from '../contract/registry.ts'
import { KINDS } from '../model/kinds.ts'
import { KubeHttpError, listTextPages } from '../cluster/kube-client.ts'
import { LoopPacer } from '../cluster/loop-pacer.ts'
import type { KubeObject } from '../model/types.ts'
import type { Manifest } from './manifests.ts'

function namespacedPath(path: string, namespace: string | undefined): string {
  if (!namespace) return path
  const slash = path.lastIndexOf('/')
  return `${path.slice(0, slash)}/namespaces/${encodeURIComponent(namespace)}${path.slice(slash)}`
}

/** Live objects as manifests without a file: `--namespace` limits them to one namespace. */
export async function manifestsFromCluster(
  kc: KubeConfig,
  namespace: string | undefined,
  progress: (kind: string, count: number) => void = () => {},
): Promise<Manifest[]> {
  const manifests: Manifest[] = []
  for (const { kind, path, paths, optional } of CACHED_RESOURCES) {
    if (kind === 'Namespace') {
      // One namespace by a list with a name selector, not a GET: the in-cluster report writer scans with
      // the shipped ClusterRole, which grants list and watch only (the verbs the cache sends).
      const namespaces = await listAll(kc, path, undefined, namespace ? { fieldSelector: `metadata.name=${namespace}` } : {})
      if (namespace && namespaces.length === 0) throw new Error(`namespace ${namespace} not found`)
      for (const object of namespaces) manifests.push(asManifest({ ...object, apiVersion: 'v1', kind }))
      continue
    }
    // Cluster-scoped kinds (Nodes) are listed whole even for one namespace: its pods may run on any node.
    const listed = await listServed(kc, paths, KINDS[kind].namespaced ? namespace : undefined, (count) => progress(kind, count))
    if (!listed) {
      if (optional) continue // a CRD the cluster does not have: none of it
      throw new Error(`the API server serves none of ${paths.join(', ')}`)
    }
    const apiVersion = listed.path.startsWith('/apis/') ? listed.path.split('/').slice(2, 4).join('/') : 'v1'
    // Items of a list carry no apiVersion/kind of their own.
    for (const object of listed.objects) manifests.push(asManifest({ ...object, apiVersion, kind }))
  }
  return manifests
}

/** The objects of the first of `paths` (newest version first) the server serves; undefined if none. */
async function listServed(kc: KubeConfig, paths: readonly string[], namespace: string | undefined, progress: (count: number) => void) {
  for (const path of paths) {
    try {
      return { path, objects: await listAll(kc, namespacedPath(path, namespace), progress) }
    } catch (error) {
      if (!(error instanceof KubeHttpError && error.statusCode === 404)) throw error
    }
  }
  return undefined
}

async function listAll(kc: KubeConfig, path: string, progress: (count: number) => void = () => {}, params: Record<string, string> = {}): Promise<KubeObject[]> {
  const objects: KubeObject[] = []
  // Item by item, yielding between slices: the report writer scans with this inside the webhook's process.
  const pacer = new LoopPacer()
  for await (const page of listTextPages(kc, path, 500, params)) {
    for (const text of page.items) {
      if (pacer.due()) await pacer.pause()
      objects.push(JSON.parse(text) as KubeObject)
    }
    progress(objects.length)
  }
  return objects
}

function asManifest(object: KubeObject): Manifest {
  return { object, file: '', line: 0, pathInDocument: [], documentIndex: 0 }
}
