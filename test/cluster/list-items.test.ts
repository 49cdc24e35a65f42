// The list splitter against JSON.parse of the whole answer: every item's text parses to the same object,
// however the bytes are cut into chunks (inside strings, escapes and multi-byte characters included).
import t from 'tap'
import { ListItemSplitter } from '../../src/cluster/list-items.ts'

const list = {
  kind: 'PodList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '42', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDJ9' },
  items: [
    { metadata: { name: 'a', annotations: { note: 'braces } ] { [ and "quotes" and \\ backslashes \\"' } }, spec: { containers: [{ name: 'x', args: ['[', '{', '}', ']'] }] } },
    { metadata: { name: 'ü-€-😀', labels: { 'items': '[]' } }, data: { '"items":[': 'not the list' } },
    { metadata: { name: 'c' }, spec: {} },
  ],
}

function split(text: string, cuts: number[]) {
  const splitter = new ListItemSplitter()
  let from = 0
  for (const cut of [...cuts, text.length]) {
    splitter.write(text.slice(from, cut))
    from = cut
  }
  return splitter.end<{ kind: string; metadata: unknown; items: unknown[] }>()
}

t.test('each item as JSON text, the rest of the list as its head, wherever the chunks are cut', async (t) => {
  for (const text of [JSON.stringify(list), JSON.stringify(list, null, 2)]) {
    let failures = 0
    for (let cut = 0; cut <= text.length; cut++) {
      for (const cuts of [[cut], [cut, Math.min(text.length, cut + 1)], [Math.floor(cut / 2), cut]]) {
        const { head, items } = split(text, cuts)
        const same = JSON.stringify(items.map((item) => JSON.parse(item))) === JSON.stringify(list.items) && JSON.stringify(head) === JSON.stringify({ ...list, items: [] })
        if (!same) failures++
      }
    }
    t.equal(failures, 0, `${text.length} bytes cut at every position`)
  }
})

t.test('lists without items, or with an empty one', async (t) => {
  t.same(split('{"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[]}', []), { head: { kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] }, items: [] })
  t.same(split('{"kind":"PodList","metadata":{},"items":null}', []), { head: { kind: 'PodList', metadata: {}, items: null }, items: [] })
})

t.test('answers that are not a list of objects are errors, not lists', async (t) => {
  t.throws(() => split('{"items":[{"a":1},{"b":', []), /truncated/)
  t.throws(() => split('{"items":[1,2]}', []), /not an object/)
  t.throws(() => split('{"items":[]}}', []), /unbalanced/)
  t.throws(() => split('{"items":[], nope}', []), SyntaxError, 'the head is JSON-parsed')
})
