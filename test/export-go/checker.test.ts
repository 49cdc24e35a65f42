// The authority on the export (decision 0019): the Go checker, built from the API server's own code
// (test/export-go/run.sh), reads every YAML document hitless writes as kubectl does, decodes the exports
// strictly into the admissionregistration types, compiles every expression for each Kubernetes version
// the export supports, and evaluates every request of test/export/scenarios.ts with the API server's
// validating and mutating policy code, comparing verdicts and patched objects with the webhook's; and
// dispatches the writes of test/deploy/admission-writes.ts through the API server's webhook admission
// plugins over the rendered k8s-1.30 overlays with hitless down, against the JavaScript model (decision 0035).
// Here the shipped config's and the approvers' requests, when the checker is built; `.ci/run` builds it
// (about 10 minutes cold, cached per machine) and runs it over every scenario (`run.sh all`, minutes).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { hasKubectl } from '../helpers/kubectl.ts'
import { checkerInput } from './input.ts'

const runner = fileURLToPath(new URL('run.sh', import.meta.url))
const found = spawnSync('bash', [runner, 'path'], { encoding: 'utf8' })
const checker = found.status === 0 ? found.stdout.trim() : undefined

t.test('the export, read, validated, compiled and evaluated by the API server’s code', { skip: checker ? false : 'the Go checker is not built on this machine: bash test/export-go/run.sh build (.ci/run does)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hitless-go-check-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const input = join(dir, 'input.json')
  const written = await checkerInput(false)
  writeFileSync(input, JSON.stringify(written))
  const run = spawnSync(checker!, [input], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const lines = run.stdout.trim().split('\n')
  const summary = JSON.parse(lines.at(-1) ?? '{}') as { failures: number; documents: number; objects: number; expressions: number; requests: number; verdicts: number; mutations: number; writes: number; dispatches: number }
  t.same(lines.filter((line) => line.startsWith('FAIL ')), [], 'no failures')
  t.equal(run.status, 0, run.stderr)
  t.equal(summary.failures, 0)
  t.equal(summary.documents, written.documents.length, 'every written document read')
  t.equal(summary.requests, written.exports.reduce((n, e) => n + e.requests.length, 0), 'every request evaluated')
  t.equal(summary.writes, written.webhooks.reduce((n, w) => n + w.writes.length, 0), 'every write dispatched through the webhook plugins')
  if (hasKubectl) t.ok(written.webhooks.length === 2 && summary.dispatches >= 3 * summary.writes, `${summary.writes} writes, ${summary.dispatches} webhook decisions`)
  t.ok(summary.expressions > 1000 && summary.verdicts > 3000 && summary.mutations > 1000, `${summary.expressions} expressions, ${summary.verdicts} verdicts, ${summary.mutations} mutation runs`)
})
