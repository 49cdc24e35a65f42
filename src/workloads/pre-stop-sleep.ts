// How long a preStop hook holds the container before SIGTERM, when that can be read off the spec.
import type { Handler } from './pod-template.ts'
import { cond, q, qList } from '../model/cel.ts'

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

// The CEL twin of preStopSleepSeconds (hitless export-policies), in steps a policy keeps in variables,
// so no expression nests another many times over: a hook's duration texts (durations), each one's
// seconds (durationSeconds), their sum (sumSleeps). Written without a regex find, a list sum or a ceil
// function: Kubernetes' CEL has the first two, the JavaScript CEL the tests check it with does not. A
// shell script's sleeps are found by splitting it at "sleep"; CEL has no loops, so the first
// SCRIPT_SLEEPS of them are added up (the webhook adds all).

/** How many `sleep`s of a `sh -c` script the CEL twin adds up. */
export const SCRIPT_SLEEPS = 3

/** Where a `sleep` may start and its duration end in a script (sleepsInScript's pattern). */
const BEFORE = q('[\\s;&|(]$')
const SLEEP_ARGUMENT = q('^\\s+[0-9]+(\\.[0-9]+)?[smh]?($|[\\s;&|)])')
const SEPARATORS = [' ', '\t', '\n', '\r', '\f', '\v', ';', '&', '|', ')']

/** CEL list<string>: the durations of the first SCRIPT_SLEEPS sleeps of a shell script `s` (a CEL string). */
function scriptDurationsCel(s: string): string {
  const parts = `${s}.split('sleep')`
  const tokens = Array.from({ length: SCRIPT_SLEEPS }, (_, index) => {
    const i = index + 1
    const before = i === 1 ? `(${parts}[0] == '' || ${parts}[0].matches(${BEFORE}))` : `${parts}[${i - 1}].matches(${BEFORE})`
    const after = `${parts}[${i}]`
    // The duration: what follows "sleep", up to the first separator.
    const token = `${after}.trim()` + SEPARATORS.map((c) => `.split(${q(c)})[0]`).join('')
    return cond(`size(${parts}) > ${i} && ${before} && ${after}.matches(${SLEEP_ARGUMENT})`, token, "''")
  })
  return `[${tokens.join(', ')}].filter(t, t != '')`
}

/**
 * CEL list<string>: the duration texts of the preStop hook `h` (a CEL expression of a present hook),
 * to read with durationSecondsCel and add up with sumSleepsCel: the native sleep's seconds, `sleep N`'s
 * argument, or the sleeps of `sh -c '…'`; none when the hook sleeps in no way that can be read off it.
 * `skip` leaves out a handler (one that a fix in the same review takes out): CEL bools.
 */
export function preStopDurationsCel(h: string, skip: { sleep?: string; exec?: string } = {}): string {
  const command = `${h}.exec.command`
  const unless = (condition: string | undefined) => (condition ? ` && !(${condition})` : '')
  const fromCommand = cond(
    `${command}[0] in ${qList(SLEEP_BINARIES)} && size(${command}) == 2`,
    `[string(${command}[1])]`,
    cond(`${command}[0] in ${qList(SHELLS)} && size(${command}) >= 3 && ${command}[1] == '-c'`, scriptDurationsCel(`${command}[2]`), '[]'),
  )
  return cond(
    `has(${h}.sleep) && has(${h}.sleep.seconds)${unless(skip.sleep)}`,
    `[string(${h}.sleep.seconds)]`,
    cond(`has(${h}.exec)${unless(skip.exec)} && has(${command}) && size(${command}) > 0`, fromCommand, '[]'),
  )
}

/** CEL int: the seconds of a duration text `t` (a CEL string), parseDuration's twin; 0 where that is undefined. */
export function durationSecondsCel(t: string): string {
  const unit = cond(`${t}.endsWith('h')`, '3600.0', cond(`${t}.endsWith('m')`, '60.0', '1.0'))
  const number = cond(`${t}.endsWith('s') || ${t}.endsWith('m') || ${t}.endsWith('h')`, `${t}.substring(0, size(${t}) - 1)`, t)
  const seconds = `(double(${number}) * ${unit})`
  // ceil without a math library: the whole seconds, and one more for any fraction.
  const ceil = `(int(${seconds}) + ${cond(`double(int(${seconds})) < ${seconds}`, '1', '0')})`
  return cond(`${t}.matches(${q('^[0-9]+(\\.[0-9]+)?[smh]?$')}) && ${seconds} <= ${MAX_SLEEP_SECONDS}.0`, ceil, '0')
}

/** CEL int: the sum of a hook's durations in seconds (`v`, a CEL list<int> of at most SCRIPT_SLEEPS), 0 past the limit. */
export function sumSleepsCel(v: string): string {
  const total = `(${Array.from({ length: SCRIPT_SLEEPS }, (_, i) => cond(`size(${v}) > ${i}`, `${v}[${i}]`, '0')).join(' + ')})`
  return cond(`${total} <= ${MAX_SLEEP_SECONDS}`, total, '0')
}
