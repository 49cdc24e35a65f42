// The requests the parity tests put to both the webhook's rules and the exported admission policies:
// every rule fixture (fires-* and passes-*, of every rule), and objects made here for what the fixtures
// do not cover (shell sleeps, port names, probe handlers, pre-stop conflicts, exemptions).
import { readdirSync } from 'node:fs'
import type { KubeObject } from '../../src/model/types.ts'
import { RULES } from '../../src/rules/index.ts'
import { FIXTURES, loadFixture } from '../helpers/objects.ts'

export interface Case {
  name: string
  operation: 'CREATE' | 'UPDATE'
  object: KubeObject
  oldObject?: KubeObject | null
  /** Objects of the rest of the cluster in the fixture (CEL cannot see them; see the divergence test). */
  cluster?: KubeObject[]
}

/**
 * Every rule fixture reviewed as a CREATE or an UPDATE. DELETE fixtures (a Service's deletion, judged by
 * the referential rules; `object: null`) are left out: the admission policies match CREATE and UPDATE,
 * and a deletion is nothing a pod-spec rule judges.
 */
export function fixtureCases(): Case[] {
  return RULES.flatMap((rule) => {
    const dir = new URL(`${rule.id}/`, FIXTURES)
    return readdirSync(dir)
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => ({ file, fixture: loadFixture(new URL(file, dir)) }))
      .filter(({ fixture }) => fixture.review.operation !== 'DELETE' && fixture.review.object)
      .map(({ file, fixture }) => ({
        name: `${rule.id}/${file}`,
        operation: fixture.review.operation as 'CREATE' | 'UPDATE',
        object: fixture.review.object!,
        ...(fixture.review.oldObject ? { oldObject: fixture.review.oldObject } : {}),
        ...(fixture.cluster ? { cluster: fixture.cluster } : {}),
      }))
  })
}

type Container = Record<string, unknown> & { name: string }

export function deployment(name: string, containers: Container[], spec: Record<string, unknown> = {}, initContainers?: Container[]): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { ...spec, containers, ...(initContainers ? { initContainers } : {}) } },
    },
  }
}

