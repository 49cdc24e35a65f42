// How long a preStop hook holds the container before SIGTERM, when that can be read off the spec.
import type { Handler } from './pod-template.ts'

const SLEEP_BINARIES = new Set(['sleep', '/bin/sleep', '/usr/bin/sleep'])
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', '/bin/sh', '/bin/bash', '/bin/ash', '/bin/dash', '/usr/bin/bash'])
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 }

function parseDuration(text: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text ?? '')
  if (!match) return undefined
  return Math.ceil(Number(match[1]) * UNIT_SECONDS[match[2] ?? '']!)
}

function sleepsInScript(script: string): number | undefined {
  let total: number | undefined
  for (const match of script.matchAll(/(?:^|[\s;&|(])sleep\s+(\d+(?:\.\d+)?[smh]?)(?=$|[\s;&|)])/g)) {
    total = (total ?? 0) + (parseDuration(match[1]) ?? 0)
  }
  return total
}

/**
 * Seconds a preStop hook sleeps: the native sleep action, `sleep N` exec, or `sh -c '... sleep N ...'`.
 * Undefined when the hook does something else (an httpGet, a script without a literal sleep).
 */
export function preStopSleepSeconds(handler: Handler | undefined): number | undefined {
  if (!handler) return undefined
  if (typeof handler.sleep?.seconds === 'number') return handler.sleep.seconds
  const command = handler.exec?.command
  if (!Array.isArray(command) || command.length === 0) return undefined
  const [program, ...args] = command
  if (SLEEP_BINARIES.has(program!) && args.length === 1) return parseDuration(args[0])
  if (SHELLS.has(program!) && args[0] === '-c' && typeof args[1] === 'string') return sleepsInScript(args[1])
  return undefined
}
