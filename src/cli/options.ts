// Flag and environment handling shared by the subcommands: a flag wins over its HITLESS_* variable,
// which wins over the default.
export class UsageError extends Error {
  override name = 'UsageError'
}

export function setting(flag: string | undefined, envName: string, fallback: string): string
export function setting(flag: string | undefined, envName: string): string | undefined
export function setting(flag: string | undefined, envName: string, fallback?: string): string | undefined {
  const fromEnv = process.env[envName]
  return flag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : fallback)
}

export function portNumber(text: string, name: string): number {
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${name} must be a port number, got "${text}"`)
  return port
}
