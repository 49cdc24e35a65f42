// Starts a benchmark server in its own process (so the server and the load generator each get a
// core) and waits for its "listening PORT" line.
import { spawn } from 'node:child_process'

export interface ChildServer {
  port: number
  pid: number
  /** CPU time the server has used so far, in microseconds. */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

export function startChildServer(script: string, args: string[]): Promise<ChildServer> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 60 s`)), 60_000)
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
    child.stdout.on('data', (data: Buffer) => {
      const match = /listening (\d+)/.exec(String(data))
      if (!match) return
      clearTimeout(timer)
      resolve({
        port: Number(match[1]),
        pid: child.pid!,
        cpuMicros() {
          return new Promise((answer) => {
            const onData = (chunk: Buffer) => {
              const cpu = /cpu (\d+)/.exec(String(chunk))
              if (!cpu) return
              child.stdout.off('data', onData)
              answer(Number(cpu[1]))
            }
            child.stdout.on('data', onData)
            child.kill('SIGUSR2')
          })
        },
        async stop() {
          child.kill('SIGTERM')
          await exited
        },
      })
    })
  })
}
