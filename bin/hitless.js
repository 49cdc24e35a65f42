#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 24 strips types natively (see docs/decisions/0001).
import { main } from '../src/cli/main.ts'

const code = await main(process.argv.slice(2))
// serve keeps running on its listener; the other commands finish here.
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code
