// service-target-port's fix: the Service side when the pods declare the Service's own port under another
// name, the container side otherwise, and never a made-up port number.
import t from 'tap'
import { evaluate } from '../../src/engine/evaluate.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { onlyRule, reviewOf } from '../helpers/objects.ts'

const deployment = (ports: { name?: string; containerPort: number }[]): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web', ports }] } } },
})
const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ name: 'https', port: 8443, targetPort: 'https' }] } }
const fixFor = (ports: { name?: string; containerPort: number }[]) => evaluate(reviewOf(service), onlyRule('service-target-port', 'deny', [deployment(ports)])).findings[0]!.fix

t.test('the pods declare the Service port under another name: point targetPort at it', async (t) => {
  t.match(fixFor([{ name: 'tls', containerPort: 8443 }]), /port: 8443\n\s+targetPort: tls\s+# the port the pods declare/)
  t.match(fixFor([{ containerPort: 8443 }]), /targetPort: 8443/, 'an unnamed one by number')
})

t.test('otherwise declare the named port, without inventing a number', async (t) => {
  const fix = fixFor([{ name: 'http', containerPort: 8080 }])
  t.match(fix, /- name: https\n\s+containerPort: <the port the app listens on>/)
  t.notMatch(fix, /containerPort: \d/)
})
