// A realistic AdmissionReview for a Deployment, as kubectl apply sends it: two containers with env,
// probes, resources and mounts, the last-applied-configuration annotation and managedFields.
// About 5 KB of compact JSON, inside the 3-6 KB range of real reviews.
export function deploymentReview(uid: string, compliant = true) {
  const app = {
    name: 'checkout',
    image: 'registry.example.com/shop/checkout:2.14.3',
    ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }, { containerPort: 9090, name: 'metrics', protocol: 'TCP' }],
    env: [
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'checkout-db', key: 'url' } } },
      { name: 'REDIS_HOST', value: 'redis.shop.svc.cluster.local' },
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    volumeMounts: [{ name: 'config', mountPath: '/etc/checkout' }],
    ...(compliant
      ? {
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, failureThreshold: 3 },
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
        }
      : {}),
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  }
  const logShipper = {
    name: 'log-shipper',
    image: 'fluent/fluent-bit:3.0',
    resources: { requests: { cpu: '20m', memory: '32Mi' } },
    volumeMounts: [{ name: 'logs', mountPath: '/var/log/app' }],
  }
  const spec = {
    replicas: 3,
    selector: { matchLabels: { app: 'checkout' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
    template: {
      metadata: { labels: { app: 'checkout', tier: 'backend' }, annotations: { 'prometheus.io/scrape': 'true' } },
      spec: {
        containers: [app, logShipper],
        volumes: [{ name: 'config', configMap: { name: 'checkout' } }, { name: 'logs', emptyDir: {} }],
        terminationGracePeriodSeconds: 30,
        serviceAccountName: 'checkout',
      },
    },
  }
  const lastApplied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'checkout', namespace: 'shop' }, spec }
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      generation: 1,
      labels: { app: 'checkout', team: 'payments' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(lastApplied) + '\n' },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: '2026-11-23T18:18:34Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {}, 'f:team': {} } },
            'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} }, 'f:template': { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"checkout"}': { '.': {}, 'f:env': {}, 'f:image': {}, 'f:name': {}, 'f:ports': {}, 'f:resources': {} }, 'k:{"name":"log-shipper"}': { '.': {}, 'f:image': {}, 'f:name': {} } }, 'f:terminationGracePeriodSeconds': {}, 'f:volumes': {} } } },
          },
        },
      ],
    },
    spec,
    status: {},
  }
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name: 'checkout',
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:argocd:argocd-application-controller', uid: 'f0c3', groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  }
}

/**
 * The same Deployment as an UPDATE, as the API server sends a `kubectl apply` that changes the image:
 * the new object in full and the stored one before it (about 6.7 KB of compact JSON).
 */
export function deploymentUpdateReview(uid: string) {
  const review = deploymentReview(uid)
  const object = review.request.object
  const [app, ...rest] = object.spec.template.spec.containers
  const oldSpec = { ...object.spec, template: { ...object.spec.template, spec: { ...object.spec.template.spec, containers: [{ ...app!, image: 'registry.example.com/shop/checkout:2.14.2' }, ...rest] } } }
  const oldObject = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: 'checkout', namespace: 'shop', uid: object.metadata.uid, generation: 1, labels: object.metadata.labels }, spec: oldSpec }
  return {
    ...review,
    request: {
      ...review.request,
      operation: 'UPDATE',
      object: { ...object, metadata: { ...object.metadata, generation: 2 } },
      oldObject,
      options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  }
}
