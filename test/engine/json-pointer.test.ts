import t from 'tap'
import fastJsonPatch from 'fast-json-patch'
import { escapeToken, pointer } from '../../src/model/json-pointer.ts'

t.equal(escapeToken('hitless.dev/exempt'), 'hitless.dev~1exempt')
t.equal(escapeToken('a~b/c'), 'a~0b~1c', '~ is escaped before / so ~1 is not double-escaped')
t.equal(pointer(['spec', 'template', 'spec', 'containers', 0, 'lifecycle']), '/spec/template/spec/containers/0/lifecycle')
t.equal(pointer([]), '')

t.test('escaped pointers address the right member when applied', async (t) => {
  const object = { metadata: { annotations: { 'a~b/c': 'x' } } }
  const path = pointer(['metadata', 'annotations', 'a~b/c'])
  const result = fastJsonPatch.applyPatch(object, [{ op: 'replace', path, value: 'y' }], true, false).newDocument
  t.same(result.metadata.annotations, { 'a~b/c': 'y' })
})

t.test('parsePointer undoes pointer()', async (t) => {
  const { parsePointer } = await import('../../src/model/json-pointer.ts')
  t.same(parsePointer(pointer(['metadata', 'annotations', 'a~b/c', 0])), ['metadata', 'annotations', 'a~b/c', '0'])
  t.same(parsePointer('/x~01'), ['x~1'], '~01 is ~1 literally, not /')
  t.same(parsePointer(''), [])
})
