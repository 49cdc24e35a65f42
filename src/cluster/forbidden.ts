// A list or watch the API server answers 403: RBAC is missing a verb. The message names the verb, the
// resource and the ClusterRole to fix, so /readyz and the log say what to do, not only that it failed.

/** The ClusterRole manifests/base/rbac.yaml ships (test/install/forbidden.test.ts keeps them equal). */
export const READER_CLUSTER_ROLE = 'hitless-reader'

/** The API group and resource of a collection path: /apis/apps/v1/deployments → apps, deployments. */
export function resourceOfPath(path: string): { group: string; resource: string } {
  const parts = path.split('?')[0]!.split('/').filter(Boolean)
  const group = parts[0] === 'apis' ? parts[1]! : ''
  return { group, resource: parts.at(-1) ?? path }
}

/** What is wrong and how to fix it, in one line; `apiMessage` is the API server's own Status message. */
export function forbiddenMessage(verb: 'list' | 'watch' | 'get', path: string, apiMessage: string | undefined): string {
  const { group, resource } = resourceOfPath(path)
  const named = group ? `${resource}.${group}` : resource
  return (
    `RBAC: hitless may not ${verb} ${named} (HTTP 403${apiMessage ? `: ${apiMessage}` : ''}); ` +
    `fix: add verb "${verb}" on resource "${resource}" in apiGroup "${group}" to ClusterRole ${READER_CLUSTER_ROLE} ` +
    `(bound to hitless's ServiceAccount; as shipped: kubectl apply -k manifests/base)`
  )
}
