// What hitless knows about Namespaces: their labels (hitless.dev/mode) and annotations (exemptions).
// Filled by the cluster cache in the webhook, by the manifest set in CLI audits, or by tests.
import type { KubeObject } from './types.ts'

export interface NamespaceInfo {
  name: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

export interface NamespaceDirectory {
  get(name: string): NamespaceInfo | undefined
}

export const NO_NAMESPACES: NamespaceDirectory = { get: () => undefined }

export function namespaceInfo(object: KubeObject): NamespaceInfo {
  return {
    name: object.metadata?.name ?? '',
    labels: object.metadata?.labels ?? {},
    annotations: object.metadata?.annotations ?? {},
  }
}

/** A directory over Namespace objects already at hand. */
export function namespacesFrom(objects: Iterable<KubeObject>): NamespaceDirectory {
  const byName = new Map<string, NamespaceInfo>()
  for (const object of objects) {
    if (object.kind === 'Namespace' && object.metadata?.name) byName.set(object.metadata.name, namespaceInfo(object))
  }
  return { get: (name) => byName.get(name) }
}
