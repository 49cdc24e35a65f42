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
  // Helm writes `# Source:` once per template: a later document without one is from the same template.
  t.same(parsed.manifests.map((m) => [m.object.kind, m.line, m.documentIndex, m.source]), [['K1', 1, 0, undefined], ['K2', 4, 1, 'x/y.yaml'], ['K3', 9, 3, 'x/y.yaml']])
})

t.test('Helm output: every document names its template, also a Source before the first ---', async (t) => {
  const helm = '# Source: shop/templates/web.yaml\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n# Source: shop/templates/db.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: db}\n'
  t.same(parseManifests(helm, 'out.yaml').manifests.map((m) => [m.object.kind, m.source]), [
    ['Service', 'shop/templates/web.yaml'],
    ['Deployment', 'shop/templates/web.yaml'],
    ['Service', 'shop/templates/db.yaml'],
  ])
})

t.test('merge keys are resolved; unrendered templates are named as such', async (t) => {
  const merged = parseManifests('apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: &l {app: web}\nspec:\n  selector:\n    <<: *l\n    tier: fe\n', 'm.yaml').manifests[0]!.object
  t.same((merged.spec as any).selector, { app: 'web', tier: 'fe' })
  const template = parseManifests('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n', 'templates/web.yaml')
  t.same(template.manifests, [])
  t.match(template.errors[0]!.message, /looks like an unrendered Helm template/)
})

t.test('a directory audit skips files that hold no Kubernetes objects', async (t) => {
  const { mkdtemp, writeFile, mkdir } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = await mkdtemp(join(tmpdir(), 'hitless-chart-'))
  await mkdir(join(dir, 'chart'))
  await writeFile(join(dir, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: shop\nversion: 1.0.0\n')
  await writeFile(join(dir, 'chart', 'values.yaml'), 'replicaCount: 2\nimage: {repository: web}\n')
  await writeFile(join(dir, 'service.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n')
  const loaded = await loadManifests([dir])
  t.same(loaded.errors, [])
  t.same(loaded.skipped.map((f) => f.slice(dir.length + 1)).sort(), ['chart/Chart.yaml', 'chart/values.yaml'])
  t.equal(loaded.files, 1)
  t.equal(loaded.manifests.length, 1)
  const named = await loadManifests([join(dir, 'chart', 'Chart.yaml')])
  t.match(named.errors, [{ message: 'not a Kubernetes object (no kind)' }], 'named on the command line, it is still an error')
})
