// The install edge as /readyz and the log see it: is the serving certificate one the API server
// accepts, for the names it calls and against the caBundle it trusts? Re-checked when the certificate
// is (re)loaded and when a webhook configuration changes, never on the request path; each problem is
// logged once when it appears (with its fix) and once when it is gone.
// What fails readiness (docs/decisions/0033): a problem with a webhook configuration as the API server
// has it, and a certificate outside its validity. The Service named in the settings only stands in
// while no configuration can be read, and then only warns: the settings may be stale, the
// configurations are what the API server uses.
import type { Logger } from '../log/log.ts'
import { servingProblems, validityProblem, type ServingProblem, type ServingTarget } from './serving-check.ts'
import type { WebhookConfigurations } from './webhook-configurations.ts'

/** What the checks read of the webhook configurations. */
export type WebhookSource = Pick<WebhookConfigurations, 'name' | 'targets' | 'problems' | 'state'>

export interface InstallChecksOptions {
  logger: Logger
  /** The Service in front of hitless (HITLESS_SERVICE in POD_NAMESPACE), when known. */
  service?: { namespace: string; name: string }
  webhooks?: WebhookSource
  now?: () => Date
}

export interface InstallProblem extends ServingProblem {
  /** false: shown and logged as a warning, readiness unaffected. */
  failsReadiness: boolean
}

export interface InstallReadiness {
  ready: boolean
  reasons: string[]
  detail: Record<string, unknown>
}

const line = (problem: { message: string; fix: string }) => `${problem.message}; fix: ${problem.fix}`

export class InstallChecks {
  private readonly options: InstallChecksOptions
  private certificate = ''
  private problems: InstallProblem[] = []
  private readonly logged = new Set<string>()
  private validity: string | undefined

  constructor(options: InstallChecksOptions) {
    this.options = options
  }

  /** The serving chain now installed (at start and after every reload). */
  setCertificate(pem: string): void {
    this.certificate = pem
    this.recheck()
  }

  /** The targets the API server uses, or the configured Service while none can be read. */
  private targets(): { targets: ServingTarget[]; authoritative: boolean } {
    const read = this.options.webhooks?.targets()
    if (read && read.length > 0) return { targets: read, authoritative: true }
    const service = this.options.service
    if (!service) return { targets: [], authoritative: false }
    return { targets: [{ who: `Service ${service.namespace}/${service.name}`, host: `${service.name}.${service.namespace}.svc`, via: { service } }], authoritative: false }
  }

  recheck(): void {
    if (!this.certificate) return
    const { targets, authoritative } = this.targets()
    const found = targets.flatMap((target) => servingProblems(this.certificate, target).map((problem) => ({ ...problem, failsReadiness: authoritative })))
    const unreadable = (this.options.webhooks?.problems() ?? []).map(
      (message): InstallProblem => ({ check: 'ca-bundle', who: `webhook configurations ${this.options.webhooks!.name}`, message: `cannot check the webhook configurations: ${message}`, fix: 'see the message', failsReadiness: false }),
    )
    this.problems = [...found, ...unreadable]
    this.log()
  }

  private log(): void {
    const { logger } = this.options
    const now = new Set(this.problems.map(line))
    for (const problem of this.problems) {
      const text = line(problem)
      if (this.logged.has(text)) continue
      this.logged.add(text)
      const fields = { check: problem.check, who: problem.who, fix: problem.fix, failsReadiness: problem.failsReadiness }
      if (problem.failsReadiness) logger.error(fields, problem.message)
      else logger.warn(fields, problem.message)
    }
    for (const text of this.logged) {
      if (now.has(text)) continue
      this.logged.delete(text)
      logger.info({ resolved: text }, 'install check passes now')
    }
  }

  readiness(): InstallReadiness {
    const validity = this.certificate ? validityProblem(this.certificate, this.options.now?.() ?? new Date()) : undefined
    if (validity !== this.validity) {
      if (validity) this.options.logger.error({ check: 'certificate-validity' }, validity)
      this.validity = validity
    }
    const failing = this.problems.filter((problem) => problem.failsReadiness).map(line)
    const warnings = this.problems.filter((problem) => !problem.failsReadiness).map((problem) => `warning: ${line(problem)}`)
    const expired = validity ? [`${validity}; fix: renew it (certs-script/generate.sh --apply, or cert-manager renews it)`] : []
    return {
      ready: failing.length === 0 && !validity,
      reasons: [...expired, ...failing, ...warnings],
      detail: {
        install: {
          ...(this.options.service ? { service: `${this.options.service.namespace}/${this.options.service.name}` } : {}),
          ...(this.options.webhooks ? { webhookConfigurations: this.options.webhooks.state() } : {}),
          problems: this.problems,
        },
      },
    }
  }
}
