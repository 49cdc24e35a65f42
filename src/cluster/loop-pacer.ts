// Long synchronous work (a list's pages turned into records, a re-list put into the store) cut into
// slices of about `sliceMs`, yielding to the event loop between them (setImmediate: I/O first), so a
// review that arrives meanwhile waits one slice, not the whole list.
export const DEFAULT_SLICE_MS = 0.5

export class LoopPacer {
  private sliceStart = performance.now()
  private readonly sliceMs: number

  /** sliceMs 0: a yield after every step (tests interleave with each one). */
  constructor(sliceMs = DEFAULT_SLICE_MS) {
    this.sliceMs = sliceMs
  }

  /** The slice has used its time: the caller awaits pause() before the next step. */
  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.sliceStart = performance.now()
  }
}
