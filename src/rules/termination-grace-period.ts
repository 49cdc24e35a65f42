// termination-grace-period: the grace period is the pod's whole budget for stopping: the preStop hook
// runs inside it, then the app must drain in-flight requests after SIGTERM. If the budget is shorter,
// the kubelet SIGKILLs mid-request (seed 001 §2.2). Runs after pre-stop, so it sees that rule's fix.
import { pointer } from '../model/json-pointer.ts'
import { podTemplateOf } from '../workloads/pod-template.ts'
import { longRunningContainers, type ContainerSlot } from '../workloads/containers.ts'
import { durationSecondsCel, preStopDurationsCel, preStopSleepSeconds, sumSleepsCel } from '../workloads/pre-stop-sleep.ts'
import { podSpecFixSnippet } from './fix-snippet.ts'
import { defineRule } from './rule.ts'
import { POD_SPEC_SCOPE, servingSlots } from './serving.ts'
import { cond, findingCel, patchCel, type CelContext } from './cel.ts'
import { preStopFixesCel, preStopHandler, type PreStopOptions } from './pre-stop.ts'

/** The value at a path of tokens, or undefined. */
function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root
  for (const token of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string | number, unknown>)[token]
  }
  return node
}

/** What Kubernetes uses when terminationGracePeriodSeconds is unset. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30

export interface GracePeriodOptions {
  drainSeconds: number
}

export const terminationGracePeriod = defineRule<GracePeriodOptions>({
  id: 'termination-grace-period',
  summary: 'terminationGracePeriodSeconds covers the longest preStop sleep plus time to drain.',
  why: 'a shorter grace period SIGKILLs containers while they still finish requests (502s on rollouts)',
  fixable: true,
  remedy: 'raised to the longest preStop sleep + `drainSeconds` (10)',
  defaultAction: 'mutate',
  ...POD_SPEC_SCOPE,
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['drainSeconds'],
    properties: {
      drainSeconds: {
        description: 'Seconds the application needs after SIGTERM to finish in-flight requests.',
        type: 'integer',
        minimum: 0,
        maximum: 3600,
        default: 10,
      },
    },
  },
  check({ review, original, options, settings, memo }) {
    const template = podTemplateOf(review)
    if (!template) return []
    // A pod that serves nothing has nobody to drain for: a queue worker's short grace is its owner's call.
    const serving = servingSlots(review, template, settings, memo)
    if (serving.length === 0) return []
    let longest = 0
    let longestContainer: string | undefined
    let longestPath: ContainerSlot['path'] | undefined
    for (const { container, path } of longRunningContainers(template)) {
      const seconds = preStopSleepSeconds(container.lifecycle?.preStop) ?? 0
      if (seconds > longest) [longest, longestContainer, longestPath] = [seconds, container.name, path]
    }
    // The sleep hitless adds in this same review (pre-stop's fix) is not the owner's: say so.
    const added = longestPath !== undefined && original !== undefined && valueAt(original, [...longestPath, 'lifecycle', 'preStop']) === undefined
    const needed = longest + options.drainSeconds
    const configured = template.spec.terminationGracePeriodSeconds
    const effective = configured ?? DEFAULT_GRACE_PERIOD_SECONDS
    if (effective >= needed) return []
    const path = pointer([...template.specPath, 'terminationGracePeriodSeconds'])
    const sleepPart = longestContainer ? `preStop sleep ${longest}s (container "${longestContainer}"${added ? ', the sleep hitless adds' : ''}) + ` : ''
    return [
      {
        ...(longestContainer ? { container: longestContainer } : {}),
        because: `serving: ${serving[0]!.why}`,
        message: `terminationGracePeriodSeconds ${effective}${configured == null ? ' (default)' : ''} < ${sleepPart}${options.drainSeconds}s to drain`,
        fix: podSpecFixSnippet(template.specPath, { terminationGracePeriodSeconds: needed }),
        patch: [{ op: configured === undefined ? 'add' : 'replace', path, value: needed }],
        patchSummary: `raised terminationGracePeriodSeconds from ${effective} to ${needed}`,
      },
    ]
  },
  cel: {
    findings(context) {
      const { scope, options } = context
      const { needed, longest, effective, grace, sleeper } = graceCel(context)
      const added = cond(`${sleeper}.added == 'yes'`, "', the sleep hitless adds'", "''")
      const sleepPart = cond(`${longest} > 0`, `'preStop sleep ' + string(${longest}) + 's (container "' + ${sleeper}.name + '"' + ${added} + ') + '`, "''")
      const finding = findingCel({
        container: cond(`${longest} > 0`, `${sleeper}.name`, "''"),
        message: `'terminationGracePeriodSeconds ' + string(${effective}) + ${cond(`has(${grace})`, "''", "' (default)'")} + ' < ' + ${sleepPart} + '${options.drainSeconds}s to drain'`,
        because: scope.servingBecause(`${scope.serving}[0]`),
        fix: `${scope.specField} + '.terminationGracePeriodSeconds: ' + string(${needed})`,
      })
      return cond(`size(${scope.serving}) > 0 && ${effective} < ${needed}`, `[${finding}]`, '[]')
    },
    patch(context) {
      const { scope, exempted } = context
      const { needed, longest, effective, grace, sleeper } = graceCel(context)
      const op = cond(`has(${grace})`, "'replace'", "'add'")
      const exempt = exempted('termination-grace-period', cond(`${longest} > 0`, `${sleeper}.name`, "''"))
      // evaluate() writes no number over int32's limit.
      return { add: cond(`size(${scope.serving}) > 0 && ${effective} < ${needed} && ${needed} <= ${2 ** 31 - 1} && !(${exempt})`, `[${patchCel(op, `${scope.specPointer} + '/terminationGracePeriodSeconds'`, needed)}]`, '[]') }
    },
  },
})

/**
 * The sleeps check() sees, in CEL, over the object as pre-stop's fix in the same review leaves it (it
 * runs first): with pre-stop at mutate, the sleep it adds to a serving container without a hook, and its
 * own hook without the handler it takes out. An admission policy of this rule is then right whether or
 * not pre-stop's mutating policy has run before it.
 */
