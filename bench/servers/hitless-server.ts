// hitless as deployed: the real startServer with the shipped policy and a real pino logger writing
// its decision lines synchronously, as pino does to stdout in production (to /dev/null, so no terminal slows it).
import { readFile } from 'node:fs/promises'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/load.ts'
import { buildPolicy } from '../../src/engine/policy.ts'
import { createLogger } from '../../src/log/log.ts'
import { startServer } from '../../src/server.ts'

import { reportCpuOnSignal } from '../lib/cpu-report.ts'

reportCpuOnSignal()
const [certPath, keyPath] = process.argv.slice(2) as [string, string]
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  tls: { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') },
  policy: buildPolicy(await loadConfig()),
  logger: createLogger(process.env['BENCH_LOG_LEVEL'] ?? 'info', pino.destination({ dest: '/dev/null', sync: true })),
})
process.stdout.write(`listening ${new URL(server.url).port}\n`)
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
