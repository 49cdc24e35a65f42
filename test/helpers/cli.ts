// Runs bin/hitless.js as a user would, with the same Node that runs the tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/hitless.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function runCli(args: string[], options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? '')
  })
}

/** Starts a long-running command and resolves once a JSON log line matches. */
export function startCli(args: string[], ready: (line: Record<string, unknown>) => boolean, options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? process.cwd(), env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const lines: Record<string, unknown>[] = []
  const started = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = ''
    child.stdout!.on('data', (d) => {
      buffer += d
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, newline))
        buffer = buffer.slice(newline + 1)
        lines.push(line)
        if (ready(line)) resolve(line)
      }
    })
    child.on('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)))
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, lines, started, exited }
}

/**
 * `hitless serve` on loopback with test certificates, --cluster off and the given shutdown delay,
 * started (its url known) and killed at the test's end: what the drain tests signal.
 */
export async function startServe(t: { teardown(fn: () => void): void }, shutdownDelaySeconds: number) {
  const { testCertificates } = await import('./tls.ts')
  const certs = await testCertificates()
  const dir = await mkdtemp(join(tmpdir(), 'hitless-serve-'))
  await writeFile(join(dir, 'tls.crt'), certs.cert)
  await writeFile(join(dir, 'tls.key'), certs.key)
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--cluster', 'off', '--shutdown-delay', String(shutdownDelaySeconds)]
  const serve = startCli(args, (line) => line['msg'] === 'hitless is serving /mutate and /validate')
  t.teardown(() => serve.child.kill('SIGKILL'))
  const url = String((await serve.started)['url'])
  return { serve, url, certs }
}
