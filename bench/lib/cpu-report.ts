// Lets the parent read a child server's CPU time: on SIGUSR2 the server prints "cpu <µs>".
// CPU per request does not depend on how fast the load generator is, so it is steadier than req/s.
export function reportCpuOnSignal(): void {
  process.on('SIGUSR2', () => {
    const { user, system } = process.cpuUsage()
    process.stdout.write(`cpu ${user + system}\n`)
  })
}
