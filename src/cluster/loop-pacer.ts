// Long synchronous work (a list's pages turned into records, a re-list put into the store) cut into
// slices, yielding to the event loop between them (setImmediate: I/O first), so a review that arrives
// meanwhile waits one slice, not the whole list. The budget is per turn of the loop and shared by every
// pacer of the process: a dozen kinds re-listing at once still take about `sliceMs` of a turn together,
// not a dozen slices (every callback queued with setImmediate runs in the same turn).
export const DEFAULT_SLICE_MS = 0.5

let turnStart = performance.now()
let nextTurn: Promise<void> | undefined

/** One promise per turn for every paced task: they resume together and share that turn's budget. */
function awaitNextTurn(): Promise<void> {
  return (nextTurn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      nextTurn = undefined
      turnStart = performance.now()
      resolve()
    }),
  ))
}

export class LoopPacer {
  private readonly sliceMs: number

  /** sliceMs 0: a yield after every step (tests interleave with each one). */
  constructor(sliceMs = DEFAULT_SLICE_MS) {
    this.sliceMs = sliceMs
  }

  /** This turn's budget is used up (by this task or another): the caller awaits pause() before its next step. */
  due(): boolean {
    return performance.now() - turnStart >= this.sliceMs
  }

  pause(): Promise<void> {
    return awaitNextTurn()
  }
}
