#!/usr/bin/env node
// The hitless command. Plain JavaScript that any Node can run far enough to say which Node it needs:
// in a checkout it runs the TypeScript sources directly (Node 24 strips types, docs/decisions/0001);
// the published package runs the JavaScript compiled into dist/ (Node does not strip types under
// node_modules).
import { existsSync } from 'node:fs'
import module from 'node:module'

const NEEDED = [24, 12]
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(
    `hitless needs Node.js ${NEEDED.join('.')} or newer (this is ${process.version}).\n` +
      'Install Node 24 LTS (https://nodejs.org, or `nvm install 24`); in a checkout, `npm ci` installs it\n' +
      'and `npm run hitless -- <command>` or `npx hitless <command>` uses it.\n',
  )
  process.exit(2)
}

// V8's code cache for the modules below, kept by Node under the OS temp directory (NODE_COMPILE_CACHE
// to move it; NODE_DISABLE_COMPILE_CACHE=1 to turn it off): a command starts in about two thirds of the
// CPU time when the sources have not changed. Where nothing is writable it quietly does nothing.
module.enableCompileCache?.()

// Started over an IPC channel (a supervisor, a test runner): the channel must not keep a finished
// command alive; serve listens for its end (src/server.ts).
process.channel?.unref()

const source = new URL('../src/cli/main.ts', import.meta.url)
const { main } = await import(existsSync(source) ? source.href : new URL('../dist/src/cli/main.js', import.meta.url).href)
const code = await main(process.argv.slice(2))
// serve keeps running on its listener; the other commands finish here.
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code
