// pre-stop: when a pod is deleted, the kubelet's SIGTERM and the endpoint removal race. A container
// that exits at once still gets requests from load balancers that have not heard yet: 502/503 on every
// rollout (seed 001 §2.2). A short preStop sleep lets the endpoint removal win. An existing hook is the
// owner's choice and is left alone, and when the owner adds one beside the sleep hitless injected
// earlier (kubectl apply, Helm and Argo CD keep fields their manifest does not name), the injected
// handler is taken out: the API server accepts one handler type per hook, and the owner's wins.
import { pointer } from '../model/json-pointer.ts'
import { podTemplateOf, type Handler } from '../workloads/pod-template.ts'
import { containerFixSnippet } from './fix-snippet.ts'
import { longRunningContainers } from '../workloads/containers.ts'
import { POD_SPEC_SCOPE, servingSlots } from './serving.ts'
import type { KubernetesVersion, ReviewInput } from '../model/types.ts'
import { defineRule, type RuleSettings } from './rule.ts'
import { workloadDeregistrationDelay } from './load-balancers.ts'
import type { ReviewMemo } from './review-memo.ts'
import { preStopSleepSeconds } from '../workloads/pre-stop-sleep.ts'
import { celValue, cond, findingCel, patchCel, q, type CelContext, type CelScope } from './cel.ts'

export type PreStopStyle = 'auto' | 'sleep' | 'exec'

export interface PreStopOptions {
  sleepSeconds: number
  style: PreStopStyle
  coverDeregistration: boolean
}

/** The native sleep action is on by default from Kubernetes 1.30 (PodLifecycleSleepAction beta). */
export function supportsNativeSleep(version: KubernetesVersion): boolean {
  return version.major > 1 || (version.major === 1 && version.minor >= 30)
}

/**
 * The hook to inject. `auto` without cluster access uses the native sleep; with cluster access it uses
 * it only when the API server is known to be >= 1.30, so an older one is never sent a patch it rejects.
 */
export function preStopHandler(options: Pick<PreStopOptions, 'sleepSeconds' | 'style'>, clusterVersion?: KubernetesVersion, clusterAccess = false): Handler {
  const autoNative = clusterVersion ? supportsNativeSleep(clusterVersion) : !clusterAccess
  const native = options.style === 'sleep' || (options.style === 'auto' && autoNative)
  return native
    ? { sleep: { seconds: options.sleepSeconds } }
    : { exec: { command: ['sleep', String(options.sleepSeconds)] } }
}

/** The handler types of a LifecycleHandler; the API server accepts exactly one per hook. */
const HANDLER_TYPES = ['exec', 'httpGet', 'tcpSocket', 'sleep'] as const
type HandlerType = (typeof HANDLER_TYPES)[number]

/** Whether a handler has the shape hitless injects: `sleep: {seconds: N}` or `exec: [sleep, "N"]`, any N. */
function injectedShape(type: HandlerType, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const fields = value as Record<string, unknown>
  const keys = Object.keys(fields)
  if (type === 'sleep') return keys.length === 1 && Number.isInteger(fields['seconds'])
  if (type !== 'exec' || keys.length !== 1) return false
  const command = fields['command']
  return Array.isArray(command) && command.length === 2 && command[0] === 'sleep' && typeof command[1] === 'string' && /^\d+$/.test(command[1])
}

/**
 * The handler types to take out of a preStop that holds more than one, so the owner's hook is the one
 * left: every sleep of the shape hitless injects beside a hook of another kind; between two sleeps of
 * that shape (native and exec), the one of the style hitless injects now.
 */
export function injectedBesideOwner(preStop: Handler, injectedNow: Handler): HandlerType[] {
  const present = HANDLER_TYPES.filter((type) => preStop[type] !== undefined && preStop[type] !== null)
  if (present.length < 2) return []
  const injected = present.filter((type) => injectedShape(type, preStop[type]))
  if (injected.length < present.length) return injected
  const style = HANDLER_TYPES.find((type) => injectedNow[type] !== undefined)
  return injected.filter((type) => type === style).slice(0, present.length - 1)
}

/**
 * CEL list<string>s of a present preStop hook `h`: its handler types, and those of the shape hitless
 * injects (injectedShape's twin; the API server prunes unknown fields, so a sleep or exec holds nothing
 * else than what the shape looks at).
 */
function hookTypesCel(h: string): { present: string; injected: string } {
  const command = `${h}.exec.command`
  const sleep = `has(${h}.sleep) && has(${h}.sleep.seconds) && type(${h}.sleep.seconds) == int`
  const exec = `has(${h}.exec) && has(${command}) && size(${command}) == 2 && ${command}[0] == 'sleep' && type(${command}[1]) == string && ${command}[1].matches('^[0-9]+$')`
  return {
    present: HANDLER_TYPES.map((type) => cond(`has(${h}.${type})`, `[${q(type)}]`, '[]')).join(' + '),
    injected: `${cond(exec, "['exec']", '[]')} + ${cond(sleep, "['sleep']", '[]')}`,
  }
}

