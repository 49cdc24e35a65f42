// A structural check of the fields hitless reads, for every kind it judges: metadata of any object,
// workloads' pod templates, replicas and rollout strategies, Services' selectors and ports, PDBs' selectors and budgets, HPAs' targets. The API server never sends a Deployment whose
// containers are a string, but a hand-made request or manifest can: it gets a clear 400 naming the
// field instead of a rule crashing on it.
import { Ajv } from 'ajv'
import type { ReviewInput } from '../model/types.ts'
import { isGuardedWorkload } from './pod-template.ts'

const stringMap = { type: 'object', additionalProperties: { type: 'string' } }
const handler = {
  type: ['object', 'null'],
  properties: {
    exec: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } } },
    sleep: { type: 'object', properties: { seconds: { type: 'integer' } } },
  },
}
const container = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    ports: {
      type: ['array', 'null'],
      items: { type: 'object', properties: { containerPort: { type: 'integer' }, name: { type: 'string' } } },
    },
    readinessProbe: { type: ['object', 'null'] },
    lifecycle: { type: ['object', 'null'], properties: { preStop: handler } },
    restartPolicy: { type: 'string' },
  },
}
const podSpec = {
  type: 'object',
  properties: {
    nodeSelector: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    containers: { type: ['array', 'null'], items: container },
    initContainers: { type: ['array', 'null'], items: container },
    terminationGracePeriodSeconds: { type: ['integer', 'null'] },
  },
}
const metadata = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string' },
    labels: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    annotations: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    ownerReferences: {
      type: ['array', 'null'],
      items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' }, controller: { type: ['boolean', 'null'] } } },
    },
  },
}
const intOrString = { type: ['integer', 'string', 'null'] }
const rollingUpdate = { type: ['object', 'null'], properties: { maxSurge: intOrString, maxUnavailable: intOrString } }
const ajv = new Ajv({ allErrors: false, strict: false })
const validatePod = ajv.compile({ type: 'object', properties: { metadata, spec: podSpec } })
const validateTemplated = ajv.compile({
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: {
        replicas: { type: ['integer', 'null'] },
        // Deployments' strategy, StatefulSets' and DaemonSets' updateStrategy: what rollout-capacity reads.
        strategy: { type: ['object', 'null'], properties: { type: { type: 'string' }, rollingUpdate } },
        updateStrategy: { type: ['object', 'null'], properties: { type: { type: 'string' }, rollingUpdate } },
        podManagementPolicy: { type: ['string', 'null'] },
        template: { type: 'object', properties: { metadata: { ...metadata, properties: { labels: stringMap } }, spec: podSpec } },
      },
    },
  },
})

const validateService = ajv.compile({
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: ['object', 'null'],
      properties: {
        type: { type: 'string' },
        selector: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
        ports: {
          type: ['array', 'null'],
          items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' }, targetPort: { type: ['integer', 'string'] } } },
        },
      },
    },
  },
})
const labelSelector = {
  type: ['object', 'null'],
  properties: {
    matchLabels: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: ['array', 'null'],
      items: { type: 'object', required: ['key', 'operator'], properties: { key: { type: 'string' }, operator: { type: 'string' }, values: { type: ['array', 'null'], items: { type: 'string' } } } },
    },
  },
}
const validatePdb = ajv.compile({
  type: 'object',
  properties: { metadata, spec: { type: 'object', properties: { selector: labelSelector, minAvailable: intOrString, maxUnavailable: intOrString } } },
})
const validateHpa = ajv.compile({
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: {
        scaleTargetRef: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' } } },
        minReplicas: { type: ['integer', 'null'] },
        maxReplicas: { type: 'integer' },
      },
    },
  },
})
const validateAny = ajv.compile({ type: 'object', properties: { metadata } })

function validatorFor(review: ReviewInput) {
  if (isGuardedWorkload(review.group, review.kind)) return review.kind === 'Pod' ? validatePod : validateTemplated
  if (review.group === '' && review.kind === 'Service') return validateService
  if (review.group === 'policy' && review.kind === 'PodDisruptionBudget') return validatePdb
  if (review.group === 'autoscaling' && review.kind === 'HorizontalPodAutoscaler') return validateHpa
  return validateAny
}

/** `spec.template.spec.containers must be array`, or undefined when the fields hitless reads are well-typed. */
export function shapeError(review: ReviewInput): string | undefined {
  for (const object of [review.object, review.oldObject]) {
    if (!object) continue
    const validate = validatorFor(review)
    if (!validate(object)) {
      const error = validate.errors![0]!
      const where = error.instancePath.split('/').slice(1).map((t) => (/^\d+$/.test(t) ? `[${t}]` : `.${t}`)).join('')
      return `${object === review.object ? 'object' : 'oldObject'}${where} ${error.message ?? 'is invalid'}`
    }
  }
  return undefined
}
