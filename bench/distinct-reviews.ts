// Heap after many distinct reviews: Service reviews with distinct names and port lists, through the
// whole app (in-process, no TLS), without and with a cluster view (the Service rules only run with
// one); the heap after two full collections, relative to after 1,000 reviews, at 15,000, 30,000,
// 60,000 and 100,000. A plateau (no growth with the count) means nothing is kept per review.
// Run: npm run bench:distinct-reviews (needs --expose-gc, which the script passes). Bounded: 100,000 reviews per case.
import { Writable } from 'node:stream'
import { buildApp } from '../src/app.ts'
import { storeFrom } from '../src/cluster/ingest.ts'
import { buildPolicy } from '../src/engine/policy.ts'
import { createLogger } from '../src/log/log.ts'
import type { KubeObject } from '../src/model/types.ts'
import { admissionReview, configFrom, loadYaml } from '../test/helpers/objects.ts'

const STEPS = [15_000, 30_000, 60_000, 100_000]
const gc = globalThis.gc
if (!gc) throw new Error('run with node --expose-gc')

const service = (i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: `svc-${i}`, namespace: 'default' },
  spec: { selector: { app: `a${i % 97}` }, ports: [{ name: `p${i}`, port: 1 + (i % 65535), targetPort: `t${i}` }, { port: 1 + ((i * 7) % 65535), targetPort: 1 + ((i * 13) % 65535) }] },
})

function heapMiB(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed / 2 ** 20
}

for (const [name, settings] of [['cluster off', {}], ['with a cluster view', { cluster: storeFrom([loadYaml('readiness-probe/passes-has-probe.yaml')]) }]] as const) {
  const policy = buildPolicy(configFrom(), settings)
  const app = buildApp({ policy: () => policy, logger: createLogger('info', new Writable({ write: (_c, _e, done) => done() })) })
  let next = 0
  const review = async (to: number) => {
    for (; next < to; next++) {
      const answer = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(admissionReview(service(next))) })
      if (answer.statusCode !== 200) throw new Error(answer.body)
    }
  }
  await review(1_000)
  const base = heapMiB()
  const growth: string[] = []
  for (const step of STEPS) {
    await review(step)
    growth.push(`${step}: ${(heapMiB() - base).toFixed(1)} MiB`)
  }
  console.log(`${name}: heap after GC relative to 1,000 reviews: ${growth.join(', ')}`)
}