/** The one-line fix that adds `handler` as a container's preStop hook, after `…containers[web].`. */
function handlerFix(handler: Handler): string {
  return handler.sleep ? `lifecycle.preStop.sleep.seconds: ${handler.sleep.seconds}` : `lifecycle.preStop.exec.command: [ sleep, "${handler.exec!.command![1]}" ]`
}

/** With coverDeregistration, the sleep raised to the deregistration delay of the load balancers that target the pods by IP. */
function withDeregistration(options: PreStopOptions, review: ReviewInput, settings: RuleSettings, memo: ReviewMemo | undefined): PreStopOptions {
  if (!options.coverDeregistration) return options
  const view = settings.cluster && !settings.cluster.unavailable() ? settings.cluster : undefined
  const delay = view ? workloadDeregistrationDelay(view, review, memo) : undefined
  return delay !== undefined && delay > options.sleepSeconds ? { ...options, sleepSeconds: delay } : options
}

export const preStop = defineRule<PreStopOptions>({
  id: 'pre-stop',
  summary: 'Every serving container has a preStop hook that gives endpoints time to drain.',
  why: 'without one, the container stops while load balancers still send it requests (502/503 on rollouts)',
  fixable: true,
  remedy: "a sleep of `sleepSeconds` (5); the owner's own hook wins over an injected one",
  defaultAction: 'mutate',
  judges: POD_SPEC_SCOPE.judges,
  // Ingresses and TargetGroupBindings for coverDeregistration: which load balancers target the pods.
  reads: [...POD_SPEC_SCOPE.reads, 'Ingress', 'TargetGroupBinding'],
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['sleepSeconds', 'style', 'coverDeregistration'],
    properties: {
      sleepSeconds: {
        description: 'Seconds the injected preStop hook sleeps so endpoints are removed before SIGTERM.',
        type: 'integer',
        minimum: 1,
        maximum: 300,
        default: 5,
      },
      style: {
        description: 'auto: the native sleep action when the API server is known to be >= 1.30, exec sleep when it is older or its version is not known yet (native without a cluster); sleep or exec: always that.',
        type: 'string',
        enum: ['auto', 'sleep', 'exec'],
        default: 'auto',
      },
      coverDeregistration: {
        description:
          "Where an AWS load balancer targets the pods by IP, sleep at least the target group's deregistration delay (lb-deregistration), so termination-grace-period raises the grace above it too. Webhook only: the exported policies sleep sleepSeconds.",
        type: 'boolean',
        default: false,
      },
    },
  },
  check({ review, options, settings, memo }) {
    const template = podTemplateOf(review)
    if (!template) return []
    const handler = preStopHandler(withDeregistration(options, review, settings, memo), settings.clusterVersion, settings.liveCluster === true)
    const conflicts = longRunningContainers(template).flatMap(({ container, path }) => {
      const hook = container.lifecycle?.preStop
      const extra = hook && typeof hook === 'object' ? injectedBesideOwner(hook, handler) : []
      if (extra.length === 0) return []
      const kept = HANDLER_TYPES.filter((type) => hook![type] !== undefined && !extra.includes(type))
      return [
        {
          container: container.name,
          message: `container "${container.name}" has a preStop ${kept.join(' and ')} hook and the ${extra.join(' and ')} hitless injected earlier: the API server accepts one handler per hook`,
          fix: containerFixSnippet(path, container.name, { lifecycle: { preStop: Object.fromEntries(kept.map((type) => [type, hook![type]])) } }),
          patch: extra.map((type) => ({ op: 'remove' as const, path: pointer([...path, 'lifecycle', 'preStop', type]) })),
          patchSummary: `removed the injected preStop ${extra.join(' and ')} of container "${container.name}": its own ${kept.join(' and ')} hook replaces it`,
        },
      ]
    })
    const missing = servingSlots(review, template, settings, memo)
      .filter(({ container }) => !container.lifecycle?.preStop)
      .map(({ container, path, why }) => {
        const hasLifecycle = typeof container.lifecycle === 'object' && container.lifecycle !== null
        return {
          container: container.name,
          message: `container "${container.name}" has no preStop hook`,
          because: `serving: ${why}`,
          fix: containerFixSnippet(path, container.name, { lifecycle: { preStop: handler } }),
          patch: hasLifecycle
            ? [{ op: 'add' as const, path: pointer([...path, 'lifecycle', 'preStop']), value: handler }]
            : [{ op: 'add' as const, path: pointer([...path, 'lifecycle']), value: { preStop: handler } }],
          patchSummary: `added a ${preStopSleepSeconds(handler)}s preStop sleep to container "${container.name}"`,
        }
      })
    return [...conflicts, ...missing]
  },
  cel: {
    findings({ scope, options, kubernetesVersion }) {
      const handler = preStopHandler(options, kubernetesVersion)
      const { conflicts, missing } = preStopCel(scope, handler)
      const where = (name: string) => `${scope.specField} + '.' + ${scope.listOf(name)} + '[' + ${name} + ']'`
      const conflictFindings = `${conflicts}.map(r, ${findingCel({
        container: 'r.name',
        message: `'container "' + r.name + '" has a preStop ' + r.kept + ' hook and the ' + r.extra + ' hitless injected earlier: the API server accepts one handler per hook'`,
        fix: `${where('r.name')} + '.lifecycle.preStop: only its ' + r.kept + ' handler'`,
      })})`
      const missingFindings = `${missing}.map(c, ${findingCel({
        container: 'c.name',
        message: `'container "' + c.name + '" has no preStop hook'`,
        because: scope.servingBecause('c'),
        fix: `${where('c.name')} + ${q(`.${handlerFix(handler)}`)}`,
      })})`
      return `${conflictFindings} + ${missingFindings}`
    },
    patch(context) {
      const { scope } = context
      const injected = preStopHandler(context.options, context.kubernetesVersion)
      const handler = celValue(injected)
      const { removals, adds } = preStopFixesCel(context, injected)
      const pointer = scope.pointerOf('c.name')
      const add = `${scope.serving}.filter(c, c.name in ${adds}).map(c, ${cond('has(c.lifecycle)', patchCel("'add'", `${pointer} + '/lifecycle/preStop'`, handler), patchCel("'add'", `${pointer} + '/lifecycle'`, `{'preStop': ${handler}}`))})`
      // Only the injected shapes are ever taken out: exec and sleep.
      const remove = (['exec', 'sleep'] as const)
        .map((type) => `${removals}.filter(r, ${q(type)} in r.extra.split(' and ')).map(r, ${patchCel("'remove'", `${scope.pointerOf('r.name')} + ${q(`/lifecycle/preStop/${type}`)}`)})`)
        .join(' + ')
      return { add, remove }
    },
  },
})

