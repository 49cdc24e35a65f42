// requests-fit-nodes: a pod template whose effective request (as kube-scheduler computes it:
// src/scheduling/requests.ts) exceeds the allocatable of every node it could be scheduled on (its
// nodeSelector, required node affinity and NoSchedule/NoExecute taints: src/scheduling/node-filter.ts). Such
// pods stay Pending for ever and the rollout never finishes: the old pods keep serving, but the
// Deployment is stuck mid-rollout and the next incident meets half a release (seed 004).
// Reads a lean Node cache; an audit of files knows nodes only when the files hold Node objects, so the
// rule is silent there otherwise. Where nodes are provisioned on demand (Karpenter, or cloud node
// groups the cluster autoscaler may grow, even from zero) a bigger node may yet come: then a warning.
import type { JSONSchemaType } from 'ajv'
import type { NodeRecord } from '../scheduling/node-record.ts'
import { representatives } from '../scheduling/node-shapes.ts'
import { placement } from '../scheduling/placement.ts'
import { effectiveRequests } from '../scheduling/requests.ts'
import { formatSchedulerUnits } from '../model/quantity.ts'
import type { RuleFinding } from '../model/types.ts'
import { POD_TEMPLATE_KINDS } from '../model/kinds.ts'
import { podTemplateOf, type Container } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { usableCluster } from './referential.ts'
import { defineRule } from './rule.ts'

interface Options {
  /** static: nodes are what there is; dynamic: bigger ones may be provisioned; auto: dynamic when a node carries a provisioner's label. */
  nodeProvisioning: 'auto' | 'static' | 'dynamic'
}

const options: JSONSchemaType<Options> = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeProvisioning'],
  properties: { nodeProvisioning: { type: 'string', enum: ['auto', 'static', 'dynamic'], default: 'auto' } },
}

/** Labels that node provisioners put on the nodes they make: their node pools can grow (from zero, too). */
const PROVISIONER_LABELS = ['karpenter.sh/nodepool', 'karpenter.sh/provisioner-name', 'eks.amazonaws.com/nodegroup', 'cloud.google.com/gke-nodepool', 'kubernetes.azure.com/agentpool']

function provisioned(nodes: Iterable<NodeRecord>): string | undefined {
  // Provisioners' labels are the same on every node of a pool: one node per shape says it.
  for (const node of representatives(nodes)) for (const label of PROVISIONER_LABELS) if (label in node.labels) return label
  return undefined
}

type Resourced = Container & { resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> } }

/** The container that asks for most of `resource` (by its own request, or limit): where the fix goes. */
function biggest(containers: readonly { container: Resourced; path: readonly (string | number)[] }[], resource: string) {
  let best: (typeof containers)[number] | undefined
  let most = -1
  for (const slot of containers) {
    const value = effectiveRequests({ containers: [slot.container] })[resource] ?? 0
    if (value > most) (best = slot), (most = value)
  }
  return best
}

export const requestsFitNodes = defineRule<Options>({
  id: 'requests-fit-nodes',
  summary: "A pod template's effective resource request fits on at least one node it may be scheduled on.",
  why: 'a pod that requests more than any eligible node has stays Pending for ever, and the rollout never finishes',
  fixable: false,
  remedy: 'a request no larger than the largest eligible node',
  defaultAction: 'deny',
  judges: [{ kinds: POD_TEMPLATE_KINDS, operations: ['CREATE', 'UPDATE'] }],
  reads: ['Node'],
  options,
  check({ review, settings, options }): RuleFinding[] {
    const template = podTemplateOf(review)
    if (!template) return []
    const cluster = usableCluster(settings, 'requests-fit-nodes')
    if (!cluster || 'finding' in cluster) return []
    const requests = effectiveRequests(template.spec)
    if (!Object.entries(requests).some(([name, value]) => name !== 'pods' && value > 0)) return []
    // Not copied: the usual answer is the first node looked at.
    const found = placement(template.spec, requests, cluster.view.nodes())
    // No node known (a file audit without Node objects), or none it may run on at all (a node pool
    // scaled to zero, a selector for nodes to come): not this rule's call.
    if (found.node !== undefined || found.nodes === 0 || found.eligible === 0) return []
    const [resource] = Object.entries(found.tooSmall).sort((a, b) => b[1] - a[1])[0] ?? []
    if (!resource) return []
    const wanted = formatSchedulerUnits(resource, requests[resource]!)
    const largest = formatSchedulerUnits(resource, found.largest[resource] ?? 0)
    const label = options.nodeProvisioning === 'dynamic' ? 'provisioned on demand' : options.nodeProvisioning === 'auto' ? provisioned(cluster.view.nodes()) : undefined
    const containers = [...(template.spec.containers ?? []), ...(template.spec.initContainers ?? [])].map((container, i) => {
      const regular = i < (template.spec.containers ?? []).length
      return { container: container as Resourced, path: [...template.specPath, regular ? 'containers' : 'initContainers', regular ? i : i - (template.spec.containers ?? []).length] }
    })
    const slot = biggest(containers, resource)
    const kindName = `${review.kind} ${review.object.metadata?.namespace ?? review.namespace ?? ''}/${review.object.metadata?.name ?? ''}`
    const eligible = `${found.eligible} node${found.eligible === 1 ? '' : 's'} they may run on`
    const none = (found.largest[resource] ?? 0) === 0
    return [
      {
        ...(slot ? { container: slot.container.name } : {}),
        message:
          `no node can run the pods of ${kindName}: they request ${resource} ${wanted} (the pod's effective request, as the scheduler sums containers, init containers and sidecars), ` +
          (none ? `which none of the ${eligible} has` : `and the largest of the ${eligible} has ${largest} allocatable`) +
          '; they would stay Pending and the rollout never finish' +
          (label ? ` (unless a bigger node is provisioned: the nodes carry ${label}, so only a warning)` : ''),
        fix: none
          ? `# let the pods onto the nodes that have ${resource} (nodeSelector, tolerations), or do not request it`
          : slot
            ? containerFixSnippet(slot.path, slot.container.name, { resources: { requests: { [resource]: `<at most ${largest}, less what the other containers request>` } } })
            : `# request at most ${largest} of ${resource} per pod`,
        ...(label ? { atMostWarn: true } : {}),
      },
    ]
  },
})
