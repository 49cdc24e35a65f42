// The request bodies that cost a webhook the most memory, all within its 6 MiB body limit: the
// flood of empty objects JSON.parse turns into millions of objects (refused by the structure count),
// and the worst body that passes it (a real Deployment review with ~950k short strings in one field).
// Used by the reliability suite (the replica survives) and bench/memory.ts (how much it costs).
import { readFileSync } from 'node:fs'

const LIMIT = 6 * 1024 * 1024

const capture = (): any => JSON.parse(readFileSync(new URL('../../../shared/fixtures/apiserver-v1.28-create-deployment.json', import.meta.url), 'utf8'))

/** `[{},{},…]` up to the body limit: about 2 million empty objects once parsed. */
export function emptyObjectFlood(): string {
  const count = Math.floor((LIMIT - 2) / 3)
  return `[${'{},'.repeat(count - 1)}{}]`
}

/** A Deployment review with as many short strings as fit the body limit and the structure limits. */
export function maximalReview(uid: string): string {
  const review = capture()
  review.request.uid = uid
  const base = JSON.stringify(review).length
  const count = Math.min(950_000, Math.floor((LIMIT - base - 1024) / 6))
  review.request.object.spec.template.spec.containers[0].args = new Array(count).fill('abc')
  return JSON.stringify(review)
}

/** Peak resident memory of a process (VmHWM), in MiB, from /proc. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
}

export function currentRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024)
}
