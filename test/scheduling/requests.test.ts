import t from 'tap'
import { effectiveRequests } from '../../src/scheduling/requests.ts'
import type { PodSpec } from '../../src/workloads/pod-template.ts'

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> }
const c = (name: string, requests: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ name, resources: { requests }, ...more })
const sidecar = (name: string, requests: Record<string, unknown>) => c(name, requests, { restartPolicy: 'Always' })
const spec = (fields: Record<string, unknown>) => fields as unknown as PodSpec

t.test('regular containers add up', async (t) => {
  t.same(effectiveRequests(spec({ containers: [c('a', { cpu: '100m', memory: '128Mi' }), c('b', { cpu: '1.5', memory: '1Gi' })] })), { cpu: 1600, memory: 1152 * 1024 ** 2 })
  t.same(effectiveRequests(spec({ containers: [{ name: 'a' }] })), {}, 'no resources, no requests')
  t.same(effectiveRequests(spec({})), {})
})

t.test('a plain init container counts alone: the max of it and the regular sum', async (t) => {
  const pod = spec({ initContainers: [c('migrate', { cpu: '2', memory: '4Gi' }), c('fetch', { cpu: '1', memory: '2Gi' })], containers: [c('app', { cpu: '500m', memory: '1Gi' }), c('proxy', { cpu: '200m', memory: '512Mi' })] })
  t.same(effectiveRequests(pod), { cpu: 2000, memory: 4 * 1024 ** 3 })
  const small = spec({ initContainers: [c('init', { cpu: '100m' })], containers: [c('app', { cpu: '1' })] })
  t.same(effectiveRequests(small), { cpu: 1000 }, 'init smaller than the regular sum')
})

t.test('native sidecars (KEP-753): added to the regular sum, and to every init container declared after them', async (t) => {
  // InitContainerUse(i) = Σ sidecars before i + init i; PodRequest = max(Σ regular + Σ sidecars, max InitContainerUse)
  const after = spec({ initContainers: [sidecar('mesh', { cpu: '1' }), c('migrate', { cpu: '5' })], containers: [c('app', { cpu: '2' })] })
  t.same(effectiveRequests(after), { cpu: 6000 }, 'init after the sidecar: 1 + 5 > 2 + 1')
  const before = spec({ initContainers: [c('migrate', { cpu: '5' }), sidecar('mesh', { cpu: '1' })], containers: [c('app', { cpu: '2' })] })
  t.same(effectiveRequests(before), { cpu: 5000 }, 'init before the sidecar: max(5, 2 + 1)')
  const sum = spec({ initContainers: [sidecar('mesh', { cpu: '1' }), c('init', { cpu: '1' })], containers: [c('app', { cpu: '2' })] })
  t.same(effectiveRequests(sum), { cpu: 3000 }, 'regular + sidecar sum wins: max(2 + 1, 1 + 1)')
  // Two sidecars and three init containers, interleaved:
  //   init-1 (1), sidecar-1 (1), init-2 (2) → 1 + 2 = 3, sidecar-2 (2), init-3 (1) → 1 + 2 + 1 = 4; containers 1 + sidecars 3 = 4
  const interleaved = spec({
    initContainers: [c('init-1', { cpu: '1', memory: '1Gi' }), sidecar('sidecar-1', { cpu: '1', memory: '100Mi' }), c('init-2', { cpu: '2', memory: '3Gi' }), sidecar('sidecar-2', { cpu: '2' }), c('init-3', { cpu: '1.5' })],
    containers: [c('app', { cpu: '1', memory: '1Gi' })],
  })
  t.same(effectiveRequests(interleaved), { cpu: 4500, memory: 3 * 1024 ** 3 + 100 * 1024 ** 2 }, 'cpu: init-3 sees both sidecars (1 + 2 + 1.5); memory: init-2 sees sidecar-1 (3Gi + 100Mi)')
  t.same(effectiveRequests(spec({ initContainers: [sidecar('only', { memory: '64Mi' })] })), { memory: 64 * 1024 ** 2 }, 'a pod of sidecars alone')
  const notSidecar = spec({ initContainers: [c('mesh', { cpu: '1' }, { restartPolicy: 'OnFailure' }), c('migrate', { cpu: '5' })], containers: [c('app', { cpu: '2' })] })
  t.same(effectiveRequests(notSidecar), { cpu: 5000 }, 'only restartPolicy Always makes a sidecar')
})

