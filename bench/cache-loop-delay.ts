// How long the cluster cache blocks the event loop while it (re-)lists: a full sync of the benchmark
// cluster (100,000 pods and templates, 10,000 Services, PDBs, HPAs, Ingresses, routes, 5,000 Nodes)
// from the test API server in its own process, with perf_hooks.monitorEventLoopDelay sampling every
// millisecond; then every kind re-listed after 410 Gone (over the records it holds); beside them, in the
// same run, merely fetching and parsing the same pages. Bounded: fixed object counts.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { ClusterCache, loadKubeConfig } from '../src/cluster/cache.ts'
import { listPages } from '../src/cluster/kube-client.ts'
import { CACHED_RESOURCES } from '../src/contract/registry.ts'
import { createLogger } from '../src/log/log.ts'
import { FakeApiServer } from '../test/helpers/fake-apiserver.ts'
import { startChildServer } from './lib/child.ts'
import { writeResult } from './lib/report.ts'

const RESOLUTION_MS = 1

interface Delays {
  p50: number
  p99: number
  max: number
  over1ms: number
  over10ms: number
  seconds: number
  /** The process's CPU time between two turns of a 1 ms timer: what its own work held the loop for, whatever the machine's load. */
  cpu: { p99: number; max: number; over1ms: number }
}

async function delays<T>(work: () => Promise<T>): Promise<{ result: T } & Delays> {
  const monitor = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  const start = performance.now()
  monitor.enable()
  // Wall-clock delay also counts the time a loaded machine does not run the process at all; CPU time
  // used between two turns of the loop does not, so it shows the blocks the process makes itself.
  const cpuGaps: number[] = []
  let last = process.cpuUsage()
  let sampling = true
  const sample = () => {
    const now = process.cpuUsage()
    cpuGaps.push((now.user - last.user + now.system - last.system) / 1000)
    last = now
    if (sampling) setTimeout(sample, RESOLUTION_MS)
  }
  setTimeout(sample, RESOLUTION_MS)
  const result = await work()
  sampling = false
  monitor.disable()
  const late = (nanos: number) => Math.max(0, nanos / 1e6 - RESOLUTION_MS)
  // Samples later than a bound: the share above it, from the monitor's percentiles.
  const above = (boundMs: number) => {
    let share = 0
    for (const [percentile, nanos] of monitor.percentiles) if (late(nanos) <= boundMs) share = Math.max(share, percentile / 100)
    return Math.round((1 - share) * monitor.count)
  }
  const gaps = cpuGaps.sort((a, b) => a - b)
  const cpu = { p99: gaps[Math.floor(gaps.length * 0.99)] ?? 0, max: gaps.at(-1) ?? 0, over1ms: gaps.filter((g) => g > 1 + RESOLUTION_MS).length }
  return { result, p50: late(monitor.percentile(50)), p99: late(monitor.percentile(99)), max: late(monitor.max), over1ms: above(1), over10ms: above(10), seconds: (performance.now() - start) / 1000, cpu }
}

const fakeServer = await startChildServer(fileURLToPath(new URL('servers/fake-apiserver-server.ts', import.meta.url)), [])
const dir = await mkdtemp(join(tmpdir(), 'hitless-bench-loop-'))
try {
  const probe = new FakeApiServer()
  probe.url = `http://127.0.0.1:${fakeServer.port}`
  const kc = loadKubeConfig(await probe.writeKubeconfig(join(dir, 'kubeconfig')))
  const fetch = await delays(async () => {
    for (const { path } of CACHED_RESOURCES) for await (const _page of listPages(kc, path, 500));
  })
  const silent = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }))
  const cache = new ClusterCache({ resources: CACHED_RESOURCES, kc, logger: silent, pageSize: 500 })
  const sync = await delays(async () => {
    cache.start()
    return cache.waitForSync(120_000)
  })
  const counts = cache.store.counts()
  // Every kind watching, then 410 Gone for all of them at once: each lists again over what it holds.
  const kinds = () => cache.readiness().kinds
  for (const deadline = Date.now() + 60_000; !kinds().every((k) => k.absent || k.watching) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25))
  const relist = await delays(async () => {
    process.kill(fakeServer.pid, 'SIGUSR1')
    for (const deadline = Date.now() + 600_000; !kinds().every((k) => k.absent || k.relists > 0) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25))
    return kinds().every((k) => k.absent || k.relists > 0)
  })
  if (!relist.result) console.log('not re-listed:', kinds().filter((k) => !k.absent && k.relists === 0).map((k) => `${k.kind}: ${k.lastError ?? (k.watching ? 'watching' : '?')}`).join('; '))
  cache.stop()
  const row = (name: string, d: Delays) => `| ${name} | ${d.seconds.toFixed(2)} s | ${d.p50.toFixed(2)} / ${d.p99.toFixed(2)} / ${d.max.toFixed(1)} ms | ${d.over1ms} | ${d.over10ms} | ${d.cpu.p99.toFixed(2)} / ${d.cpu.max.toFixed(1)} ms | ${d.cpu.over1ms} |`
  console.log(`${counts.workloads} pods/templates, ${counts.services} Services, ${counts.pdbs} PDBs, ${counts.hpas} HPAs; synced: ${sync.result}; re-listed: ${relist.result}; loop sampled every ${RESOLUTION_MS} ms`)
  console.log('| run | time | loop delay p50 / p99 / max | samples > 1 ms late | > 10 ms late | CPU between turns p99 / max | turns > 2 ms CPU apart |')
  console.log('|---|---|---|---|---|---|---|')
  console.log(row('fetch + parse every page only', fetch))
  console.log(row('ClusterCache sync (list, records, store)', sync))
  console.log(row('ClusterCache re-list of every kind after 410 Gone', relist))
  await writeResult('cache-loop-delay', { fetch, sync: { ...sync, result: undefined }, relist: { ...relist, result: undefined }, counts })
} finally {
  await fakeServer.stop()
  await rm(dir, { recursive: true, force: true })
}
