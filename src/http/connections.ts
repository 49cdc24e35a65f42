// Connections that pay for themselves. A cap bounds the memory connections hold (a TLS connection
// costs tens of KiB), but a cap that refuses new connections lets anyone who opens enough of them lock
// out the API server. So the cap never refuses while someone else is merely holding a connection:
// at the cap, the new connection takes the place of the one doing least (see victim()), and
// connections that never completed a review are closed after a short while idle; only those that did
// keep the long keep-alive the API server relies on. Connections are keyed by their remote address,
// which the TCP and the TLS socket share, so no private socket field is needed.
import type { Server, Socket } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface ConnectionLimits {
  /** Connections held at once; at the cap a new one replaces the least useful one. */
  maxConnections: number
  /** A connection that has not completed a review is closed when idle this long after an answer. */
  idleWithoutReviewMs: number
  /**
   * Younger than this, a connection in its TLS handshake or its first headers, or a request whose body
   * is still arriving, is evicted only when nothing quiet or slow is left; older ones are quiet or slow.
   */
  graceMs: number
}

/** Server timeouts: a review arrives in milliseconds; the API server keeps idle connections 90 s. */
export const TIMEOUTS = {
  /** Whole request, headers and body. */
  requestMs: 10_000,
  headersMs: 5_000,
  /**
   * Longer than the API server's 90 s idle timeout, so it is always the client that closes; only for
   * connections that completed a review (src/http/connections.ts closes the others sooner).
   */
  keepAliveMs: 95_000,
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 1024, idleWithoutReviewMs: 5_000, graceMs: 1_000 }

type Phase = 'new' | 'request' | 'idle'

interface Tracked {
  socket: Socket
  phase: Phase
  /** When the current phase began. */
  since: number
  /** Reviews answered on this connection. */
  reviews: number
  /** The request in progress (phase 'request'). */
  request?: IncomingMessage
}

export type ClosedReason = 'evicted' | 'idle'

export interface ConnectionGuard {
  /** Connections held now, by phase. */
  counts(): Record<Phase, number>
  /** Stops the sweep (the server is closed). */
  stop(): void
}

const keyOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`

/** Whether a finished request was an admission review (what earns a connection the long keep-alive). */
export const isReview = (request: IncomingMessage, response: ServerResponse) =>
  request.method === 'POST' && response.statusCode < 500 && /^\/(mutate|validate)(\?|$)/.test(request.url ?? '')

export function guardConnections(server: Server, limits: ConnectionLimits, onClose: (reason: ClosedReason) => void = () => {}): ConnectionGuard {
  const tracked = new Map<string, Tracked>()
  // Node's own cap would refuse the newcomer; this guard decides instead.
  server.maxConnections = Number.POSITIVE_INFINITY

  const close = (entry: Tracked, reason: ClosedReason) => {
    onClose(reason)
    entry.socket.destroy()
  }

  /**
   * The least useful connection, oldest first within each tier:
   * 1. quiet: idle without a review, or no request past the grace;
   * 2. slow: a request whose body is late (past the grace);
   * 3. young: still opening, or a request whose body is still arriving within the grace. A flood of
   *    connections faster than the grace keeps every held one young; then the oldest goes, so each
   *    connection, the newcomer included, gets as long as any other (the cap over the flood's rate) to
   *    send its request, instead of the newcomer being the one refused;
   * 4. idle after a review: the API server's pool, last, as closing one may race its next request.
   * A request whose body is in (being judged, or its answer on the way) is never chosen: a newcomer is
   * refused only when every held connection is such a request.
   */
  const victim = (now: number): Tracked | undefined => {
    let quiet: Tracked | undefined
    let slow: Tracked | undefined
    let young: Tracked | undefined
    let idle: Tracked | undefined
    const older = (a: Tracked, b: Tracked | undefined) => !b || a.since < b.since
    for (const entry of tracked.values()) {
      const past = now - entry.since >= limits.graceMs
      if (entry.phase === 'idle') {
        if (entry.reviews > 0) {
          if (older(entry, idle)) idle = entry
        } else if (older(entry, quiet)) quiet = entry
      } else if (entry.phase === 'new') {
        if (past) {
          if (older(entry, quiet)) quiet = entry
        } else if (older(entry, young)) young = entry
      } else if (!entry.request?.complete) {
        if (past) {
          if (older(entry, slow)) slow = entry
        } else if (older(entry, young)) young = entry
      }
    }
    return quiet ?? slow ?? young ?? idle
  }

  server.on('connection', (socket: Socket) => {
    const now = Date.now()
    const key = keyOf(socket)
    if (!socket.remoteAddress) {
      socket.destroy()
      return
    }
    if (tracked.size >= limits.maxConnections) {
      const out = victim(now)
      if (!out) {
        // Every connection is a request whose body is in (being judged, or answered): the newcomer goes.
        onClose('evicted')
        socket.destroy()
        return
      }
      close(out, 'evicted')
      tracked.delete(keyOf(out.socket))
    }
    const entry: Tracked = { socket, phase: 'new', since: now, reviews: 0 }
    tracked.set(key, entry)
    socket.once('close', () => {
      if (tracked.get(key) === entry) tracked.delete(key)
    })
  })

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const entry = tracked.get(keyOf(request.socket))
    if (!entry) return
    entry.phase = 'request'
    entry.since = Date.now()
    entry.request = request
    // Idle once the answer is sent and the body is in: a refused body (413, 503) is still read and
    // dropped after its answer, and the client sending it is not idle.
    const idle = () => {
      if (entry.phase !== 'request') return
      if (isReview(request, response)) entry.reviews++
      entry.phase = 'idle'
      entry.request = undefined
      entry.since = Date.now()
    }
    response.once('close', () => {
      if (request.complete) idle()
      else request.once('end', idle).once('close', idle)
    })
  })

  // A sweep rather than a timer per connection: one pass a second over at most maxConnections entries.
  // Connections that have not sent a request yet are left to the server's own deadlines (headersTimeout
  // once the handshake is done) and to eviction at the cap: a deadline on the handshake or a sweep
  // after a long pause of the event loop would take a connection whose client is merely slow, or whose
  // request is waiting, unread, in the socket.
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const entry of tracked.values()) {
      if (entry.phase === 'idle' && entry.reviews === 0 && now - entry.since >= limits.idleWithoutReviewMs) close(entry, 'idle')
    }
  }, Math.min(1000, limits.idleWithoutReviewMs))
  sweep.unref()

  return {
    counts() {
      const counts: Record<Phase, number> = { new: 0, request: 0, idle: 0 }
      for (const entry of tracked.values()) counts[entry.phase]++
      return counts
    },
    stop() {
      clearInterval(sweep)
    },
  }
}
