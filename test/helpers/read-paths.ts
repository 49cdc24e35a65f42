// Which fields of the reviewed object the rules read, found by running them: every rule's check()
// sees the object and the old object through a Proxy that records each property read, with array
// indices as `*`. The list is derived from the rules' code as it runs on their fixtures, so a rule
// that starts reading a new field is fuzzed there without anyone listing it.
import { readdirSync } from 'node:fs'
import type { Policy } from '../../src/engine/policy.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { handleAdmission } from '../../src/admission/handle.ts'
import { admissionReview, FIXTURES, loadFixture, type Fixture } from './objects.ts'

export type Root = 'object' | 'oldObject'

/** A read field: where (object or old object), and its path as tokens (`*` for any array index). */
export interface ReadField {
  root: Root
  path: string[]
}

function recording<T>(value: T, path: string[], seen: (path: string[]) => void): T {
  if (typeof value !== 'object' || value === null) return value
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver)
      if (typeof key !== 'string' || typeof child === 'function') return child
      const token = Array.isArray(target) && /^\d+$/.test(key) ? '*' : key
      if (Array.isArray(target) && key === 'length') return child
      const childPath = [...path, token]
      seen(childPath)
      return recording(child, childPath, seen)
    },
  }) as T
}

/** The policy with every rule's check() seeing recording proxies; `seen` gets each read field. */
export function recordingPolicy(policy: Policy, seen: (field: ReadField) => void): Policy {
  return {
    ...policy,
    rules: policy.rules.map((active) => ({
      ...active,
      rule: {
        ...active.rule,
        check: (context) =>
          active.rule.check({
            ...context,
            review: {
              ...context.review,
              object: recording(context.review.object, [], (path) => seen({ root: 'object', path })),
              oldObject: recording(context.review.oldObject, [], (path) => seen({ root: 'oldObject', path })),
            },
          }),
      },
    })),
  }
}

/** Every rule's fixtures (test/fixtures/<rule>/*.yaml). */
export function ruleFixtures(): Fixture[] {
  const fixtures: Fixture[] = []
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name === 'admission' || dir.name === 'audit' || dir.name === 'config') continue
    for (const file of readdirSync(new URL(`${dir.name}/`, FIXTURES)).filter((f) => f.endsWith('.yaml')).sort()) {
      fixtures.push(loadFixture(new URL(`${dir.name}/${file}`, FIXTURES)))
    }
  }
  return fixtures
}

/** The review body for a fixture, as the API server would send it. */
export function fixtureReview(fixture: Fixture): ReturnType<typeof admissionReview> {
  return admissionReview(fixture.review.object, { operation: fixture.review.operation, oldObject: fixture.review.oldObject })
}

/** The fields read while judging `fixture` on both endpoints, each once. */
export function fieldsRead(fixture: Fixture, policy: Policy): ReadField[] {
  const fields = new Map<string, ReadField>()
  const recorder = recordingPolicy(policy, (field) => fields.set(`${field.root}:${field.path.join('.')}`, field))
  for (const endpoint of ['mutate', 'validate'] as const) handleAdmission(fixtureReview(fixture), endpoint, recorder)
  return [...fields.values()]
}

/** `object` with the field at `path` set to `value` (array wildcards at index 0, missing parents made). */
export function withField(object: KubeObject, path: string[], value: unknown): KubeObject {
  const copy = structuredClone(object) as Record<string, unknown>
  let parent: Record<string, unknown> | unknown[] = copy
  for (const [i, token] of path.entries()) {
    const key = token === '*' ? 0 : token
    const last = i === path.length - 1
    if (last) {
      ;(parent as Record<string | number, unknown>)[key] = structuredClone(value)
      break
    }
    let next = (parent as Record<string | number, unknown>)[key]
    if (typeof next !== 'object' || next === null) {
      next = path[i + 1] === '*' ? [] : {}
      ;(parent as Record<string | number, unknown>)[key] = next
    }
    parent = next as Record<string, unknown>
  }
  return copy as KubeObject
}
