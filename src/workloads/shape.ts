// A structural check of the fields hitless reads from workloads. The API server never sends a
// Deployment whose containers are a string, but a hand-made request or manifest can: it gets a clear
// 400 naming the field instead of a rule crashing on it.
import { Ajv } from 'ajv'
import type { ReviewInput } from '../engine/types.ts'
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
      items: { type: 'object', properties: { controller: { type: ['boolean', 'null'] } } },
    },
  },
}
const ajv = new Ajv({ allErrors: false, strict: false })
const validatePod = ajv.compile({ type: 'object', properties: { metadata, spec: podSpec } })
const validateTemplated = ajv.compile({
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: { template: { type: 'object', properties: { metadata: { ...metadata, properties: { labels: stringMap } }, spec: podSpec } } },
    },
  },
})

/** `spec.template.spec.containers must be array`, or undefined when the fields hitless reads are well-typed. */
export function shapeError(review: ReviewInput): string | undefined {
  for (const object of [review.object, review.oldObject]) {
    if (!object || !isGuardedWorkload(review.group, review.kind)) continue
    const validate = review.kind === 'Pod' ? validatePod : validateTemplated
    if (!validate(object)) {
      const error = validate.errors![0]!
      const where = error.instancePath.split('/').slice(1).map((t) => (/^\d+$/.test(t) ? `[${t}]` : `.${t}`)).join('')
      return `${object === review.object ? 'object' : 'oldObject'}${where} ${error.message ?? 'is invalid'}`
    }
  }
  return undefined
}
