// What the API server's webhook dispatcher does with hitless's rendered webhook configurations, modelled
// in JavaScript (the JavaScript CEL of admission-policy.ts): for each webhook the rules (group, version,
// resource with subresource, operation, scope), the namespaceSelector (a Namespace's own labels for
// Namespace writes, else its namespace's), the objectSelector, then the matchConditions under the
// webhook's failurePolicy; and the verdict while no hitless replica answers. The Go checker
// (test/export-go/checker/webhooks.go) runs the API server's own code over the same writes and fails on any
// disagreement with this model.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { loadAll } from 'js-yaml'
import type { KubeObject } from '../../src/model/types.ts'
import { decoded, evaluateCel, groupOf, resourceOf, selects, type Selector } from './admission-policy.ts'

const MANIFESTS = fileURLToPath(new URL('../../manifests/', import.meta.url))

export interface WebhookEntry {
  name: string
  failurePolicy?: 'Fail' | 'Ignore'
  namespaceSelector?: Selector
  objectSelector?: Selector
  rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[]; scope?: string }[]
  matchConditions?: { name: string; expression: string }[]
}

export interface Rendered {
  /** The kustomize entry, relative to manifests/. */
  entry: string
  yaml: string
  objects: KubeObject[]
  /** Mutating webhooks first: the API server runs mutating admission before validating. */
  webhooks: WebhookEntry[]
}

/** `kubectl kustomize manifests/<entry>`: the YAML and its webhooks. */
export function render(entry: string): Rendered {
  const yaml = execFileSync('kubectl', ['kustomize', `${MANIFESTS}${entry}`], { encoding: 'utf8' })
  const objects = loadAll(yaml) as KubeObject[]
  const hooks = (kind: string) => objects.filter((o) => o.kind === kind).flatMap((o) => (o as unknown as { webhooks: WebhookEntry[] }).webhooks)
  return { entry, yaml, objects, webhooks: [...hooks('MutatingWebhookConfiguration'), ...hooks('ValidatingWebhookConfiguration')] }
}

export interface AdmissionWrite {
  operation: 'CREATE' | 'UPDATE' | 'DELETE'
  object: KubeObject | null
  oldObject: KubeObject | null
  subresource?: string
  userInfo: { username: string; groups?: string[] }
}

type Tristate = 'true' | 'false' | 'error'

/** What one webhook does with one write: its rules and selectors, its matchConditions (errors surfaced), whether it is called. */
export interface HookOutcome {
  /** Rules, namespaceSelector and objectSelector all match. */
  ruled: boolean
  /** The matchConditions' result when ruled and it has some ('error': an evaluation error, whatever the failurePolicy). */
  conditions?: Tristate
  /** 'error': the request fails without calling (a condition erred under failurePolicy Fail). */
  called: Tristate
}

const subject = (write: AdmissionWrite) => (write.object ?? write.oldObject)!

function ruleMatches(hook: WebhookEntry, write: AdmissionWrite): boolean {
  const object = subject(write)
  const group = groupOf(object.apiVersion)
  const version = (object.apiVersion ?? 'v1').split('/').pop()!
  const resource = resourceOf(object) + (write.subresource ? `/${write.subresource}` : '')
  const cluster = object.kind === 'Namespace' || !object.metadata?.namespace
  const any = (list: string[], value: string) => list.includes('*') || list.includes(value)
  return hook.rules.some((rule) => {
    const scope = rule.scope ?? '*'
    return (
      any(rule.apiGroups, group) &&
      any(rule.apiVersions, version) &&
      any(rule.resources, resource) &&
      any(rule.operations, write.operation) &&
      (scope === '*' || (scope === 'Cluster') === cluster)
    )
  })
}

/**
 * The namespace labels the namespaceSelector sees: a Namespace CREATE's or UPDATE's own, else the stored
 * Namespace's (a Namespace DELETE or a write through namespaces/status or /finalize: the request's namespace
 * is the Namespace's name), else the labels of the object's namespace.
 */
function namespaceLabels(write: AdmissionWrite, namespaces: readonly KubeObject[]): Record<string, string> | undefined {
  const object = subject(write)
  if (object.kind === 'Namespace' && !write.subresource && write.operation !== 'DELETE') return write.object?.metadata?.labels ?? {}
  const name = object.kind === 'Namespace' ? object.metadata?.name : object.metadata?.namespace
  const namespace = namespaces.find((n) => n.metadata?.name === name)
  return namespace ? (namespace.metadata?.labels ?? {}) : undefined
}

function conditionsOf(hook: WebhookEntry, write: AdmissionWrite): Tristate {
  const context = {
    object: write.object ? decoded(write.object) : null,
    oldObject: write.oldObject ? decoded(write.oldObject) : null,
    request: decoded({ operation: write.operation, userInfo: write.userInfo }),
  }
  let erred = false
  for (const { expression } of hook.matchConditions ?? []) {
    try {
      const result = evaluateCel(expression, context)
      if (result === false) return 'false'
      if (result !== true) erred = true
    } catch {
      erred = true
    }
  }
  return erred ? 'error' : 'true'
}

/** An empty or absent objectSelector matches everything; else the new or the old object's labels must match. */
function objectSelected(selector: Selector | undefined, write: AdmissionWrite): boolean {
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) return true
  return [write.object, write.oldObject].some((object) => object !== null && selects(selector, object.metadata?.labels ?? {}))
}

export function dispatch(hook: WebhookEntry, write: AdmissionWrite, namespaces: readonly KubeObject[]): HookOutcome {
  const labels = namespaceLabels(write, namespaces)
  const ruled =
    ruleMatches(hook, write) &&
    labels !== undefined &&
    selects(hook.namespaceSelector, labels) &&
    objectSelected(hook.objectSelector, write)
  if (!ruled) return { ruled, called: 'false' }
  if (!hook.matchConditions?.length) return { ruled, called: 'true' }
  const conditions = conditionsOf(hook, write)
  const failClosed = (hook.failurePolicy ?? 'Fail') === 'Fail'
  const called: Tristate = conditions === 'error' ? (failClosed ? 'error' : 'false') : conditions
  return { ruled, conditions, called }
}

/**
 * The API server's answer while no hitless replica answers: a webhook it calls fails, and that webhook's
 * failurePolicy decides; a condition that errs under Fail refuses without a call.
 */
export function whileHitlessIsDown(webhooks: readonly WebhookEntry[], write: AdmissionWrite, namespaces: readonly KubeObject[]): 'admitted' | 'refused' {
  for (const hook of webhooks) {
    const { called } = dispatch(hook, write, namespaces)
    if (called === 'error' || (called === 'true' && (hook.failurePolicy ?? 'Fail') === 'Fail')) return 'refused'
  }
  return 'admitted'
}
