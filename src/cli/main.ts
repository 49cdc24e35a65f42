// `hitless <command>`: dispatch and the one place that turns errors into exit codes
// (2 usage, 1 everything else).
import { ConfigError } from '../config/load.ts'
import { UsageError } from './options.ts'
import { audit, AUDIT_USAGE } from './audit.ts'
import { fix, FIX_USAGE } from './fix.ts'
import { review, REVIEW_USAGE } from './review.ts'
import { serve, SERVE_USAGE } from './serve.ts'

const USAGE = `hitless: stops the rollout misconfigurations behind 502/503/504s

Commands:
  serve     run the admission webhook (HTTPS: /mutate, /validate, /healthz, /readyz)
  review    answer one AdmissionReview from a file or stdin, as the webhook would
  audit     the same rules over manifests or a live cluster, as a report
  fix       apply what the webhook would patch to YAML files (diff, or --write)

${SERVE_USAGE}

${REVIEW_USAGE}

${AUDIT_USAGE}

${FIX_USAGE}`

// A command resolves to its exit code (or nothing for 0).
const COMMANDS: Record<string, (args: string[]) => Promise<number | void>> = { serve, review, audit, fix }

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n')
    return command ? 0 : 2
  }
  const run = COMMANDS[command]
  if (!run) {
    process.stderr.write(`hitless: unknown command "${command}"\n\n${USAGE}\n`)
    return 2
  }
  try {
    return (await run(args)) ?? 0
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    process.stderr.write(`hitless ${command}: ${(error as Error).message}\n`)
    if (error instanceof ConfigError) return 1
    return usage ? 2 : 1
  }
}
