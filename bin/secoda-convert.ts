#!/usr/bin/env node
// The command-line entry: wire Ctrl-C to an AbortSignal, run the CLI, exit with its status.

import { main } from '../lib/cli/main.js'
import { processIO } from '../lib/cli/io.js'

const controller = new AbortController()
let interrupted = false
process.on('SIGINT', () => {
  if (interrupted) process.exit(130) // a second Ctrl-C does not wait for clean-up
  interrupted = true
  controller.abort()
})
// a closed stdout (`| head`) must not crash with EPIPE: the run sees it and ends quietly
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err })

main(process.argv.slice(2), processIO(controller.signal)).then(
  (code) => { process.exitCode = interrupted ? 130 : code },
  (err: unknown) => {
    process.stderr.write(`error INTERNAL ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 2
  },
)
