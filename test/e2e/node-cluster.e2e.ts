// test/e2e/node-cluster.sh itself: `up` twice in a row (the second does nothing), a crashed kubelet
// (kill -9) seen by `status` and healed by `up`, `down` after the kubelet and containerd were killed
// with pods running, `down` twice; every `down` checks the machine is as found (iptables and nftables,
// links and routes, mounts, cgroups, sysctls, /var/lib/kubelet, /var/log/pods, /var/lib/cni, ...).
// Run by test/e2e/apiserver.sh (npm run test:e2e).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { waitFor } from './cluster.ts'
import { NodeCluster } from './node-cluster.ts'

const cluster = new NodeCluster()
const state = process.env['HITLESS_NODE_STATE'] ?? '/var/lib/hitless-node'
t.teardown(() => void cluster.down())

async function pid(component: string): Promise<number> {
  const [value] = (await readFile(join(state, 'pid', component), 'utf8')).trim().split(' ')
  return Number(value)
}

function podsRunning(): boolean {
  const pods = JSON.parse(cluster.must(['get', 'pods', '-n', 'crash', '-o', 'json'])).items
  return pods.length === 2 && pods.every((p: any) => p.status.phase === 'Running')
}

/** Two pods of the test app running in namespace crash. */
async function twoPods(): Promise<void> {
  cluster.must(['create', 'namespace', 'crash'])
  await waitFor('the default ServiceAccount', async () => cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'crash']).status === 0, 60_000)
  cluster.must(['apply', '-f', '-'], `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: crash}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - {name: app, image: ${cluster.get('HITLESS_NODE_APP_IMAGE')}, imagePullPolicy: Never}
`)
  await waitFor('two running pods', async () => podsRunning(), 90_000)
}

t.test('up from nothing, then up again does nothing', async (t) => {
  const first = cluster.up()
  t.ok(first.ok, `up (${first.seconds} s)`, { output: first.output.split('\n').slice(-60).join('\n') })
  if (!first.ok) return
  await cluster.load()
  const second = cluster.up()
  t.ok(second.ok, 'up again')
  t.match(second.output, /already up/)
  t.ok(second.seconds < 10, `and it is quick (${second.seconds} s)`)
})

t.test('a kubelet killed with -9: status says so, up heals it', async (t) => {
  await twoPods()
  process.kill(await pid('kubelet'), 'SIGKILL')
  await waitFor('the kubelet to be gone', async () => !cluster.status().output.includes('kubelet: running'), 10_000)
  const status = cluster.status()
  t.notOk(status.ok, 'status fails')
  t.match(status.output, /kubelet: not running/)
  const healed = cluster.up()
  t.ok(healed.ok, `up takes the broken cluster down and brings it up again (${healed.seconds} s)`, { output: healed.output.split('\n').slice(-60).join('\n') })
  t.match(healed.output, /taking it down first/)
  t.ok(cluster.status().ok, 'status is fine again')
})

t.test('down after the kubelet and containerd were killed with pods running, then down again', async (t) => {
  await cluster.load()
  await twoPods()
  process.kill(await pid('kubelet'), 'SIGKILL')
  process.kill(await pid('containerd'), 'SIGKILL')
  const down = cluster.down()
  t.ok(down.ok, `down (${down.seconds} s)`, { output: down.output })
  t.match(down.output, /the machine is as found/)
  const again = cluster.down()
  t.ok(again.ok, 'down again')
  t.match(again.output, /not up/)
})
