import { fileURLToPath } from 'node:url'
import t from 'tap'
import { documentRegions, loadManifests, parseManifests } from '../../src/audit/manifests.ts'
import { FIXTURES } from '../helpers/objects.ts'

const dir = fileURLToPath(new URL('audit/', FIXTURES))

t.test('directories are read recursively, *.yaml, *.yml and *.json only, in order', async (t) => {
  const { manifests, errors, files } = await loadManifests([`${dir}dir`])
  t.equal(files, 3, 'notes.txt is not read')
  t.same(errors, [])
  t.same(manifests.map((m) => `${m.object.kind}/${m.object.metadata?.name}@${m.file.slice(dir.length)}:${m.line}`), [
    'Pod/debug@dir/list.yml:4',
    'ConfigMap/settings@dir/list.yml:9',
    'Deployment/api@dir/nested/deployment.json:1',
    'Service/api@dir/service.yaml:2',
  ])
  t.same(manifests[1]!.pathInDocument, ['items', 1], 'List items know where they are')
})

t.test('Helm template output: each object knows its chart file', async (t) => {
  const { manifests } = await loadManifests([`${dir}helm/rendered.yaml`])
  t.same(manifests.map((m) => [m.object.kind, m.source, m.line, m.documentIndex]), [
    ['Service', 'shop/templates/service.yaml', 3, 0],
    ['Deployment', 'shop/templates/deployment.yaml', 12, 1],
  ])
})

t.test('a broken document is an error with file and line; the others are still read', async (t) => {
  const { manifests, errors } = await loadManifests([`${dir}broken.yaml`])
  t.same(manifests.map((m) => m.object.kind), ['Deployment', 'Namespace'])
  t.equal(errors.length, 1)
  // Reported where the parser notices: the end of the unclosed flow sequence opened on line 10.
  t.match(errors[0], { file: `${dir}broken.yaml`, line: 11, message: /^invalid YAML: unexpected end of the stream within a flow collection/ })
})

t.test('documents that are not objects, empty documents and unreadable paths', async (t) => {
  const parsed = parseManifests('---\n---\n- a list\n---\nfoo: bar\n', 'x.yaml')
  t.same(parsed.manifests, [])
  t.same(parsed.errors.map((e) => [e.line, e.message]), [[3, 'not a Kubernetes object (no kind)'], [5, 'not a Kubernetes object (no kind)']])
  const missing = await loadManifests(['/nonexistent/path.yaml'])
  t.same(missing.errors, [{ file: '/nonexistent/path.yaml', message: 'cannot read: ENOENT' }])
})

t.test('document regions tile the input exactly; comments before a marker go with the next document', async (t) => {
  const text = 'a: 1\n# Source: x/y.yaml\n---\nb: 2\n...\n---\n\n---\nc: 3'
  const regions = documentRegions(text)
  t.equal(regions.map((r) => r.text).join(''), text)
  t.same(regions.map((r) => [r.startLine, r.text]), [
    [1, 'a: 1\n'],
    [2, '# Source: x/y.yaml\n---\nb: 2\n...\n'],
    [6, '---\n\n'],
    [8, '---\nc: 3'],
  ])
  const parsed = parseManifests(text.replaceAll(/^(\w): (\d)$/gm, 'kind: K$2'), 'x.yaml')
  t.same(parsed.manifests.map((m) => [m.object.kind, m.line, m.documentIndex, m.source]), [['K1', 1, 0, undefined], ['K2', 4, 1, 'x/y.yaml'], ['K3', 9, 3, undefined]])
})
