// Pasteable YAML that shows where a fix goes, built from the same path the patch uses. Written with
// snippetYaml (js-yaml's dump where that reads the same in YAML 1.1: every finding carries a snippet, and
// it is 6x faster than yaml's stringify for the same text; BENCHMARKS.md, audit throughput).
import { snippetYaml } from '../model/yaml-write.ts'
import type { PathToken } from '../model/json-pointer.ts'

const toYaml = snippetYaml

/**
 * YAML for `fields` merged into the container at `containerPath` (…, 'containers', 3), written as
 * the nesting from the object root so it can be compared with the manifest at a glance.
 */
export function containerFixSnippet(containerPath: readonly PathToken[], name: string, fields: object): string {
  const listKey = containerPath.at(-2)
  const parents = containerPath.slice(0, -2)
  let node: unknown = { [String(listKey)]: [{ name, ...fields }] }
  for (const token of parents.toReversed()) node = { [String(token)]: node }
  return toYaml(node)
}

export function podSpecFixSnippet(specPath: readonly PathToken[], fields: object): string {
  let node: unknown = fields
  for (const token of specPath.toReversed()) node = { [String(token)]: node }
  return toYaml(node)
}
