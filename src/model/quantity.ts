// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), read as the API server reads them.
//
// Grammar (ParseQuantity): an optional sign, a decimal number (`5`, `5.`, `.5`, `5.25`), then one suffix:
// decimal SI n u m (none) k M G T P E, binary SI Ki Mi Gi Ti Pi Ei, or a decimal exponent e<int>/E<int>
// (`1e3`, `1.5E-3`; a lone `E` is exa). Surrounding whitespace is trimmed (Quantity.UnmarshalJSON does),
// a JSON number is read from its text. Anything else (`1K`, `1 Gi`, `1e`, `1e3.5`, `""`) is invalid.
// As in Go, `+`, `-` and `.` alone read as 0 (the parser's quirk, kept).
//
// Precision, and the choice of units. The value is kept exact (BigInt) until the end:
//  - parsing rounds a non-zero value up, away from zero, to a whole nano-unit, and caps |value| at
//    2^63-1 base units (ParseQuantity);
//  - the API server's defaulting then rounds every ResourceList entry up to a whole milli-unit
//    (SetDefaults_ResourceList), so requests, limits, overhead and allocatable are milli-exact;
//  - the scheduler compares integers: CPU in millicores (Quantity.MilliValue), every other resource in
//    whole base units rounded up (Quantity.Value): bytes for memory, ephemeral-storage and hugepages,
//    a count for extended resources and pods.
// So hitless represents resource amounts as those scheduler integers (`schedulerUnits`), summed exactly
// in milli-units (`quantityMilli`, a BigInt) first, as kube-scheduler sums Quantities before converting.
// They are exact as JS numbers up to 2^53 (8 PiB of memory); `parseQuantity` gives the plain base-unit
// value (cores, bytes) as the nearest double, for display and loose arithmetic only.
//
// Deviations, for absurd values only: Go's fast path keeps e.g. `99e18` uncapped (its Value() then
// overflows); here every value is capped at 2^63-1 base units. Exponents are truncated to int32 as Go does.
import { BoundedMemo } from './bounded-memo.ts'

const MAX_BASE = (1n << 63n) - 1n

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
const SUFFIX_CHARS = 'eEinumkKMGTP'
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** A parsed quantity: sign × digits × 10^exp10 × 2^exp2, exact. */
interface Exact {
  negative: boolean
  digits: bigint
  exp10: number
  exp2: number
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9'

/** The quantity a value denotes, exactly, or undefined when the API server would refuse it. */
function exact(value: unknown): Exact | undefined {
  let str: string
  if (typeof value === 'string') str = value.trim()
  else if (typeof value === 'number' && Number.isFinite(value)) str = String(value)
  else return undefined
  if (str.length === 0) return undefined

  // parseQuantityString, step by step.
  let pos = 0
  const end = str.length
  let negative = false
  if (str[0] === '-') (negative = true), pos++
  else if (str[0] === '+') pos++
  while (pos < end && str[pos] === '0') pos++
  if (pos >= end) return { negative, digits: 0n, exp10: 0, exp2: 0 }
  const numStart = pos
  while (pos < end && isDigit(str[pos])) pos++
  const num = str.slice(numStart, pos)
  let denom = ''
  if (pos < end && str[pos] === '.') {
    pos++
    const denomStart = pos
    while (pos < end && isDigit(str[pos])) pos++
    denom = str.slice(denomStart, pos)
  }
  const suffixStart = pos
  while (pos < end && SUFFIX_CHARS.includes(str[pos]!)) pos++
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++
  while (pos < end && isDigit(str[pos])) pos++
  if (pos < end) return undefined
  const suffix = str.slice(suffixStart)

  // suffixHandler.interpret: the decimal table, the binary table, then an exponent.
  let exp10 = 0
  let exp2 = 0
  const decimal = DECIMAL_SUFFIXES[suffix]
  const binary = BINARY_SUFFIXES[suffix]
  if (decimal !== undefined) exp10 = decimal
  else if (binary !== undefined) exp2 = binary
  else if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const text = suffix.slice(1)
    if (!/^[+-]?[0-9]+$/.test(text)) return undefined
    const parsed = BigInt(text)
    if (parsed < INT64_MIN || parsed > INT64_MAX) return undefined // strconv.ParseInt range
    exp10 = Number(BigInt.asIntN(32, parsed)) // int32(parsed)
  } else return undefined

  const digitText = (num + denom).replace(/^0+/, '')
  return { negative, digits: digitText === '' ? 0n : BigInt(digitText), exp10: exp10 - denom.length, exp2 }
}

