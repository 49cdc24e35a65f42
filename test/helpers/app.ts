// An app wired like production (real logger, real policy) whose log lines tests can read.
import { Writable } from 'node:stream'
import { buildApp, type AppOptions } from '../../src/app.ts'
import { createLogger } from '../../src/log/log.ts'
import { policyFrom } from './objects.ts'

export function testApp(options: Partial<AppOptions> & { config?: string } = {}) {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const policy = policyFrom(options.config)
  const app = buildApp({ policy: () => policy, logger: createLogger('info', sink), ...options })
  return { app, lines }
}
