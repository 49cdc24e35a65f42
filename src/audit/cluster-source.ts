// `hitless audit --cluster`: the live objects to audit, listed through @kubernetes/client-node's
// KubeConfig (whole objects this time: the pod-spec rules read templates), one namespace or all.
import type { KubeConfig } from '@kubernetes/client-node'
import { CACHED_RESOURCES } from '../cluster/cache.ts'
import { getJson } from '../cluster/kube-client.ts'
import type { KubeObject } from '../engine/types.ts'
import type { Manifest } from './manifests.ts'

interface List {
  apiVersion?: string
  kind?: string
  metadata?: { continue?: string }
  items?: KubeObject[]
}

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
  for (const { kind, path } of CACHED_RESOURCES) {
    if (kind === 'Namespace') {
      const namespaces = namespace ? [await getJson<KubeObject>(kc, `${path}/${encodeURIComponent(namespace)}`)] : await listAll(kc, path)
      for (const object of namespaces) manifests.push(asManifest({ ...object, apiVersion: 'v1', kind }))
      continue
    }
    const apiVersion = path.startsWith('/apis/') ? path.split('/').slice(2, 4).join('/') : 'v1'
    for (const object of await listAll(kc, namespacedPath(path, namespace), (count) => progress(kind, count))) {
      // Items of a list carry no apiVersion/kind of their own.
      manifests.push(asManifest({ ...object, apiVersion, kind }))
    }
  }
  return manifests
}

async function listAll(kc: KubeConfig, path: string, progress: (count: number) => void = () => {}): Promise<KubeObject[]> {
  const objects: KubeObject[] = []
  let token: string | undefined
  do {
    const page = await getJson<List>(kc, `${path}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`)
    objects.push(...(page.items ?? []))
    progress(objects.length)
    token = page.metadata?.continue || undefined
  } while (token)
  return objects
}

function asManifest(object: KubeObject): Manifest {
  return { object, file: '', line: 0, pathInDocument: [], documentIndex: 0 }
}