t.test('a limit without a request counts as the request; a request beside a limit wins', async (t) => {
  const limitsOnly = spec({ containers: [{ name: 'app', resources: { limits: { cpu: '2', memory: '8Gi' } } }] })
  t.same(effectiveRequests(limitsOnly), { cpu: 2000, memory: 8 * 1024 ** 3 })
  const both = spec({ containers: [{ name: 'app', resources: { requests: { cpu: '500m' }, limits: { cpu: '2', memory: '1Gi' } } as Resources }] })
  t.same(effectiveRequests(both), { cpu: 500, memory: 1024 ** 3 }, 'per resource: cpu from requests, memory from limits')
  const init = spec({ initContainers: [{ name: 'init', resources: { limits: { memory: '16Gi' } } }], containers: [c('app', { memory: '1Gi' })] })
  t.same(effectiveRequests(init), { memory: 16 * 1024 ** 3 }, 'init containers too')
  const explicitZero = spec({ containers: [{ name: 'app', resources: { requests: { cpu: '0' }, limits: { cpu: '4' } } }] })
  t.same(effectiveRequests(explicitZero), { cpu: 0 }, 'an explicit 0 request is a request')
})

t.test('pod overhead is added on top', async (t) => {
  const pod = spec({ overhead: { cpu: '250m', memory: '120Mi' }, initContainers: [c('init', { cpu: '3' })], containers: [c('app', { cpu: '1', memory: '1Gi' })] })
  t.same(effectiveRequests(pod), { cpu: 3250, memory: 1024 ** 3 + 120 * 1024 ** 2 }, 'after the init max, not before')
  t.same(effectiveRequests(spec({ overhead: { cpu: '100m' } })), { cpu: 100 }, 'even with no container requests')
})

t.test('extended resources, hugepages and ephemeral-storage are resources like the others', async (t) => {
  const pod = spec({
    initContainers: [c('warm', { 'nvidia.com/gpu': '1', 'ephemeral-storage': '20Gi' })],
    containers: [
      c('train', { 'nvidia.com/gpu': 2, 'hugepages-2Mi': '100Mi', 'ephemeral-storage': '1Gi' }),
      { name: 'sidecar', resources: { limits: { 'nvidia.com/gpu': '1', 'example.com/foo': '3' } } },
    ],
  })
  t.same(effectiveRequests(pod), { 'nvidia.com/gpu': 3, 'hugepages-2Mi': 100 * 1024 ** 2, 'ephemeral-storage': 20 * 1024 ** 3, 'example.com/foo': 3 })
})

t.test('sums are exact and rounded once, as the scheduler rounds the summed Quantity', async (t) => {
  t.same(effectiveRequests(spec({ containers: [c('a', { memory: '0.5' }), c('b', { memory: '0.5' })] })), { memory: 1 }, 'two half bytes are one byte, not two')
  t.same(effectiveRequests(spec({ containers: [c('a', { cpu: '0.5m' }), c('b', { cpu: '0.5m' })] })), { cpu: 2 }, 'but each value is first rounded up to 1m (API defaulting)')
  t.same(effectiveRequests(spec({ containers: [c('a', { memory: '12Ti' }), c('b', { memory: '1' })] })), { memory: 12 * 1024 ** 4 + 1 }, 'exact beyond 2^53 milli-units')
})

t.test('pod-level resources replace the containers sum for cpu, memory and hugepages', async (t) => {
  const containers = [c('a', { cpu: '1', memory: '1Gi', 'ephemeral-storage': '1Gi' }), c('b', { cpu: '1', memory: '1Gi' })]
  t.same(effectiveRequests(spec({ resources: { requests: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '99Gi' } }, containers })), { cpu: 4000, memory: 8 * 1024 ** 3, 'ephemeral-storage': 1024 ** 3 }, 'ephemeral-storage is not a pod-level resource')
  t.same(effectiveRequests(spec({ resources: { requests: { cpu: '4' } }, containers })), { cpu: 4000, memory: 2 * 1024 ** 3, 'ephemeral-storage': 1024 ** 3 })
  t.same(effectiveRequests(spec({ resources: { limits: { cpu: '8', memory: '16Gi' } }, containers: [c('a', { cpu: '1' })] })), { cpu: 1000, memory: 16 * 1024 ** 3 }, 'a pod-level limit is the request only where no container requests the resource')
  t.same(effectiveRequests(spec({ resources: { requests: { cpu: '4' } }, overhead: { cpu: '100m' }, containers })), { cpu: 4100, memory: 2 * 1024 ** 3, 'ephemeral-storage': 1024 ** 3 }, 'overhead on top')
  t.same(effectiveRequests(spec({ resources: { requests: { cpu: '4' } }, containers }), { podLevelResources: false }), { cpu: 2000, memory: 2 * 1024 ** 3, 'ephemeral-storage': 1024 ** 3 }, 'ignored when the option says the server drops them')
})

t.test('malformed input never throws; invalid quantities are skipped', async (t) => {
  t.same(effectiveRequests(null as unknown as PodSpec), {})
  t.same(effectiveRequests(spec({ containers: 'x', initContainers: [null, 3], overhead: [] })), {})
  t.same(effectiveRequests(spec({ containers: [c('a', { cpu: 'lots', memory: '1Gi' }), { name: 'b', resources: { requests: [], limits: 'x' } }] })), { memory: 1024 ** 3 })
})
