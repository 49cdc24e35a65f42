// `hitless fix --write` is safe on any file: over every YAML fixture and every file of the shared
// corpus, as written and as CRLF, with a BOM, without a final newline, and followed by another document:
// the result parses, has the same number of documents, every document the fix did not touch is
// byte-for-byte what it was, line endings stay as they were, and a second run changes nothing.
import { readdirSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { documentRegions } from '../../src/audit/manifests.ts'
import { fix } from '../../src/cli/fix.ts'

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return yamlFiles(path)
    return /\.ya?ml$/.test(name) ? [path] : []
  })
}

const roots = [fileURLToPath(new URL('../fixtures/', import.meta.url)), fileURLToPath(new URL('../../../shared/corpus/', import.meta.url))]
const files = roots.flatMap(yamlFiles)
const NEXT = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n'
const variants: Record<string, (text: string) => string> = {
  'as written': (text) => text,
  CRLF: (text) => text.replace(/\r?\n/g, '\r\n'),
  BOM: (text) => `\uFEFF${text}`,
  'no final newline': (text) => text.replace(/\s+$/, ''),
  'another document after': (text) => `${text.endsWith('\n') ? text : `${text}\n`}---\n${NEXT}`,
}

const documents = (text: string) => parseAllDocuments(text.replace(/^\uFEFF/, ''))
const quiet = async (run: () => Promise<number>) => {
  const write = process.stderr.write
  process.stderr.write = (() => true) as typeof process.stderr.write
  try {
    return await run()
  } finally {
    process.stderr.write = write
  }
}

t.test(`fix --write over ${files.length} files × ${Object.keys(variants).length} variants`, { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hitless-fix-property-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const problems: string[] = []
  let edited = 0
  for (const [i, source] of files.entries()) {
    const original = await readFile(source, 'utf8')
    const parsed = documents(original)
    if (parsed.some((doc) => doc.errors.length > 0)) continue // not YAML: fix leaves it alone (reported by audit)
    for (const [variant, make] of Object.entries(variants)) {
      const before = make(original)
      const file = join(dir, `${i}-${variant.replace(/\W/g, '_')}.yaml`)
      await writeFile(file, before)
      await quiet(() => fix([file], { write: true }))
      const after = await readFile(file, 'utf8')
      if (after === before) continue
      edited++
      const where = `${source} (${variant})`
      const docsBefore = documents(before)
      const docsAfter = documents(after)
      if (docsAfter.some((doc) => doc.errors.length > 0)) problems.push(`${where}: no longer parses: ${docsAfter.find((d) => d.errors.length)!.errors[0]!.message}`)
      if (docsAfter.length !== docsBefore.length) problems.push(`${where}: ${docsBefore.length} documents became ${docsAfter.length}`)
      // Region by region (a file may open with a comment-only region): what did not change in value
      // must not change in bytes.
      const regionsBefore = documentRegions(before)
      const regionsAfter = documentRegions(after)
      if (regionsAfter.length !== regionsBefore.length) problems.push(`${where}: ${regionsBefore.length} regions became ${regionsAfter.length}`)
      const value = (text: string | undefined) => JSON.stringify(documents(text ?? '').map((doc) => doc.toJS()))
      regionsBefore.forEach((region, n) => {
        if (value(region.text) === value(regionsAfter[n]?.text) && regionsAfter[n]?.text !== region.text) problems.push(`${where}: region ${n + 1} was not edited but its bytes changed`)
      })
      if (before.includes('\r\n') && /[^\r]\n/.test(after)) problems.push(`${where}: a bare LF in a CRLF file`)
      if (/\n$/.test(after) !== /\n$/.test(before)) problems.push(`${where}: the final newline ${/\n$/.test(before) ? 'was lost' : 'appeared'}`)
      if (variant === 'BOM' && !after.startsWith('\uFEFF')) problems.push(`${where}: the BOM was lost`)
      await quiet(() => fix([file], { write: true }))
      if ((await readFile(file, 'utf8')) !== after) problems.push(`${where}: a second run changed it again`)
    }
  }
  t.same(problems.slice(0, 20), [], `${problems.length} problems`)
  t.ok(edited > 50, `${edited} edited files checked`)
})
