// `hitless serve` started over an IPC channel closes when the process that started it dies without
// stopping it (a test runner killed mid-file): no orphan keeps its ports and CPU.
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { BIN } from '../helpers/cli.ts'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('serve exits when its supervisor is killed', async (t) => {
  // The supervisor: starts serve with an IPC channel, prints its pid once it serves, then waits.
  const supervisor = `
    import { spawn } from 'node:child_process'
    const child = spawn(process.execPath, [${JSON.stringify(BIN)}, 'serve', '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--cluster', 'off', '--shutdown-delay', '0'], { cwd: process.argv[1], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
    let buffer = ''
    child.stdout.on('data', (d) => {
      buffer += d
      if (buffer.includes('hitless is serving')) { process.stdout.write(child.pid + '\\n'); buffer = '' }
    })
  `
  const cwd = await mkdtemp(join(tmpdir(), 'hitless-orphan-'))
  const parent = spawn(process.execPath, ['--input-type=module', '-e', supervisor, cwd], { stdio: ['ignore', 'pipe', 'inherit'] })
  const pid = await new Promise<number>((resolve, reject) => {
    let out = ''
    parent.stdout.on('data', (d) => {
      out += d
      if (out.includes('\n')) resolve(Number(out.trim()))
    })
    parent.on('exit', (code) => reject(new Error(`supervisor exited with ${code}`)))
  })
  t.teardown(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL')
  })
  t.ok(alive(pid), 'serve runs')
  parent.kill('SIGKILL')
  // Bounded wait for the outcome, not a timing: serve closes gracefully (its shutdown delay included).
  const deadline = Date.now() + 60_000
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  t.notOk(alive(pid), 'serve has exited after its supervisor died')
})
