// Data flows one way: no folder of src/ imports, directly or through others, a folder that imports it.
// The import graph comes from dependency-cruiser (it resolves TypeScript imports, type-only ones too);
// the test collapses it to folders and looks for cycles.
import t from 'tap'
import { cruise } from 'dependency-cruiser'

const folderOf = (path: string) => {
  const parts = path.replace(/^src\//, '').split('/')
  return parts.length > 1 ? parts[0]! : '(root)'
}

t.test('no import cycle between the folders of src/', async (t) => {
  const result = await cruise(['src'], { tsPreCompilationDeps: true, doNotFollow: { path: 'node_modules' }, exclude: { path: 'node_modules' } })
  const output = result.output as { modules: { source: string; dependencies: { resolved: string; coreModule: boolean; couldNotResolve: boolean }[] }[] }
  const edges = new Map<string, Set<string>>()
  const via = new Map<string, string>()
  for (const module of output.modules) {
    if (!module.source.startsWith('src/')) continue
    const from = folderOf(module.source)
    for (const dependency of module.dependencies) {
      if (dependency.coreModule || dependency.couldNotResolve || !dependency.resolved.startsWith('src/')) continue
      const to = folderOf(dependency.resolved)
      if (to === from) continue
      if (!edges.has(from)) edges.set(from, new Set())
      edges.get(from)!.add(to)
      via.set(`${from}->${to}`, `${module.source} imports ${dependency.resolved}`)
    }
  }
  t.ok(edges.size > 5, `${edges.size} folders import others`)
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true
    for (const next of edges.get(from) ?? []) if (!seen.has(next) && (seen.add(next), reaches(next, to, seen))) return true
    return false
  }
  const cycles: string[] = []
  for (const [from, targets] of edges) for (const to of targets) if (reaches(to, from)) cycles.push(`${from} -> ${to} (${via.get(`${from}->${to}`)})`)
  t.same(cycles.sort(), [], 'folder-level cycles')
})