function graceCel(context: CelContext<GracePeriodOptions>) {
  const { scope, options } = context
  const preStopConfig = context.rule('pre-stop')
  const hook = 'c.lifecycle.preStop'
  const hasHook = `has(c.lifecycle) && has(${hook})`
  let durations = cond(hasHook, preStopDurationsCel(hook), '[]')
  if (scope.root === 'object' && preStopConfig?.action === 'mutate') {
    const preStopOptions = preStopConfig.options as unknown as PreStopOptions
    const { removals, adds } = preStopFixesCel(context, preStopHandler(preStopOptions, context.kubernetesVersion))
    const removed = (type: string) => `${removals}.exists(r, r.name == c.name && '${type}' in r.extra.split(' and '))`
    durations = cond(hasHook, preStopDurationsCel(hook, { sleep: removed('sleep'), exec: removed('exec') }), cond(`c.name in ${adds}`, `['${preStopOptions.sleepSeconds}']`, '[]'))
  }
  const hooks = scope.define('graceHooks', `${scope.longRunning}.map(c, {'name': dyn(string(c.name)), 'durations': dyn(${durations}), 'added': dyn(${cond(hasHook, "'no'", "'yes'")})})`)
  const values = scope.define('graceValues', `${hooks}.map(h, {'name': dyn(h.name), 'seconds': dyn(h.durations.map(t, ${durationSecondsCel('t')})), 'added': dyn(h.added)})`)
  const sleeps = scope.define('graceSleeps', `${values}.map(v, {'name': string(v.name), 'seconds': string(${sumSleepsCel('v.seconds')}), 'added': string(v.added)})`)
  // The first container with the longest sleep, as check() picks it (none when no sleep is over 0).
  const sleeper = `${sleeps}.filter(s, ${sleeps}.all(o, int(o.seconds) <= int(s.seconds)))[0]`
  const longest = scope.define('graceLongest', cond(`${sleeps}.exists(s, int(s.seconds) > 0)`, `int(${sleeper}.seconds)`, '0'))
  const needed = scope.define('graceNeeded', `${longest} + ${options.drainSeconds}`)
  const grace = `${scope.spec}.terminationGracePeriodSeconds`
  const effective = cond(`has(${grace})`, grace, String(DEFAULT_GRACE_PERIOD_SECONDS))
  return { needed, longest, effective, grace, sleeper }
}
