// At most `rate` operations a second on average, bursts up to `burst`: the report writer's pacing, so a
// scan of a large cluster spreads its writes instead of loading the API server. (A dozen lines; a rate
// limiting library would bring schedulers and clustering hitless does not need.)
export class TokenBucket {
  private tokens: number
  private last = Date.now()
  private readonly rate: number
  private readonly burst: number

  constructor(rate: number, burst: number) {
    this.rate = rate
    this.burst = burst
    this.tokens = burst
  }

  /** Resolves when a token is taken (or at once when the signal aborts). */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now()
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
      this.last = now
      if (this.tokens >= 1 || signal?.aborted) {
        this.tokens -= 1
        return
      }
      const wait = Math.ceil(((1 - this.tokens) / this.rate) * 1000)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait)
        signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
      })
    }
  }
}
