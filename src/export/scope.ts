// The variables every exported policy starts from: the pod spec of `object` (or `oldObject`), its
// long-running and serving containers, and where each container is, built from the CEL twins of the
// webhook's own code (pod-template.ts, containers.ts, serving.ts).
import { cond } from '../model/cel.ts'
import type { CelScope } from '../rules/cel.ts'
import { servingBecauseCel, servingCel } from '../rules/serving.ts'
import { nativeSidecarsCel, regularContainersCel } from '../workloads/containers.ts'
import { podSpecCel, podSpecPathCel } from '../workloads/pod-template.ts'

export interface CelVariable {
  name: string
  expression: string
}

/** A policy's variables, in order: each may use the ones before it. */
export class Variables {
  readonly list: CelVariable[] = []

  /** Adds `name` (or finds it, when defined before with the same expression); returns `variables.<name>`. */
  define(name: string, expression: string): string {
    const existing = this.list.find((variable) => variable.name === name)
    if (existing && existing.expression !== expression) throw new Error(`variable ${name} defined twice, differently`)
    if (!existing) this.list.push({ name, expression })
    return `variables.${name}`
  }
}

export interface ServingSettings {
  ignore: readonly string[]
  nonServingPortNames: readonly string[]
}

/** A container's index in a list of names joined as ",a,b,c,": the commas before ",name,". */
const indexIn = (joined: string, name: string) => `(size(${joined}.substring(0, ${joined}.indexOf(',' + ${name} + ',')).split(',')) - 1)`

/**
 * The scope of `root`: its variables are named plainly for `object` (spec, serving) and with an `old`
 * prefix for `oldObject` (oldSpec, oldServing).
 */
export function celScope(root: 'object' | 'oldObject', variables: Variables, settings: ServingSettings): CelScope {
  const named = (name: string) => (root === 'object' ? name : `old${name[0]!.toUpperCase()}${name.slice(1)}`)
  const define = (name: string, expression: string) => variables.define(named(name), expression)
  const spec = define('spec', podSpecCel(root))
  const containers = define('containers', regularContainersCel(spec))
  const sidecars = define('sidecars', nativeSidecarsCel(spec))
  const longRunning = define('longRunning', `${containers} + ${sidecars}`)
  const serving = define('serving', servingCel(longRunning, settings.ignore, settings.nonServingPortNames))
  const path = podSpecPathCel()
  // Defined on first use: most policies never need them.
  const sidecarNames = () => define('sidecarNames', `${sidecars}.map(c, c.name)`)
  const joinedNames = (list: 'containers' | 'initContainers') =>
    define(`${list}Joined`, `',' + ${cond(`has(${spec}.${list})`, `${spec}.${list}.map(c, c.name).join(',')`, "''")} + ','`)
  return {
    root,
    spec,
    specPointer: path.pointer,
    specField: path.field,
    containers,
    sidecars,
    longRunning,
    serving,
    listOf: (name) => cond(`${name} in ${sidecarNames()}`, "'initContainers'", "'containers'"),
    pointerOf: (name) =>
      `${path.pointer} + ` +
      cond(`${name} in ${sidecarNames()}`, `'/initContainers/' + string(${indexIn(joinedNames('initContainers'), name)})`, `'/containers/' + string(${indexIn(joinedNames('containers'), name)})`),
    servingBecause: (c) => servingBecauseCel(c, settings.nonServingPortNames),
    define,
  }
}
