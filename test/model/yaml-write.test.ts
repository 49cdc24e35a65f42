// The one YAML writer: what hitless writes reads the same to YAML 1.1 (kubectl, Helm, Go's yaml) as to
// YAML 1.2. The fast check here reads with the `yaml` library's YAML 1.1 schema; the authority is Go's
// sigs.k8s.io/yaml in the Go checker (test/export-go), over the same documents.
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { ambiguousPlain, snippetYaml, toYaml } from '../../src/model/yaml-write.ts'
import { writtenYaml } from '../export-go/input.ts'

const AMBIGUOUS = ['off', 'Off', 'OFF', 'on', 'yes', 'No', 'y', 'N', 'true', 'False', '~', 'null', 'Null', '0755', '1_000', '0x1f', '0o17', '12:30', '.inf', '-.Inf', '.nan', '2026-07-01', '2026-07-01T12:00:00Z', '1e3', '+1', '3.5']
const PLAIN = ['enforce', 'audit', 'offline', 'yesterday', 'web', 'kube-system', 'http-metrics', 'v1', '1.36.x', 'a b']

t.test('ambiguous scalars are quoted, plain words stay plain', async (t) => {
  for (const text of AMBIGUOUS) {
    t.ok(ambiguousPlain(text), text)
    const written = toYaml({ [text]: [text] })
    t.same(parse(written, { version: '1.1' }), { [text]: [text] }, `YAML 1.1 reads ${JSON.stringify(written)}`)
    t.same(parse(written), { [text]: [text] }, `YAML 1.2 reads ${JSON.stringify(written)}`)
    t.same(parse(snippetYaml({ a: text }), { version: '1.1' }), { a: text }, `snippet of ${text}`)
  }
  for (const text of PLAIN) {
    t.notOk(ambiguousPlain(text), text)
    t.equal(toYaml({ mode: text }), `mode: ${text}\n`)
  }
  t.equal(toYaml({ values: ['enforce', 'off'] }, { collectionStyle: 'flow' }), '{ values: [ enforce, "off" ] }\n')
})

t.test('every document hitless writes reads the same in YAML 1.1 and 1.2', async (t) => {
  const documents = await writtenYaml()
  t.ok(documents.length > 50, `${documents.length} documents`)
  for (const { name, yaml, json } of documents) {
    const read = parseAllDocuments(yaml, { version: '1.1' }).map((d) => d.toJS()).filter((v) => v !== null && v !== undefined)
    t.same(JSON.parse(JSON.stringify(read)), JSON.parse(JSON.stringify(json)), name)
  }
})

t.test('snippets are kept by their JSON: the same value gives the same text, a value that differs only in type its own', async (t) => {
  for (let round = 0; round < 2; round++) {
    t.equal(snippetYaml({ spec: { a: '1_000', b: 'on' } }), 'spec:\n  a: "1_000"\n  b: "on"', `strings, round ${round + 1}`)
    t.equal(snippetYaml({ spec: { a: 1000, b: true } }), 'spec:\n  a: 1000\n  b: true', `number and boolean, round ${round + 1}`)
  }
})
