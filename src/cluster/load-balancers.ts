// What the AWS Load Balancer Controller reads off Services, Ingresses and TargetGroupBindings to decide
// whether pods are a load balancer's targets by IP, and the target group's deregistration delay. Kept
// in the lean records only when present (most objects carry none of it). Annotation names and defaults:
// the controller's docs (docs/rules/lb-readiness-gate.md, lb-deregistration.md).
import type { KubeObject } from '../model/types.ts'

export const ALB_TARGET_TYPE = 'alb.ingress.kubernetes.io/target-type'
export const ALB_TARGET_GROUP_ATTRIBUTES = 'alb.ingress.kubernetes.io/target-group-attributes'
export const NLB_TARGET_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type'
export const NLB_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-type'
export const NLB_TARGET_GROUP_ATTRIBUTES = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class'
/** The Namespace label that makes the controller inject its readiness gate into new pods. */
export const GATE_INJECT_LABEL = 'elbv2.k8s.aws/pod-readiness-gate-inject'
/** The condition type prefix of the gate it injects (one per TargetGroupBinding). */
export const READINESS_GATE_PREFIX = 'target-health.elbv2.k8s.aws/'
export const DEREGISTRATION_ATTRIBUTE = 'deregistration_delay.timeout_seconds'
/** The target group attribute's default (Elastic Load Balancing's). */
export const DEFAULT_DEREGISTRATION_SECONDS = 300

/** The AWS annotations of a Service: an NLB's target type and attributes, and the ALB ones a Service may override. */
export interface AwsServiceAnnotations {
  /** The Service is an NLB of the controller with IP targets. */
  nlbIp?: true
  /** Its NLB target group's deregistration_delay.timeout_seconds, when set. */
  nlbDelay?: number
  /** alb.ingress.kubernetes.io/target-type on the Service: overrides the Ingress's for its target group. */
  albTargetType?: string
  /** alb.ingress.kubernetes.io/target-group-attributes' delay on the Service (overrides the Ingress's). */
  albDelay?: number
}

/** An Ingress of class alb: its target type and delay as the Ingress sets them (Services may override). */
export interface AlbIngress {
  targetType: string
  delay?: number
}

export interface TargetGroupBindingRecord {
  namespace: string
  name: string
  service: string
  /** spec.targetType (ip | instance); undefined: the controller reads it off the AWS target group. */
  targetType?: string
}

/** deregistration_delay.timeout_seconds out of `key=value,key=value`, or undefined. */
export function deregistrationDelay(attributes: string | undefined): number | undefined {
  for (const pair of (attributes ?? '').split(',')) {
    const [key, value] = pair.split('=').map((part) => part.trim())
    if (key === DEREGISTRATION_ATTRIBUTE && /^\d{1,5}$/.test(value ?? '')) return Number(value)
  }
  return undefined
}

export function awsServiceAnnotations(object: KubeObject): AwsServiceAnnotations | undefined {
  const annotations = object.metadata?.annotations
  if (!annotations) return undefined
  const type = object.spec?.['type']
  const loadBalancer = type === undefined || type === 'LoadBalancer'
  const nlbIp = loadBalancer && (annotations[NLB_TARGET_TYPE] === 'ip' || annotations[NLB_TYPE] === 'nlb-ip')
  const nlbDelay = deregistrationDelay(annotations[NLB_TARGET_GROUP_ATTRIBUTES])
  const albTargetType = annotations[ALB_TARGET_TYPE]
  const albDelay = deregistrationDelay(annotations[ALB_TARGET_GROUP_ATTRIBUTES])
  if (!nlbIp && nlbDelay === undefined && albTargetType === undefined && albDelay === undefined) return undefined
  return {
    ...(nlbIp ? { nlbIp: true as const } : {}),
    ...(nlbDelay !== undefined ? { nlbDelay } : {}),
    ...(albTargetType !== undefined ? { albTargetType } : {}),
    ...(albDelay !== undefined ? { albDelay } : {}),
  }
}

/** The ALB settings of an Ingress of class alb (annotation or ingressClassName), else undefined. */
export function albIngress(object: KubeObject): AlbIngress | undefined {
  const annotations = object.metadata?.annotations ?? {}
  const className = object.spec?.['ingressClassName'] ?? annotations[INGRESS_CLASS_ANNOTATION]
  if (className !== 'alb') return undefined
  const delay = deregistrationDelay(annotations[ALB_TARGET_GROUP_ATTRIBUTES])
  return { targetType: annotations[ALB_TARGET_TYPE] ?? 'instance', ...(delay !== undefined ? { delay } : {}) }
}

export function targetGroupBindingRecord(object: KubeObject): TargetGroupBindingRecord {
  const spec = object.spec ?? {}
  const ref = spec['serviceRef'] as { name?: unknown } | undefined
  const targetType = spec['targetType']
  return {
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    service: typeof ref?.name === 'string' ? ref.name : '',
    ...(typeof targetType === 'string' ? { targetType } : {}),
  }
}
