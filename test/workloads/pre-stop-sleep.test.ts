import t from 'tap'
import { preStopSleepSeconds } from '../../src/workloads/pre-stop-sleep.ts'

const cases: [string, Parameters<typeof preStopSleepSeconds>[0], number | undefined][] = [
  ['no hook', undefined, undefined],
  ['native sleep', { sleep: { seconds: 7 } }, 7],
  ['sleep binary', { exec: { command: ['sleep', '5'] } }, 5],
  ['absolute sleep binary with unit', { exec: { command: ['/bin/sleep', '2m'] } }, 120],
  ['fractional seconds round up', { exec: { command: ['sleep', '0.5'] } }, 1],
  ['shell sleep', { exec: { command: ['/bin/sh', '-c', 'sleep 45'] } }, 45],
  ['shell sleep then quit', { exec: { command: ['sh', '-c', 'sleep 15 && nginx -s quit'] } }, 15],
  ['two sleeps add up', { exec: { command: ['bash', '-c', 'sleep 5; curl -X POST localhost/drain; sleep 10s'] } }, 15],
  ['shell without a literal sleep', { exec: { command: ['sh', '-c', 'nginx -s quit'] } }, undefined],
  ['sleep with a variable', { exec: { command: ['sh', '-c', 'sleep $DRAIN'] } }, undefined],
  ['a word that ends in sleep', { exec: { command: ['sh', '-c', 'nosleep 30'] } }, undefined],
  ['other program', { exec: { command: ['/app/drain', '--wait', '30'] } }, undefined],
  ['sleep with two arguments', { exec: { command: ['sleep', '5', '5'] } }, undefined],
  ['empty command', { exec: { command: [] } }, undefined],
  ['httpGet', { httpGet: { path: '/drain', port: 8080 } }, undefined],
]

for (const [name, handler, expected] of cases) {
  t.equal(preStopSleepSeconds(handler), expected, name)
}
