// What the Namespace gate (webhook namespaces.validate.hitless.dev, decisions 0023 and 0042) is sent: every
// Namespace CREATE and UPDATE, and UPDATEs through the two Namespace subresources whose writes the API
// server stores with the labels and annotations they carry (its Namespace strategies reset only spec, or
// only status, from the old object). The webhook's rules (npm run generate), the export's resourceRules and
// the engine's scope (src/engine/scope.ts) all read it from here.

/** The Namespace subresources whose writes can change labels and annotations. */
export const NAMESPACE_GATE_SUBRESOURCES: readonly string[] = ['status', 'finalize']

export interface NamespaceGateRule {
  apiGroups: string[]
  apiVersions: string[]
  operations: ('CREATE' | 'UPDATE')[]
  resources: string[]
  scope: 'Cluster'
}

/** The gate's webhook rules: never DELETE (a hitless outage or deny must never block namespace deletion). */
export const namespaceGateRules = (): NamespaceGateRule[] => [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces'], scope: 'Cluster' },
  { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: NAMESPACE_GATE_SUBRESOURCES.map((sub) => `namespaces/${sub}`), scope: 'Cluster' },
]
