// Load shedding before memory runs out. Each review in flight holds its body (and soon its parsed
// form); the budget caps the bytes of bodies in flight and their number. A request that does not fit
// is answered 503 at once, before its body is read: the API server counts that as a failed call (its
// failurePolicy applies) and its next call may land on a replica with room. Reviews the API server
// really sends are a few KiB, so the budget only ever bites on floods and hostile bodies.

export interface BudgetLimits {
  /** Bytes of request bodies in flight (the Content-Length, or the body limit when none is given). */
  maxBytes: number
  /** Requests in flight. */
  maxRequests: number
}

export class AdmissionBudget {
  private bytes = 0
  private requests = 0
  readonly limits: BudgetLimits

  constructor(limits: BudgetLimits) {
    this.limits = limits
  }

  /** Takes `size` bytes and a slot; returns the release function, or undefined when it does not fit. */
  take(size: number): (() => void) | undefined {
    if (this.requests + 1 > this.limits.maxRequests || this.bytes + size > this.limits.maxBytes) return undefined
    this.bytes += size
    this.requests++
    let released = false
    return () => {
      if (released) return
      released = true
      this.bytes -= size
      this.requests--
    }
  }

  get inFlight(): { bytes: number; requests: number } {
    return { bytes: this.bytes, requests: this.requests }
  }
}
