// One pino logger for the process: JSON lines on stdout with epoch-millisecond times (pino's cheapest;
// ISO formatting cost 1.7 % of a review in the profile), the level from the settings.
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(level = 'info', destination: pino.DestinationStream = stdoutLog().stream): Logger {
  return pino({ level, base: { service: 'hitless' }, timestamp: pino.stdTimeFunctions.epochTime }, destination)
}

/**
 * Lines waiting for stdout beyond this are dropped and counted (docs/decisions/0046): a reader of
 * stdout that stalls (a stuck container runtime, a full disk under it) costs log lines, not memory.
 */
export const STDOUT_MAX_WAITING_BYTES = 16 * 1024 * 1024

export interface StdoutLog {
  stream: ReturnType<typeof pino.destination>
  /** Lines dropped because `maxWaitingBytes` were already waiting. */
  droppedLines(): number
}

/**
 * pino's own destination (sonic-boom) as pino builds it by default: each line is handed to libuv's pool
 * and written without blocking the event loop (lines that come while a write is out go together in the
 * next one), so a slow stdout never delays a review; bounded, unlike pino's default.
 */
export function stdoutLog(fd = 1, maxWaitingBytes = STDOUT_MAX_WAITING_BYTES): StdoutLog {
  const stream = pino.destination({ dest: fd, sync: false, minLength: 0, maxLength: maxWaitingBytes })
  let dropped = 0
  stream.on('drop', () => dropped++)
  return { stream, droppedLines: () => dropped }
}
