// Records of one namespace grouped by a key they name (alb Ingresses and TargetGroupBindings by the
// Service they send to), each group in name order, so a rule asks for one Service's instead of
// scanning the namespace. Laid out for memory: a key held by one record points at it directly (most
// Services have one Ingress); a group of several is a sorted array, replaced (never changed) on a
// write, so a caller may keep what get() returned.
/** An empty group (shared: nothing allocated per lookup). */
export const NONE: readonly never[] = Object.freeze([])

export class GroupedByName<T extends { name: string }> {
  private readonly groups = new Map<string, T | readonly T[]>()

  add(key: string, record: T): void {
    const held = this.groups.get(key)
    if (held === undefined) return void this.groups.set(key, record)
    const rest = (Array.isArray(held) ? (held as readonly T[]) : [held as T]).filter((other) => other.name !== record.name)
    const group = [...rest, record].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    this.groups.set(key, group.length === 1 ? group[0]! : Object.freeze(group))
  }

  /** Drops the record named `name` from the group of `key`. */
  remove(key: string, name: string): void {
    const held = this.groups.get(key)
    if (held === undefined) return
    if (!Array.isArray(held)) {
      if ((held as T).name === name) this.groups.delete(key)
      return
    }
    const rest = (held as readonly T[]).filter((other) => other.name !== name)
    if (rest.length === held.length) return
    this.groups.set(key, rest.length === 1 ? rest[0]! : Object.freeze(rest))
  }

  /** The group of `key`, in name order. */
  get(key: string): readonly T[] {
    const held = this.groups.get(key)
    return held === undefined ? NONE : Array.isArray(held) ? (held as readonly T[]) : [held as T]
  }
}
