// A client holding connections, as tests of the connection limits need it: idle connections of
// three sorts (silent after the handshake, after a cheap GET, after a real review) and stalled ones
// (headers sent, body stopped), each held until the server closes it; and the kubelet and the API
// server beside it, probing and reviewing on new connections.
import { get } from 'node:http'
import { request } from 'node:https'
import { connect, type TLSSocket } from 'node:tls'

export type Kind = 'silent' | 'after-get' | 'after-review' | 'stalled'

function holdOne(url: URL, kind: Kind, ca: string, review: string): Promise<TLSSocket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca, servername: 'localhost' }, () => {
      if (kind === 'silent') return resolve(socket)
      if (kind === 'stalled') {
        socket.write(`POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"kind":`)
        return resolve(socket)
      }
      const body = kind === 'after-review' ? review : ''
      socket.write(kind === 'after-review'
        ? `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
        : 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
      // Held once the answer is in: from here on the connection is idle.
      socket.once('data', () => resolve(socket))
    })
    socket.on('error', () => resolve(undefined))
    socket.on('close', () => resolve(undefined))
    socket.setTimeout(20_000, () => socket.destroy())
  })
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
  })
}

export function send(url: string, ca: string, review: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(new URL('/validate?timeout=5s', url), { method: 'POST', ca, agent: false, timeout: 10_000, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
    req.end(review)
  })
}

export interface Attack {
  /** Connections held now. */
  held: Set<TLSSocket>
  opened: () => number
  /** Resolves when every connection has been opened once (and those still held are held). */
  done: Promise<void>
  stop(): void
}

/**
 * Opens each connection of `kinds` once, `atOnce` at a time, and holds it until the server
 * closes it; stops opening after `forMs` (a 2-core machine shared with other work may open only a few
 * dozen TLS connections a second; on a quiet one all 6,000 are open within that time).
 */
export function attack(url: URL, kinds: Kind[], options: { forMs: number; atOnce: number; ca: string; review: string }): Attack {
  const { forMs, atOnce, ca, review } = options
  const held = new Set<TLSSocket>()
  let opened = 0
  let stopped = false
  const queue = [...kinds]
  const timer = setTimeout(() => queue.splice(0), forMs)
  const opener = async () => {
    for (let kind = queue.shift(); kind && !stopped; kind = queue.shift()) {
      const socket = await holdOne(url, kind, ca, review)
      opened++
      if (!socket || socket.destroyed) continue
      held.add(socket)
      socket.once('close', () => held.delete(socket))
    }
  }
  const done = Promise.all(Array.from({ length: atOnce }, opener)).then(() => clearTimeout(timer))
  return {
    held,
    opened: () => opened,
    done,
    stop() {
      stopped = true
      for (const socket of held) socket.destroy()
    },
  }
}

/** `idle` idle connections of the three sorts and `stalled` stalled ones, interleaved. */
export function mix(idle: number, stalled: number): Kind[] {
  const kinds: Kind[] = []
  for (let i = 0; i < Math.max(idle, stalled); i++) {
    if (i < idle) kinds.push((['silent', 'after-get', 'after-review'] as const)[i % 3]!)
    if (i < stalled) kinds.push('stalled')
  }
  return kinds
}

/** The kubelet (two probers) and the API server (two senders), until `until` settles and at least `least` each. */
export async function probeAndReview(probeUrl: string, url: string, until: Promise<void>, least: number, ca: string, review: string) {
  let over = false
  void until.then(() => (over = true))
  const probes: number[] = []
  const reviews: number[] = []
  const kubelet = async () => {
    for (let i = 0; !over || i < least / 2; i++) probes.push(await probe(`${probeUrl}${i % 2 ? '/readyz' : '/healthz'}`))
  }
  const apiserver = async () => {
    for (let i = 0; !over || i < least / 2; i++) reviews.push(await send(url, ca, review))
  }
  await Promise.all([kubelet(), kubelet(), apiserver(), apiserver()])
  return { probes, reviews }
}