/** |q| in units of 10^scale, rounded up; capped at 2^63-1 base units. */
function magnitude(q: Exact, scale: number): bigint {
  if (q.digits === 0n) return 0n
  const cap = MAX_BASE * 10n ** BigInt(-scale)
  const length = q.digits.toString().length
  if (length - 1 + q.exp10 > 19) return cap // at least 10^20 base units
  const shift = q.exp10 - scale
  const scaled = q.digits << BigInt(q.exp2)
  let n: bigint
  if (shift >= 0) n = scaled * 10n ** BigInt(shift)
  else if (-shift > length + 20) n = 1n // below one unit (2^60 < 10^19), non-zero: rounds up to 1
  else {
    const divisor = 10n ** BigInt(-shift)
    n = (scaled + divisor - 1n) / divisor
  }
  return n > cap ? cap : n
}

function signed(q: Exact, scale: number): bigint {
  const n = magnitude(q, scale)
  return q.negative ? -n : n
}

/**
 * The quantity in base units (cores, bytes, a count) as the nearest double, after the API server's
 * rounding to nano-units; undefined when the API server would refuse the value.
 */
export function parseQuantity(value: unknown): number | undefined {
  const q = exact(value)
  if (!q) return undefined
  const nano = signed(q, -9)
  return nano % 1_000_000_000n === 0n ? Number(nano / 1_000_000_000n) : Number(nano) / 1e9
}

/**
 * Milli-units of the quantity strings seen lately: every review of a workload carries the same few
 * ('250m', '512Mi'), and the exact parse works in BigInt. Bounded in count and in key length.
 */
const milliByText = new BoundedMemo<bigint | undefined>(4096)
const MILLI_MEMO_TEXT = 64

function milliOf(value: unknown): bigint | undefined {
  const q = exact(value)
  return q ? signed(q, -3) : undefined
}

/** The quantity in milli-units, exact, as stored after API defaulting (rounded up to 1m); undefined when invalid. */
export function quantityMilli(value: unknown): bigint | undefined {
  return typeof value === 'string' && value.length <= MILLI_MEMO_TEXT ? milliByText.get(value, milliOf) : milliOf(value)
}

/** Whole millicores (Quantity.MilliValue: rounded up, away from zero); undefined when invalid. */
export function cpuMillis(value: unknown): number | undefined {
  const milli = quantityMilli(value)
  return milli === undefined ? undefined : Number(milli)
}

/** Milli-units to the integer kube-scheduler compares: millicores for cpu, whole units (rounded up) for the rest. */
export function milliToSchedulerUnits(resource: string, milli: bigint): number {
  if (resource === 'cpu') return Number(milli)
  const negative = milli < 0n
  const m = negative ? -milli : milli
  const whole = (m + 999n) / 1000n
  return Number(negative ? -whole : whole)
}

/** A quantity as the integer kube-scheduler compares (see milliToSchedulerUnits); undefined when invalid. */
export function schedulerUnits(resource: string, value: unknown): number | undefined {
  const milli = quantityMilli(value)
  return milli === undefined ? undefined : milliToSchedulerUnits(resource, milli)
}

const BINARY_UNITS: readonly [string, bigint][] = [['Ei', 1n << 60n], ['Pi', 1n << 50n], ['Ti', 1n << 40n], ['Gi', 1n << 30n], ['Mi', 1n << 20n], ['Ki', 1n << 10n]]
const DECIMAL_UNITS: readonly [string, bigint][] = [['E', 10n ** 18n], ['P', 10n ** 15n], ['T', 10n ** 12n], ['G', 10n ** 9n], ['M', 10n ** 6n], ['k', 1000n]]

// Mi and up before the decimal units (2G reads better than 1953125Ki), Ki before k.
const UNIT_ORDER = [...BINARY_UNITS.slice(0, 5), ...DECIMAL_UNITS.slice(0, 5), ...BINARY_UNITS.slice(5), ...DECIMAL_UNITS.slice(5)]

const isByteResource = (resource: string) => resource === 'memory' || resource === 'ephemeral-storage' || resource.startsWith('hugepages-')

/**
 * Scheduler units as a quantity string for messages, exact: cpu `1500m` or `2`; bytes with the largest
 * suffix that divides them, binary first (`64Gi`, `2G`, `1536Ki`, `1500k`, `1023`); counts plain.
 */
export function formatSchedulerUnits(resource: string, units: number): string {
  if (!Number.isSafeInteger(units)) return String(units)
  if (resource === 'cpu') return units % 1000 === 0 ? String(units / 1000) : `${units}m`
  const n = BigInt(units)
  if (n === 0n || !isByteResource(resource)) return String(n)
  for (const [suffix, size] of UNIT_ORDER) if (n % size === 0n) return `${n / size}${suffix}`
  return String(n)
}
