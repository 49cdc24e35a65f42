// A large, deterministic cluster: NAMESPACES namespaces, each with SERVICES Services and PODS pods or
// templates (a tenth Deployments, each behind one Service, with a PodDisruptionBudget and an HPA of its
// own; the rest Pods no controller owns). Every pod carries a unique label as well as shared ones, so
// sharing cannot hide per-pod cost.
import type { KubeObject } from '../../src/model/types.ts'

export const SIZE = { namespaces: 1_000, servicesPerNamespace: 10, podsPerNamespace: 100, nodes: 5_000 }

function podSpec(app: string) {
  return {
    containers: [
      {
        name: app,
        image: `registry.example.com/${app}:1.4.2`,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
        lifecycle: { preStop: { sleep: { seconds: 5 } } },
      },
    ],
  }
}

export function* clusterObjects(): Generator<KubeObject> {
  for (let n = 0; n < SIZE.namespaces; n++) {
    const namespace = `team-${n}`
    yield { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { team: `t${n}` } } }
    for (let s = 0; s < SIZE.servicesPerNamespace; s++) {
      yield {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${s}`, namespace, labels: { app: `app-${s}` } },
        spec: { selector: { app: `app-${s}` }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], type: 'ClusterIP' },
      }
    }
    for (let p = 0; p < SIZE.podsPerNamespace; p++) {
      const deployment = p < SIZE.podsPerNamespace / 10
      const app = deployment ? `app-${p % SIZE.servicesPerNamespace}` : `batch-${p % 7}`
      const labels = { app, tier: 'backend', instance: `${namespace}-${p}` }
      if (deployment) {
        yield { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `deploy-${p}`, namespace }, spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(app) } } }
        yield { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: `pdb-${p}`, namespace }, spec: { maxUnavailable: 1, selector: { matchLabels: { app, instance: labels.instance } } } }
        yield {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: `hpa-${p}`, namespace },
          spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `deploy-${p}` }, minReplicas: 2, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
        }
      } else {
        yield { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${p}`, namespace, labels }, spec: podSpec(app), status: { phase: 'Running', podIP: `10.${n % 250}.${p}.1` } }
      }
    }
  }
}

/**
 * The traffic path on top of clusterObjects(): an Ingress and an HTTPRoute per Service (10,000 each)
 * and 5,000 Nodes (a tenth tainted for a dedicated pool, with a GPU).
 */
export function* trafficObjects(): Generator<KubeObject> {
  for (let n = 0; n < SIZE.namespaces; n++) {
    const namespace = `team-${n}`
    for (let s = 0; s < SIZE.servicesPerNamespace; s++) {
      yield {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: `ing-${s}`, namespace },
        spec: { rules: [{ host: `svc-${s}.${namespace}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `svc-${s}`, port: { name: 'http' } } } }] } }] },
      }
      yield {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: `route-${s}`, namespace },
        spec: { parentRefs: [{ name: 'gateway', namespace: 'infra' }], rules: [{ backendRefs: [{ name: `svc-${s}`, port: 80, weight: 90 }, { name: `svc-${(s + 1) % SIZE.servicesPerNamespace}`, port: 80, weight: 10 }] }] },
      }
    }
  }
  for (let i = 0; i < SIZE.nodes; i++) {
    const dedicated = i % 10 === 0
    yield {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}`, pool: dedicated ? 'gpu' : 'general' } },
      spec: dedicated ? { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } : {},
      status: { allocatable: { cpu: dedicated ? '31850m' : '3920m', memory: dedicated ? '120Gi' : '15Gi', pods: '110', 'ephemeral-storage': '95Gi', ...(dedicated ? { 'nvidia.com/gpu': '4' } : {}) } },
    }
  }
}

/**
 * AWS load balancers on top (issue 28): per Service an Ingress of class alb with target-type ip and a
 * 30 s deregistration delay (10,000), a TargetGroupBinding with targetType ip per namespace (1,000), and
 * every other Namespace labelled for the controller's readiness gate (team-0, team-2, …).
 */
export function* loadBalancerObjects(): Generator<KubeObject> {
  for (let n = 0; n < SIZE.namespaces; n++) {
    const namespace = `team-${n}`
    yield { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { team: `t${n}`, ...(n % 2 === 0 ? { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } : {}) } } }
    for (let s = 0; s < SIZE.servicesPerNamespace; s++) {
      yield {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: `alb-${s}`,
          namespace,
          annotations: { 'alb.ingress.kubernetes.io/scheme': 'internet-facing', 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=30' },
        },
        spec: { ingressClassName: 'alb', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `svc-${s}`, port: { number: 80 } } } }] } }] },
      }
    }
    yield {
      apiVersion: 'elbv2.k8s.aws/v1beta1',
      kind: 'TargetGroupBinding',
      metadata: { name: 'tgb-0', namespace },
      spec: { serviceRef: { name: 'svc-0', port: 80 }, targetGroupARN: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${namespace}/0123456789abcdef`, targetType: 'ip' },
    }
  }
}
