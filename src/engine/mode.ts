// enforce or audit, globally from the config and per Namespace from its hitless.dev/mode label
// (which may also turn hitless off for that namespace).
import type { Mode } from '../model/types.ts'
import type { NamespaceInfo } from '../model/namespaces.ts'

export const MODE_LABEL = 'hitless.dev/mode'
export type { Mode }
export type NamespaceMode = Mode | 'off'

export interface EffectiveMode {
  mode: NamespaceMode
  /** Set when the namespace label could not be used. */
  notice?: string
}

export function effectiveMode(configured: Mode, namespace: NamespaceInfo | undefined): EffectiveMode {
  const label = namespace?.labels[MODE_LABEL]
  if (label === undefined) return { mode: configured }
  if (label === 'enforce' || label === 'audit' || label === 'off') return { mode: label }
  return { mode: configured, notice: `namespace ${namespace!.name} has ${MODE_LABEL}="${label}"; expected enforce, audit or off` }
}
