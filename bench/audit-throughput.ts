// hitless audit over 10,000 generated manifests (Deployments and Services over 100 namespaces, in 100
// files) vs merely reading and parsing the same files with the same YAML library (js-yaml, CORE
// schema), and, for context, with the full-AST `yaml` library. Rounds alternate; the median of each
// is reported. Bounded: fixed input, ROUNDS rounds.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CORE_SCHEMA, loadAll } from 'js-yaml'
import { parseAllDocuments, stringify } from 'yaml'
import { loadManifests } from '../src/audit/manifests.ts'
import { auditManifests } from '../src/audit/run.ts'
import { loadConfig } from '../src/config/load.ts'
import { summarize } from '../src/report/common.ts'
import { writeResult } from './lib/report.ts'

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5)
const FILES = 100
const PER_FILE = 100

function manifest(i: number): object {
  const namespace = `team-${i % 100}`
  const app = `app-${Math.floor(i / 2)}`
  if (i % 2 === 1) {
    return { apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace }, spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
  }
  const container = {
    name: app,
    image: `registry.example.com/${app}:1.0.${i}`,
    ports: [{ name: 'http', containerPort: 8080 }],
    env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'REGION', value: 'eu-west-1' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    ...(i % 4 === 0 ? { readinessProbe: { httpGet: { path: '/ready', port: 'http' } } } : {}),
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace, labels: { app, team: namespace } },
    spec: { replicas: 3, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [container] } } },
  }
}

const dir = await mkdtemp(join(tmpdir(), 'hitless-bench-audit-'))
try {
  for (let f = 0; f < FILES; f++) {
    const docs = Array.from({ length: PER_FILE }, (_, d) => stringify(manifest(f * PER_FILE + d)))
    await writeFile(join(dir, `m-${String(f).padStart(3, '0')}.yaml`), docs.join('---\n'))
  }
  const total = FILES * PER_FILE
  const config = await loadConfig()
  const parseOnly = async () => {
    let objects = 0
    for (const name of (await readdir(dir)).sort()) objects += loadAll(await readFile(join(dir, name), 'utf8'), null, { schema: CORE_SCHEMA }).length
    return objects
  }
  const parseAst = async () => {
    let objects = 0
    for (const name of (await readdir(dir)).sort()) {
      for (const doc of parseAllDocuments(await readFile(join(dir, name), 'utf8'))) if ((doc as { toJS(): unknown }).toJS()) objects++
    }
    return objects
  }
  const audit = async () => {
    const { manifests, files } = await loadManifests([dir])
    const result = auditManifests(manifests, config, { defaultNamespace: 'default' })
    return summarize(result, files, 'deny').findings
  }
  const parseMs: number[] = []
  const astMs: number[] = []
  const auditMs: number[] = []
  let findings = 0
  for (let round = 0; round < ROUNDS; round++) {
    let start = performance.now()
    if ((await parseOnly()) !== total) throw new Error('parse-only read the wrong number of objects')
    parseMs.push(performance.now() - start)
    start = performance.now()
    await parseAst()
    astMs.push(performance.now() - start)
    start = performance.now()
    findings = await audit()
    auditMs.push(performance.now() - start)
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  const [parse, ast, full] = [median(parseMs), median(astMs), median(auditMs)]
  console.log(`${total} manifests in ${FILES} files (${findings} findings), median of ${ROUNDS} rounds`)
  console.log('| run | time | manifests/s |')
  console.log('|---|---|---|')
  console.log(`| parse only, same library (js-yaml loadAll, CORE schema) | ${parse.toFixed(0)} ms | ${((total / parse) * 1000).toFixed(0)} |`)
  console.log(`| parse only, full AST (yaml parseAllDocuments + toJS) | ${ast.toFixed(0)} ms | ${((total / ast) * 1000).toFixed(0)} |`)
  console.log(`| hitless audit (read, parse, all rules, summary) | ${full.toFixed(0)} ms | ${((total / full) * 1000).toFixed(0)} |`)
  console.log(`audit / parse = ${(full / parse).toFixed(2)}x (goal <= 2x); ${((total / full) * 1000).toFixed(0)} manifests/s (goal >= 5000)`)
  await writeResult('audit-throughput', { total, findings, parseMs, astMs, auditMs })
} finally {
  await rm(dir, { recursive: true, force: true })
}