const web = (extra: Record<string, unknown> = {}): Container => ({ name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }], ...extra })
const shell = (script: string) => ({ lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', script] } } } })

/** Objects made for the parity tests, each a CREATE. */
export function madeCases(): Case[] {
  const made: [string, KubeObject][] = [
    ['script: two sleeps around a command', deployment('a', [web(shell('sleep 5; nginx -s quit; sleep 10'))])],
    ['script: minutes with a fraction', deployment('b', [web(shell('sleep 1.5m'))])],
    ['script: sleeps joined by &&', deployment('c', [web(shell('sleep 5s&&sleep 30'))])],
    ['script: a word ending in sleep', deployment('d', [web(shell('xsleep 50; echo sleep'))], { terminationGracePeriodSeconds: 20 })],
    ['script: sleep in a subshell', deployment('e', [web(shell('(sleep 40)'))])],
    ['script: three sleeps', deployment('f', [web(shell('sleep 10 ; sleep 10 ; sleep 15'))])],
    ['script: bash -c with hours', deployment('g', [web({ lifecycle: { preStop: { exec: { command: ['bash', '-c', 'sleep 1h'] } } } })])],
    ['script: a sleep of no number', deployment('h', [web(shell('sleep $DELAY'))], { terminationGracePeriodSeconds: 5 })],
    ['exec: /bin/sleep 45s', deployment('i', [web({ lifecycle: { preStop: { exec: { command: ['/bin/sleep', '45s'] } } } })])],
    ['exec: sleep with two arguments', deployment('j', [web({ lifecycle: { preStop: { exec: { command: ['sleep', '40', '1'] } } } })])],
    ['exec: a sleep too long to be meant', deployment('k', [web({ lifecycle: { preStop: { exec: { command: ['sleep', '9999999999'] } } } })])],
    ['native: the second container sleeps longest', deployment('l', [web({ lifecycle: { preStop: { sleep: { seconds: 10 } } } }), { name: 'side', image: 's:1', lifecycle: { preStop: { sleep: { seconds: 40 } } } }])],
    ['native: two containers sleep as long', deployment('m', [web({ lifecycle: { preStop: { sleep: { seconds: 40 } } } }), { name: 'side', image: 's:1', ports: [{ containerPort: 9000 }], lifecycle: { preStop: { sleep: { seconds: 40 } } } }])],
    ['native: a zero sleep', deployment('n', [web({ lifecycle: { preStop: { sleep: { seconds: 0 } } } })], { terminationGracePeriodSeconds: 5 })],
    ['grace: explicit and long enough for the added sleep', deployment('o', [web()], { terminationGracePeriodSeconds: 15 })],
    ['grace: one short of the added sleep', deployment('p', [web()], { terminationGracePeriodSeconds: 14 })],
    ['ports: only a dashed metrics name', deployment('q', [web({ ports: [{ name: 'http-metrics', containerPort: 9090 }] })])],
    ['ports: metrics in the middle of a name', deployment('r', [web({ ports: [{ name: 'x-metrics-y', containerPort: 9090 }] })])],
    ['ports: a metrics and a serving port', deployment('s', [web({ ports: [{ name: 'metrics', containerPort: 9090 }, { name: 'http', containerPort: 8080 }] })])],
    ['ports: an admin port, unnamed second', deployment('t', [web({ ports: [{ name: 'admin', containerPort: 9000 }, { containerPort: 8080 }] })])],
    ['ports: a port with no number', deployment('u', [web({ ports: [{ name: 'http' }] })])],
    ['init container with a port (not a sidecar)', deployment('v', [{ name: 'worker', image: 'w:1' }], {}, [{ name: 'migrate', image: 'm:1', ports: [{ containerPort: 5432 }] }])],
    ['a plain init container beside a sidecar', deployment('w', [web()], {}, [{ name: 'init', image: 'i:1' }, { name: 'proxy', image: 'p:1', restartPolicy: 'Always', ports: [{ containerPort: 15001 }] }])],
    ['probe: grpc port is a number', deployment('x', [web({ readinessProbe: { grpc: { port: 9000 } } })])],
    ['probe: a numeric string port', deployment('y', [web({ livenessProbe: { httpGet: { path: '/', port: '8080' } } })])],
    ['probe: a name another container declares', deployment('z', [web({ readinessProbe: { tcpSocket: { port: 'admin' } } }), { name: 'side', image: 's:1', ports: [{ name: 'admin', containerPort: 9000 }] }])],
    ['probe: startup and liveness on undeclared names', deployment('aa', [web({ ports: [{ name: 'http', containerPort: 8080 }, { name: 'grpc', containerPort: 9000 }], startupProbe: { httpGet: { port: 'start' } }, livenessProbe: { tcpSocket: { port: 'live' } } })])],
    ['liveness: exec the same, liveness shorter', deployment('ab', [web({ readinessProbe: { exec: { command: ['check'] }, periodSeconds: 10, failureThreshold: 6 }, livenessProbe: { exec: { command: ['check'] }, periodSeconds: 7, failureThreshold: 2 } })])],
    ['liveness: the same, liveness longer by period', deployment('ac', [web({ readinessProbe: { tcpSocket: { port: 8080 } }, livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 11 } })])],
    ['liveness: on a sidecar, zero thresholds default', deployment('ad', [web()], {}, [{ name: 'proxy', image: 'p:1', restartPolicy: 'Always', readinessProbe: { httpGet: { path: '/h', port: 1 } }, livenessProbe: { httpGet: { path: '/h', port: 1 }, failureThreshold: 0 } }])],
    ['pre-stop: two injected sleeps, native and exec', deployment('ae', [web({ lifecycle: { preStop: { sleep: { seconds: 5 }, exec: { command: ['sleep', '5'] } } } })])],
    ['pre-stop: an injected sleep beside a tcpSocket hook, on a sidecar', deployment('af', [web()], {}, [{ name: 'proxy', image: 'p:1', restartPolicy: 'Always', ports: [{ containerPort: 1 }], lifecycle: { preStop: { sleep: { seconds: 30 }, tcpSocket: { port: 1 } } } }])],
    ['pre-stop: lifecycle with only postStart, short grace', deployment('ag', [web({ lifecycle: { postStart: { exec: { command: ['warm'] } } } })], { terminationGracePeriodSeconds: 2 })],
    ['replication controller without a template', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', namespace: 'shop' }, spec: { replicas: 0 } }],
    ['a StatefulSet with many containers', { ...deployment('ah', Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, image: 'x:1', ports: [{ containerPort: 8000 + i }], ...(i % 3 === 0 ? { readinessProbe: { tcpSocket: { port: 8000 + i } } } : {}), ...(i % 4 === 0 ? { lifecycle: { preStop: { sleep: { seconds: i } } } } : {}) }))), kind: 'StatefulSet' }],
  ]
  return made.map(([name, object]) => ({ name: `made: ${name}`, operation: 'CREATE', object }))
}

/** Exemption annotations on an object (the exempt list, a reason, an until), for the exemption cases. */
export function annotated(object: KubeObject, annotations: Record<string, string>): KubeObject {
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, ...annotations } } }
}
