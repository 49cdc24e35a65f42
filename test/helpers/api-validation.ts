// The API server's own validation of what hitless patches, so a test can prove a mutation never leaves
// an object the API server rejects. Encoded from kube-apiserver's pkg/apis/core/validation
// (validateHandler, validateSleepAction) as of v1.30–v1.35:
// - a LifecycleHandler needs exactly one handler type: "must specify a handler type" (0), and
//   "may not specify more than 1 handler type" (Forbidden, at the second handler's path);
// - `sleep` needs the PodLifecycleSleepAction feature: alpha in 1.29, beta and on by default from 1.30,
//   so before 1.30 the field is dropped or refused; its seconds must be > 0 and no more than the pod's
//   terminationGracePeriodSeconds (default 30);
// - `exec.command` is required;
// - terminationGracePeriodSeconds is an int64 the API server takes only as a non-negative number.
import type { KubernetesVersion } from '../../src/model/types.ts'
import type { PodSpec } from '../../src/workloads/pod-template.ts'

const HANDLER_TYPES = ['exec', 'httpGet', 'tcpSocket', 'sleep'] as const

export function lifecycleErrors(spec: PodSpec, version: KubernetesVersion, specPath = 'spec'): string[] {
  const errors: string[] = []
  const grace = spec.terminationGracePeriodSeconds ?? 30
  if (typeof grace !== 'number' || !Number.isSafeInteger(grace) || grace < 0) errors.push(`${specPath}.terminationGracePeriodSeconds: Invalid value: ${grace}`)
  const sleepSupported = version.major > 1 || version.minor >= 30
  const lists = [['containers', spec.containers ?? []], ['initContainers', spec.initContainers ?? []]] as const
  for (const [list, containers] of lists) {
    containers.forEach((container, i) => {
      for (const hook of ['preStop', 'postStart'] as const) {
        const handler = container.lifecycle?.[hook] as Record<string, unknown> | undefined
        if (!handler) continue
        const path = `${specPath}.${list}[${i}].lifecycle.${hook}`
        const present = HANDLER_TYPES.filter((type) => handler[type] !== undefined && handler[type] !== null)
        if (present.length === 0) errors.push(`${path}: Required value: must specify a handler type`)
        if (present.length > 1) errors.push(`${path}.${present[1]}: Forbidden: may not specify more than 1 handler type`)
        const sleep = handler['sleep'] as { seconds?: unknown } | undefined
        if (sleep) {
          if (!sleepSupported) errors.push(`${path}.sleep: Forbidden: the sleep action needs Kubernetes 1.30 (PodLifecycleSleepAction)`)
          const seconds = sleep.seconds
          if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds <= 0 || seconds > grace) {
            errors.push(`${path}.sleep.seconds: Invalid value: ${String(seconds)}: must be greater than 0 and less than terminationGracePeriodSeconds (${grace})`)
          }
        }
        const exec = handler['exec'] as { command?: unknown } | undefined
        if (exec && (!Array.isArray(exec.command) || exec.command.length === 0)) errors.push(`${path}.exec.command: Required value`)
      }
    })
  }
  return errors
}
