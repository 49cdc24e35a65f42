// hitless's own Mutating/ValidatingWebhookConfigurations, listed and watched by name (a fieldSelector,
// so RBAC can grant it with resourceNames): where each webhook sends the API server and which CA it
// trusts there. Every change calls onChange, so the serving checks follow a caBundle patch at once.
import type { KubeConfig } from '@kubernetes/client-node'
import { Reflector, type ReflectorState } from '../cluster/reflector.ts'
import type { Logger } from '../log/log.ts'
import type { KubeObject } from '../model/types.ts'
import type { ServingTarget } from './serving-check.ts'

/** The names manifests/base/webhooks.yaml gives both configurations. */
export const DEFAULT_WEBHOOK_CONFIGURATION = 'hitless'

export const WEBHOOK_CONFIGURATION_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const
type WebhookConfigurationKind = (typeof WEBHOOK_CONFIGURATION_KINDS)[number]

/** The collection paths, newest version first (v1 since Kubernetes 1.16). */
export const webhookConfigurationPaths = (kind: WebhookConfigurationKind) =>
  ['v1', 'v1beta1'].map((version) => `/apis/admissionregistration.k8s.io/${version}/${kind.toLowerCase()}s`)

interface WebhookEntry {
  name?: string
  clientConfig?: { url?: string; caBundle?: string; service?: { name?: string; namespace?: string } }
}

/** Where each webhook of `configuration` calls and what it trusts. */
export function servingTargets(kind: string, configuration: KubeObject): ServingTarget[] {
  const webhooks = ((configuration as { webhooks?: WebhookEntry[] }).webhooks ?? []).filter((webhook) => webhook.clientConfig)
  return webhooks.flatMap((webhook): ServingTarget[] => {
    const { url, caBundle, service } = webhook.clientConfig!
    const who = `${kind} ${configuration.metadata?.name}, webhook ${webhook.name}`
    const bundle = caBundle ? Buffer.from(caBundle, 'base64').toString('utf8') : ''
    if (service?.name && service.namespace) {
      const via = { service: { namespace: service.namespace, name: service.name } }
      return [{ who, host: `${service.name}.${service.namespace}.svc`, caBundle: bundle, via }]
    }
    if (!url) return []
    try {
      return [{ who, host: new URL(url).hostname.replace(/^\[(.*)\]$/, '$1'), caBundle: bundle, via: { url } }]
    } catch {
      return []
    }
  })
}

export interface WebhookConfigurationsOptions {
  kc: KubeConfig
  logger: Logger
  name: string
  onChange: () => void
  backoff?: { initialMs: number; maxMs: number }
}

export class WebhookConfigurations {
  readonly name: string
  private readonly objects = new Map<WebhookConfigurationKind, KubeObject>()
  private readonly reflectors: Reflector[]

  constructor(options: WebhookConfigurationsOptions) {
    this.name = options.name
    this.reflectors = WEBHOOK_CONFIGURATION_KINDS.map((kind) => {
      const changed = (object: KubeObject | undefined) => {
        if (object && object.metadata?.name === options.name) this.objects.set(kind, object)
        else this.objects.delete(kind)
        options.onChange()
      }
      return new Reflector({
        kc: options.kc,
        kind,
        paths: webhookConfigurationPaths(kind),
        optional: true,
        params: { fieldSelector: `metadata.name=${options.name}` },
        logger: options.logger,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        target: {
          entry: (object) => object,
          replace: (entries) => changed((entries as KubeObject[])[0]),
          upsert: changed,
          remove: () => changed(undefined),
        },
      })
    })
  }

  start(): void {
    for (const reflector of this.reflectors) reflector.start()
  }

  stop(): void {
    for (const reflector of this.reflectors) reflector.stop()
  }

  /** Every webhook's target once both kinds have been read; undefined before. */
  targets(): ServingTarget[] | undefined {
    if (!this.reflectors.every((r) => r.state.synced)) return undefined
    return [...this.objects].flatMap(([kind, object]) => servingTargets(kind, object))
  }

  /** Why the configurations cannot be read (RBAC refusing a verb, a failing list), with the fix. */
  problems(): string[] {
    return this.reflectors.flatMap((r) => (r.state.lastError && (!r.state.synced || r.state.forbidden) ? [r.state.lastError] : []))
  }

  state(): { name: string; found: string[]; kinds: ReflectorState[] } {
    return { name: this.name, found: [...this.objects.keys()], kinds: this.reflectors.map((r) => ({ ...r.state, restarts: { ...r.state.restarts } })) }
  }
}
