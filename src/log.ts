// One pino logger for the process: JSON lines on stdout, ISO timestamps, the level from the config.
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  const options = { level, base: { service: 'hitless' }, timestamp: pino.stdTimeFunctions.isoTime }
  return destination ? pino(options, destination) : pino(options)
}
