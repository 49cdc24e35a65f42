// jsonEqual says of JSON values what node:util's isDeepStrictEqual says: checked on hand-picked pairs
// and on random JSON values and their near copies.
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { jsonEqual } from '../../src/model/json-equal.ts'

const pairs: [unknown, unknown][] = [
  [1, 1], [1, 2], ['a', 'a'], [null, null], [null, {}], [[], {}], [{}, []], [[1, 2], [1, 2]], [[1, 2], [2, 1]],
  [{ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }], [{ a: 1 }, { a: 1, b: undefined }], [{ a: undefined }, { b: undefined }],
  [{ httpGet: { path: '/ready', port: 8080 } }, { httpGet: { path: '/ready', port: '8080' } }], [NaN, NaN], [true, 1], [[[]], [[]]],
]

t.test('hand-picked pairs', async (t) => {
  for (const [a, b] of pairs) t.equal(jsonEqual(a, b), isDeepStrictEqual(a, b), JSON.stringify([a, b]))
})

t.test('random JSON values and near copies', async (t) => {
  let seed = 7
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const value = (depth: number): unknown => {
    const r = random()
    if (depth > 3 || r < 0.3) return [null, true, false, 0, 1, 'a', 'b', ''][Math.floor(random() * 8)]
    if (r < 0.6) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1))
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, () => [['x', 'y', 'z'][Math.floor(random() * 3)]!, value(depth + 1)]))
  }
  const nudge = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length > 0 && random() < 0.5 ? v.map((item, i) => (i === 0 ? nudge(item) : item)) : [...v, 0]
    if (v && typeof v === 'object') {
      const keys = Object.keys(v)
      if (keys.length > 0 && random() < 0.5) return { ...v, [keys[0]!]: nudge((v as Record<string, unknown>)[keys[0]!]) }
      return random() < 0.5 ? { ...v, w: 1 } : Object.fromEntries(Object.entries(v).reverse())
    }
    return random() < 0.5 ? v : [v]
  }
  let disagreements = 0
  let equalPairs = 0
  for (let i = 0; i < 2000; i++) {
    const a = value(0)
    const b = random() < 0.3 ? structuredClone(a) : nudge(a)
    if (jsonEqual(a, b) !== isDeepStrictEqual(a, b)) disagreements++
    if (isDeepStrictEqual(a, b)) equalPairs++
  }
  t.equal(disagreements, 0, 'never disagrees')
  t.ok(equalPairs > 400 && equalPairs < 1600, `both outcomes exercised (${equalPairs} equal of 2000)`)
})
