// Values worked out once per key and kept, up to a count: when full it is cleared, so a hostile stream
// of distinct keys costs a clear now and then, never memory. For the few texts every review repeats
// (quantity strings, YAML scalars, fix snippets); keep keys short or bound their length at the caller.

export class BoundedMemo<V> {
  private readonly values = new Map<string, V>()
  private readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  get(key: string, work: (key: string) => V): V {
    if (this.values.has(key)) return this.values.get(key) as V
    const value = work(key)
    if (this.values.size >= this.limit) this.values.clear()
    this.values.set(key, value)
    return value
  }
}
