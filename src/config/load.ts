// Reads a rule config (YAML), validates it against rules/schema.json and fills every default, so the
// rest of hitless sees one complete Config whatever the file left out.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject } from 'ajv'
import { parseDocument } from 'yaml'
import schema from '../../rules/schema.json' with { type: 'json' }
import { parsePointer } from '../model/json-pointer.ts'
import type { Mode } from '../model/types.ts'
import type { Action } from '../model/types.ts'
import type { ExemptionPolicy } from '../exemptions/resolve.ts'
import type { TrustedController } from '../model/types.ts'

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../rules/default.yaml', import.meta.url))

export interface RuleConfig {
  action: Action
  [option: string]: unknown
}

export interface Config {
  mode: Mode
  onClusterUnavailable: 'warn' | 'deny'
  allowExistingViolations: boolean
  servingContainers: { ignore: string[]; nonServingPortNames: string[] }
  rules: Record<string, RuleConfig>
  exemptions: ExemptionPolicy
  controllers: { trusted: TrustedController[] }
  reports: ReportsConfig
}

export interface ReportsConfig {
  format: 'off' | 'openreports' | 'policyreport'
  intervalSeconds: number
  writesPerSecond: number
  maxResultsPerReport: number
  leaseNamespace?: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const validate = new Ajv({ useDefaults: true, allErrors: true, strict: true }).compile<Config>(schema)

/** `$.rules.pre-stop.sleepSeconds` from an ajv error, naming the offending key where there is one. */
function describe(error: ErrorObject): string {
  const tokens = parsePointer(error.instancePath)
  const path = ['$', ...tokens].join('.')
  switch (error.keyword) {
    case 'additionalProperties':
      return `${path}: unknown field "${String(error.params['additionalProperty'])}"`
    case 'enum':
      return `${path}: must be one of ${(error.params['allowedValues'] as unknown[]).join(', ')}`
    default:
      return `${path}: ${error.message ?? 'is invalid'}`
  }
}

/** Parses and validates config text; `source` names it in errors. */
export function parseConfig(text: string, source: string): Config {
  const document = parseDocument(text, { prettyErrors: true })
  if (document.errors.length > 0) {
    throw new ConfigError(`${source}: invalid YAML: ${document.errors[0]!.message}`)
  }
  const value: unknown = document.toJS() ?? {}
  if (!validate(value)) {
    const reasons = (validate.errors ?? []).map(describe)
    throw new ConfigError(`${source}: invalid config:\n  ${[...new Set(reasons)].join('\n  ')}`)
  }
  // reports.format: false is off, as a YAML 1.1 tool that rewrote the config reads an unquoted off.
  if ((value.reports.format as unknown) === false) value.reports.format = 'off'
  return value
}

export async function loadConfig(path: string = DEFAULT_CONFIG_PATH): Promise<Config> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config: ${(error as Error).message}`)
  }
  return parseConfig(text, path)
}
