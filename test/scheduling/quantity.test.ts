import t from 'tap'
import { cpuMillis, formatSchedulerUnits, milliToSchedulerUnits, parseQuantity, quantityMilli, schedulerUnits } from '../../src/model/quantity.ts'

t.test('valid quantities read as the API server reads them (base units)', async (t) => {
  const cases: [unknown, number][] = [
    ['0', 0],
    ['1', 1],
    ['100m', 0.1],
    ['250m', 0.25],
    ['1.5', 1.5],
    ['5.', 5],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['+2', 2],
    ['-1', -1],
    ['007', 7],
    ['1n', 1e-9],
    ['1u', 1e-6],
    ['1k', 1e3],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18], // a lone E is exa, not an exponent
    ['1Ki', 1024],
    ['1Mi', 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1Ti', 1024 ** 4],
    ['1Pi', 1024 ** 5],
    ['1Ei', 1024 ** 6],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['0.5Mi', 524288],
    ['123Mi', 128974848],
    ['129M', 129e6],
    ['1e3', 1000],
    ['1E3', 1000],
    ['129e6', 129e6],
    ['1e+3', 1000],
    ['1.5e-3', 0.0015],
    ['1e-10', 1e-9], // rounded up to one nano-unit
    ['0Mi', 0],
    ['-', 0], // Go's parser reads a lone sign or point as 0
    ['.', 0],
    ['Gi', 0], // and a bare suffix too
    [' 2Gi ', 2 * 1024 ** 3], // UnmarshalJSON trims
    [2, 2],
    [0.5, 0.5],
    [1e21, 9223372036854775807], // capped at 2^63-1
  ]
  for (const [input, expected] of cases) t.equal(parseQuantity(input), expected, JSON.stringify(input))
})

t.test('invalid quantities are undefined', async (t) => {
  for (const input of ['', '  ', '1K', '1KI', '1ki', '1mi', '1 Gi', '1e', '1e-', '1e3.5', '1Ee3', '1e3e', '1ee3', '1k5', '..5', 'abc', '1,5', '1e99999999999999999999', '0x10'])
    t.equal(parseQuantity(input), undefined, JSON.stringify(input))
  for (const input of [null, undefined, NaN, Infinity, {}, [], true]) t.equal(parseQuantity(input), undefined, String(input))
})

t.test('milli-units are exact and rounded up, away from zero, as API defaulting rounds', async (t) => {
  t.equal(quantityMilli('100m'), 100n)
  t.equal(quantityMilli('0.1'), 100n)
  t.equal(quantityMilli('1.5e-3'), 2n, '1.5m rounds up to 2m')
  t.equal(quantityMilli('0.5m'), 1n)
  t.equal(quantityMilli('1n'), 1n)
  t.equal(quantityMilli('-1.5m'), -2n, 'away from zero')
  t.equal(quantityMilli('8Ei'), ((1n << 63n) - 1n) * 1000n, '2^63 bytes are capped at 2^63-1')
  t.equal(quantityMilli('12Ti'), 12n * 2n ** 40n * 1000n, 'beyond 2^53 milli-units, still exact')
  t.equal(quantityMilli('nonsense'), undefined)
})

t.test('cpuMillis is MilliValue: whole millicores, rounded up', async (t) => {
  t.equal(cpuMillis('100m'), 100)
  t.equal(cpuMillis('2'), 2000)
  t.equal(cpuMillis(0.25), 250)
  t.equal(cpuMillis('0.0001'), 1)
  t.equal(cpuMillis('1e-3'), 1)
  t.equal(cpuMillis('1500u'), 2)
  t.equal(cpuMillis('1x'), undefined)
})

t.test('scheduler units: millicores for cpu, whole units rounded up for the rest', async (t) => {
  t.equal(schedulerUnits('cpu', '1.5'), 1500)
  t.equal(schedulerUnits('memory', '1.5Gi'), 1610612736)
  t.equal(schedulerUnits('memory', '0.5'), 1, 'half a byte is a byte')
  t.equal(schedulerUnits('memory', '100m'), 1)
  t.equal(schedulerUnits('ephemeral-storage', '10G'), 10e9)
  t.equal(schedulerUnits('nvidia.com/gpu', '2'), 2)
  t.equal(schedulerUnits('memory', 'lots'), undefined)
  t.equal(milliToSchedulerUnits('memory', 1001n), 2)
  t.equal(milliToSchedulerUnits('memory', -1001n), -2)
  t.equal(milliToSchedulerUnits('cpu', 1001n), 1001)
})

t.test('amounts format exactly for messages', async (t) => {
  t.equal(formatSchedulerUnits('cpu', 1500), '1500m')
  t.equal(formatSchedulerUnits('cpu', 2000), '2')
  t.equal(formatSchedulerUnits('memory', 64 * 1024 ** 3), '64Gi')
  t.equal(formatSchedulerUnits('memory', 2e9), '2G')
  t.equal(formatSchedulerUnits('memory', 1572864), '1536Ki')
  t.equal(formatSchedulerUnits('ephemeral-storage', 1500000), '1500k')
  t.equal(formatSchedulerUnits('hugepages-2Mi', 1023), '1023')
  t.equal(formatSchedulerUnits('memory', 0), '0')
  t.equal(formatSchedulerUnits('nvidia.com/gpu', 1024), '1024', 'counts take no suffix')
  for (const text of ['64Gi', '2G', '1536Ki', '1500k', '1023']) t.equal(formatSchedulerUnits('memory', schedulerUnits('memory', text)!), text, `${text} round-trips`)
})

t.test('quantityMilli answers the same for a string seen before, a long one and after the memo is full', async (t) => {
  for (let round = 0; round < 2; round++) {
    t.equal(quantityMilli('250m'), 250n)
    t.equal(quantityMilli('1.5e-3'), 2n)
    t.equal(quantityMilli('12x'), undefined, 'invalid stays invalid')
    t.equal(cpuMillis('250m'), 250)
  }
  const long = `${'0'.repeat(100)}1`
  t.equal(quantityMilli(long), 1000n, 'a long string is parsed, not kept')
  for (let i = 0; i < 5000; i++) quantityMilli(`${i}m`)
  t.equal(quantityMilli('4999m'), 4999n)
  t.equal(quantityMilli('250m'), 250n, 'still right after the memo was cleared')
})
