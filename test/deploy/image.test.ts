// The container image definition (no Docker engine here to build it: these are the promises it makes).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8')

t.test('Dockerfile: multi-stage on Node 24, production dependencies, non-root', async (t) => {
  const dockerfile = read('Dockerfile')
  const stages = dockerfile.match(/^FROM .*/gm) ?? []
  t.equal(stages.length, 2, 'multi-stage')
  t.ok(stages.every((line) => /node:24/.test(line)), 'Node 24 in every stage')
  t.match(dockerfile, /npm ci --omit=dev/)
  t.match(dockerfile, /^USER 10001:10001$/m)
  t.notMatch(dockerfile, /COPY (\.|test|bench|\.hitless)( |\/)/, 'no tests, benchmarks or development certificates copied')
})

t.test('.dockerignore admits only what the image needs', async (t) => {
  const lines = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'))
  t.same(lines, ['*', '!package.json', '!package-lock.json', '!bin/', '!src/', '!rules/'])
})
