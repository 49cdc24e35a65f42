// What several rules derive from one review (the reviewed workload's lean records, the Services that
// select its pods, its serving containers, its load-balancer targets), worked out once per review and
// shared among them. The engine makes one ReviewMemo per evaluation and hands it to every check(). A
// value is kept with the objects it was worked out from: a rule that judges an object an earlier mutate
// rule changed (or the old object, for allowExistingViolations) works it out afresh. Values are shared,
// so nobody changes them.
import type { KubeObject, ReviewInput } from '../model/types.ts'

interface Entry {
  operation: ReviewInput['operation']
  object: KubeObject | null
  oldObject: KubeObject | null
  value: unknown
}

export class ReviewMemo {
  private readonly entries = new Map<string, Entry>()

  once<T>(key: string, review: Pick<ReviewInput, 'operation' | 'object' | 'oldObject'>, work: () => T): T {
    const known = this.entries.get(key)
    if (known !== undefined && known.object === review.object && known.oldObject === review.oldObject && known.operation === review.operation) return known.value as T
    const value = work()
    this.entries.set(key, { operation: review.operation, object: review.object, oldObject: review.oldObject, value })
    return value
  }
}

/** `work()` once per review with the engine's memo; every time without one (a check() called on its own). */
export function once<T>(memo: ReviewMemo | undefined, key: string, review: Pick<ReviewInput, 'operation' | 'object' | 'oldObject'>, work: () => T): T {
  return memo ? memo.once(key, review, work) : work()
}