/**
 * CEL lists for check()'s two kinds of finding, as scope variables: `conflicts`, records {name, kept,
 * extra} of long-running containers whose preStop holds an injected handler beside the owner's (kept
 * and extra joined with ' and '; injectedBesideOwner's twin); `missing`, the serving containers without
 * a preStop hook.
 */
export function preStopCel(scope: CelScope, injectedNow: Handler): { conflicts: string; missing: string } {
  const { present, injected } = hookTypesCel('c.lifecycle.preStop')
  const hooks = scope.define(
    'preStopHooks',
    `${scope.longRunning}.filter(c, has(c.lifecycle) && has(c.lifecycle.preStop)).map(c, {'name': string(c.name), 'present': (${present}).join(' '), 'injected': (${injected}).join(' ')})`,
  )
  const types = `r.present.split(' ')`
  const injectedTypes = cond("r.injected == ''", '[]', "r.injected.split(' ')")
  const style = q(HANDLER_TYPES.find((type) => injectedNow[type] !== undefined)!)
  // With an owner's handler present every injected one goes; between two injected ones, the style injected now.
  const extra = cond(`r.present == '' || size(${types}) < 2`, '[]', cond(`${types}.exists(x, !(x in ${injectedTypes}))`, injectedTypes, `[${style}]`))
  const conflicts = scope.define(
    'preStopConflicts',
    `${hooks}.filter(r, size(${extra}) > 0).map(r, {'name': string(r.name), 'kept': ${types}.filter(t, !(t in ${extra})).join(' and '), 'extra': ${extra}.join(' and ')})`,
  )
  const missing = scope.define('preStopMissing', `${scope.serving}.filter(c, !has(c.lifecycle) || !has(c.lifecycle.preStop))`)
  return { conflicts, missing }
}

/**
 * CEL lists of what the fix does, less what exemptions cover: `removals`, the conflict records whose
 * injected handlers it takes out; `adds`, the names of the containers it adds the hook to.
 */
export function preStopFixesCel(context: CelContext<unknown>, injectedNow: Handler): { removals: string; adds: string } {
  const { scope, exempted } = context
  const { conflicts, missing } = preStopCel(scope, injectedNow)
  return {
    removals: scope.define('preStopRemovals', `${conflicts}.filter(r, !(${exempted('pre-stop', 'r.name')}))`),
    adds: scope.define('preStopAdds', `${missing}.filter(c, !(${exempted('pre-stop', 'string(c.name)')})).map(c, c.name)`),
  }
}
