// `hitless review [file|-]`: answers one AdmissionReview exactly as /validate (or /mutate) would,
// without a server: for debugging a deny and for scripting.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { handleAdmission } from '../admission/handle.ts'
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts'
import { buildPolicy } from '../engine/policy.ts'
import { setting, UsageError } from './options.ts'

export const REVIEW_USAGE = `hitless review [file|-] [--mutate] [--config FILE]

  Reads one AdmissionReview (JSON) from the file or stdin and prints the AdmissionReview that
  /validate would answer (/mutate with --mutate).`

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function review(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { mutate: { type: 'boolean', default: false }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length > 1) throw new UsageError('review takes one file (or - for stdin)')
  const policy = buildPolicy(await loadConfig(setting(values.config, 'HITLESS_CONFIG', DEFAULT_CONFIG_PATH)))
  const text = await readInput(positionals[0] ?? '-')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    // What the server answers to malformed JSON.
    process.stdout.write(JSON.stringify({ error: `malformed JSON: ${(error as Error).message}` }, null, 2) + '\n')
    return
  }
  const handled = handleAdmission(body, values.mutate ? 'mutate' : 'validate', policy)
  process.stdout.write(JSON.stringify(handled.body, null, 2) + '\n')
}
