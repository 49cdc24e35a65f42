// `hitless export-policies`: the rules that need no cluster state as ValidatingAdmissionPolicies (and,
// with --mutating, MutatingAdmissionPolicies) on stdout, from the same config the webhook reads.
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts'
import { atLeast, exportPolicies, MIN_MUTATING_VERSION, MIN_VALIDATING_VERSION } from '../export/policies.ts'
import { renderPolicies } from '../export/render.ts'
import type { KubernetesVersion } from '../model/types.ts'
import { setting, UsageError } from './options.ts'
import packageJson from '../../package.json' with { type: 'json' }

/** The version the policies are for when --kubernetes-version is not given: MutatingAdmissionPolicy's GA. */
export const DEFAULT_KUBERNETES_VERSION = '1.36'

export interface ExportPoliciesOptions {
  config?: string
  mutating?: boolean
  kubernetesVersion?: string
}

/** `1.30`, `v1.34`, `1.36.2` → major.minor. */
export function parseKubernetesVersion(text: string): KubernetesVersion {
  const match = /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(text.trim())
  if (!match) throw new UsageError(`--kubernetes-version must look like 1.30 or v1.34.2, got "${text}"`)
  return { major: Number(match[1]), minor: Number(match[2]) }
}

export async function exportPoliciesCommand(values: ExportPoliciesOptions): Promise<number> {
  const versionText = values.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION
  const kubernetesVersion = parseKubernetesVersion(versionText)
  const shown = `${kubernetesVersion.major}.${kubernetesVersion.minor}`
  if (!atLeast(kubernetesVersion, MIN_VALIDATING_VERSION)) {
    throw new UsageError(`ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) needs Kubernetes 1.30 or later, not ${shown}: use the hitless webhook`)
  }
  if (values.mutating && !atLeast(kubernetesVersion, MIN_MUTATING_VERSION)) {
    throw new UsageError(`--mutating: MutatingAdmissionPolicy needs Kubernetes 1.34 or later (v1beta1 behind a feature gate; v1 from 1.36), not ${shown}: leave out --mutating and keep the webhook's /mutate`)
  }
  const configSource = setting(values.config, 'HITLESS_CONFIG', DEFAULT_CONFIG_PATH)
  const config = await loadConfig(configSource)
  const result = exportPolicies(config, { kubernetesVersion, mutating: values.mutating === true })
  const shownSource = configSource === DEFAULT_CONFIG_PATH ? 'the shipped rules/default.yaml' : configSource
  process.stdout.write(renderPolicies(result, config, { version: packageJson.version, configSource: shownSource, kubernetesVersion, mutating: values.mutating === true }))
  return 0
}
