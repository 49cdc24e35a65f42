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

/** A serving Deployment or StatefulSet with `spec` beside its template (rollout-capacity). */
function workload(kind: 'Deployment' | 'StatefulSet', name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = { name }): KubeObject {
  const template = { metadata: { labels: { app: name } }, spec: { containers: [web({ readinessProbe: { tcpSocket: { port: 8080 } } })] } }
  return { apiVersion: 'apps/v1', kind, metadata: { ...metadata, namespace: 'shop' }, spec: { selector: { matchLabels: { app: name } }, ...spec, template } }
}

/** rollout-capacity's arithmetic where its fixtures do not go: rounding, defaults, values the API server refuses. */
function rolloutCases(): [string, KubeObject][] {
  const rolling = (replicas: number | undefined, rollingUpdate: Record<string, unknown> | null) => ({ ...(replicas === undefined ? {} : { replicas }), strategy: { type: 'RollingUpdate', rollingUpdate } })
  const stateful = (replicas: number | undefined, maxUnavailable: unknown, extra: Record<string, unknown> = {}) => ({ ...(replicas === undefined ? {} : { replicas }), updateStrategy: { rollingUpdate: { maxUnavailable } }, ...extra })
  return [
    ['rollout: replicas unset, maxSurge 0', workload('Deployment', 'r1', { strategy: { rollingUpdate: { maxSurge: 0 } } })],
    ['rollout: replicas 0, maxUnavailable 100%', workload('Deployment', 'r2', rolling(0, { maxUnavailable: '100%' }))],
    ['rollout: 0% and 0%', workload('Deployment', 'r3', rolling(3, { maxSurge: '0%', maxUnavailable: '0%' }))],
    ['rollout: 0 and 0 of 1', workload('Deployment', 'r4', rolling(1, { maxSurge: 0, maxUnavailable: 0 }))],
    ['rollout: 99% of 2 rounds down to 1', workload('Deployment', 'r5', rolling(2, { maxUnavailable: '99%' }))],
    ['rollout: 50% of 2 is 1, surge 1% rounds up', workload('Deployment', 'r6', rolling(2, { maxSurge: '1%', maxUnavailable: '50%' }))],
    ['rollout: maxUnavailable 5 of 3', workload('Deployment', 'r7', rolling(3, { maxSurge: 2, maxUnavailable: 5 }))],
    ['rollout: 100% of 7, surge a long percent', workload('Deployment', 'r8', rolling(7, { maxSurge: '250000000%', maxUnavailable: '100%' }))],
    ['rollout: rollingUpdate null', workload('Deployment', 'r9', rolling(1, null))],
    ['rollout: a percent without %', workload('Deployment', 'r10', rolling(1, { maxSurge: '0', maxUnavailable: '100' }))],
    ['rollout: a negative maxUnavailable', workload('Deployment', 'r11', rolling(2, { maxSurge: 0, maxUnavailable: -2 }))],
    ['rollout: a percent of no number', workload('Deployment', 'r12', rolling(2, { maxSurge: 'x%', maxUnavailable: '100%' }))],
    ['rollout: a strategy of no known type', workload('Deployment', 'r13', { replicas: 1, strategy: { type: 'BlueGreen', rollingUpdate: { maxSurge: 0 } } })],
    ['rollout: no name yet (generateName)', workload('Deployment', 'r14', rolling(1, { maxSurge: 0 }), { generateName: 'r14-' })],
    ['rollout: not serving', { ...workload('Deployment', 'r15', rolling(1, { maxSurge: 0 })), spec: { replicas: 1, strategy: { rollingUpdate: { maxSurge: 0 } }, template: { spec: { containers: [{ name: 'worker', image: 'w:1' }] } } } }],
    ['rollout: a StatefulSet, 50% of 3 rounds up to 2', workload('StatefulSet', 's1', stateful(3, '50%'))],
    ['rollout: a StatefulSet, 67% of 3 rounds up to 3', workload('StatefulSet', 's2', stateful(3, '67%'))],
    ['rollout: a StatefulSet of 2, maxUnavailable 0 (at least 1)', workload('StatefulSet', 's3', stateful(2, 0))],
    ['rollout: a StatefulSet of 1, maxUnavailable 1', workload('StatefulSet', 's4', stateful(1, 1))],
    ['rollout: a StatefulSet, replicas unset, 100%', workload('StatefulSet', 's5', stateful(undefined, '100%'))],
    ['rollout: a StatefulSet on OnDelete', workload('StatefulSet', 's6', { replicas: 2, updateStrategy: { type: 'OnDelete', rollingUpdate: { maxUnavailable: 2 } } })],
    ['rollout: a StatefulSet, 100% of 2, OrderedReady', workload('StatefulSet', 's7', stateful(2, '100%', { podManagementPolicy: 'OrderedReady' }))],
    ['rollout: a StatefulSet, maxUnavailable 4 of 2, Parallel', workload('StatefulSet', 's8', stateful(2, 4, { podManagementPolicy: 'Parallel' }))],
    ['rollout: a StatefulSet, a percent of no number', workload('StatefulSet', 's9', stateful(2, '%'))],
    ['rollout: a DaemonSet with a Deployment strategy', { ...workload('Deployment', 'd1', rolling(1, { maxSurge: 0 })), kind: 'DaemonSet' }],
  ]
}

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
    ...rolloutCases(),
    ['replication controller without a template', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', namespace: 'shop' }, spec: { replicas: 0 } }],
    ['a StatefulSet with many containers', { ...deployment('ah', Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, image: 'x:1', ports: [{ containerPort: 8000 + i }], ...(i % 3 === 0 ? { readinessProbe: { tcpSocket: { port: 8000 + i } } } : {}), ...(i % 4 === 0 ? { lifecycle: { preStop: { sleep: { seconds: i } } } } : {}) }))), kind: 'StatefulSet' }],
  ]
  return made.map(([name, object]) => ({ name: `made: ${name}`, operation: 'CREATE', object }))
}

/** Exemption annotations on an object (the exempt list, a reason, an until), for the exemption cases. */
export function annotated(object: KubeObject, annotations: Record<string, string>): KubeObject {
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, ...annotations } } }
}
