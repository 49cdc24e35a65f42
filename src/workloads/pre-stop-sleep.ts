// How long a preStop hook holds the container before SIGTERM, when that can be read off the spec.
import type { Handler } from './pod-template.ts'

const SLEEP_BINARIES = new Set(['sleep', '/bin/sleep', '/usr/bin/sleep'])
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', '/bin/sh', '/bin/bash', '/bin/ash', '/bin/dash', '/usr/bin/bash'])
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 }

/** Longer sleeps are not durations anyone means (68 years); they are not read, never written back. */
const MAX_SLEEP_SECONDS = 2 ** 31 - 1

function parseDuration(text: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text ?? '')
  if (!match) return undefined
  const seconds = Math.ceil(Number(match[1]) * UNIT_SECONDS[match[2] ?? '']!)
  return Number.isSafeInteger(seconds) && seconds <= MAX_SLEEP_SECONDS ? seconds : undefined
}

function sleepsInScript(script: string): number | undefined {
  let total: number | undefined
  for (const match of script.matchAll(/(?:^|[\s;&|(])sleep\s+(\d+(?:\.\d+)?[smh]?)(?=$|[\s;&|)])/g)) {
    total = (total ?? 0) + (parseDuration(match[1]) ?? 0)
  }
  return total !== undefined && total <= MAX_SLEEP_SECONDS ? total : undefined
}

/**
 * Seconds a preStop hook sleeps: the native sleep action, `sleep N` exec, or `sh -c '... sleep N ...'`.
 * Undefined when the hook does something else (an httpGet, a script without a literal sleep).
 */
export function preStopSleepSeconds(handler: Handler | undefined): number | undefined {
  if (!handler) return undefined
  const native = handler.sleep?.seconds
  if (typeof native === 'number') return Number.isSafeInteger(native) && native >= 0 && native <= MAX_SLEEP_SECONDS ? native : undefined
  const command = handler.exec?.command
  if (!Array.isArray(command) || command.length === 0) return undefined
  const [program, ...args] = command
  if (SLEEP_BINARIES.has(program!) && args.length === 1) return parseDuration(args[0])
  if (SHELLS.has(program!) && args[0] === '-c' && typeof args[1] === 'string') return sleepsInScript(args[1])
  return undefined
}
