// Flag and environment handling shared by the subcommands: a flag wins over its HITLESS_* variable,
// which wins over the default.
import { readFile } from 'node:fs/promises'
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

/** The key approval records are signed with: the file's bytes (at least 32), shared by every replica; undefined when the file does not exist. */
export async function approvalKeyFrom(path: string | undefined): Promise<Uint8Array | undefined> {
  if (!path) return undefined
  let key: Buffer
  try {
    key = await readFile(path)
  } catch (error) {
    // The Deployment mounts the Secret as optional: without it, serve warns and signs with its own key.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  if (key.length < 32) throw new UsageError(`--approval-key ${path}: ${key.length} bytes; use at least 32 random bytes (openssl rand -out FILE 32)`)
  return key
}
