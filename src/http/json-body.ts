// Parsing request bodies without letting one request take the process's memory. JSON.parse turns 8 MiB
// of `[{},{},…]` into millions of objects (hundreds of MiB of heap); a pass over the bytes first counts
// values and nesting, outside strings, and refuses a body past the limits before anything is built.
// Real AdmissionReviews (a Deployment with managedFields, a Service) stay far below them.

import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from '../model/json-bytes.ts'

export interface StructureLimits {
  /** Objects and arrays in one body. */
  maxContainers: number
  /** Values of any kind (elements and members). */
  maxValues: number
  /** Nesting depth. */
  maxDepth: number
}

export const DEFAULT_STRUCTURE_LIMITS: StructureLimits = { maxContainers: 250_000, maxValues: 1_000_000, maxDepth: 128 }


/** Why the body is too complex to parse, or undefined. Malformed JSON is left to the parser. */
export function structureProblem(body: Uint8Array, limits: StructureLimits = DEFAULT_STRUCTURE_LIMITS): string | undefined {
  let containers = 0
  let values = 1
  let depth = 0
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
      continue
    }
    if (byte === QUOTE) inString = true
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++containers > limits.maxContainers) return `more than ${limits.maxContainers} objects and arrays`
      if (++depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth}`
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) depth--
    else if (byte === COMMA && ++values > limits.maxValues) return `more than ${limits.maxValues} values`
  }
  return undefined
}
