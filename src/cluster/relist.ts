// A (re-)list put into the store without blocking the event loop: the listed entries go in over the
// old records in slices (LoopPacer), then the records the list no longer holds are deleted, as a burst
// of watch events would do it. Every put and delete keeps the store's derived indexes (labels, HPAs by
// target, Node shapes, cross-namespace routes) consistent, so a review between two slices sees a
// consistent store: never a half-filled kind, only one briefly mixed old and new, as between watch events.
import { entryKey, type Entry } from './entry.ts'
import { forgetKey, putEntry } from './ingest.ts'
import { LoopPacer } from './loop-pacer.ts'
import type { ClusterStore } from './store.ts'

export async function replaceKindInSlices(store: ClusterStore, kind: string, entries: readonly Entry[], pacer = new LoopPacer()): Promise<void> {
  const listed = new Map<string, Set<string>>()
  for (const entry of entries) {
    if (pacer.due()) await pacer.pause()
    putEntry(store, entry)
    const { namespace, name } = entryKey(entry)
    let names = listed.get(namespace)
    if (!names) listed.set(namespace, (names = new Set()))
    names.add(name)
  }
  // The store's Maps may change between slices (other kinds' watch events): their iterators stay valid.
  for (const entry of store.entries(kind)) {
    if (pacer.due()) await pacer.pause()
    const { namespace, name } = entryKey(entry)
    if (!listed.get(namespace)?.has(name)) forgetKey(store, kind, namespace, name)
  }
}
