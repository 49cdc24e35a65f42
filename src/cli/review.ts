// `hitless review [file|-]`: answers one AdmissionReview exactly as /validate (or /mutate) would,
// without a server: for debugging a deny and for scripting.
import { readFile } from 'node:fs/promises'
import { handleAdmission } from '../admission/handle.ts'
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.ts'
import { buildPolicy } from '../engine/policy.ts'
import { approvalKeyFrom, setting } from './options.ts'

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export interface ReviewOptions {
  mutate?: boolean
  config?: string
  approvalKey?: string
}

/** Exit codes: 0 allowed, 1 denied, 2 not an AdmissionReview it can judge (malformed, bad request). */
export async function review(file: string | undefined, values: ReviewOptions): Promise<number> {
  const approvalKey = await approvalKeyFrom(setting(values.approvalKey, 'HITLESS_APPROVAL_KEY'))
  const policy = buildPolicy(await loadConfig(setting(values.config, 'HITLESS_CONFIG', DEFAULT_CONFIG_PATH)), {}, approvalKey)
  const text = await readInput(file ?? '-')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    // What the server answers to malformed JSON.
    process.stdout.write(JSON.stringify({ error: `malformed JSON: ${(error as Error).message}` }, null, 2) + '\n')
    return 2
  }
  const handled = handleAdmission(body, values.mutate ? 'mutate' : 'validate', policy)
  process.stdout.write(JSON.stringify(handled.body, null, 2) + '\n')
  if (handled.log.decision === 'bad-request') return 2
  return 'response' in handled.body && handled.body.response.allowed ? 0 : 1
}
