#!/usr/bin/env node
// The command-line entry: wire Ctrl-C to an AbortSignal, run the CLI, exit with its status.

import { setFlagsFromString } from 'node:v8'
import { main } from '../lib/cli/main.js'
import { processIO } from '../lib/cli/io.js'

// Every command streams with a small live heap (tens of MB) but allocates fast; V8's
// default lets the old generation grow up to ~4x its live size between full collections
// (its factor rises when GC is cheap, as it is here), which made the peak RSS of a 1 GB
// dbt run vary between ~190 and ~230 MB from run to run. A fixed 10% growth keeps the heap
// close to what is live (peaks 185-195 MB) at no measurable CPU cost; the flag is read at
// each collection, so setting it at start-up takes effect. NODE_OPTIONS can override it.
if (
  !/--heap-growing-percent/.test(process.env.NODE_OPTIONS ?? '') &&
  !process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))
) {
  setFlagsFromString('--heap-growing-percent=10')
}

const controller = new AbortController()
let interrupted = false
process.on('SIGINT', () => {
  if (interrupted) process.exit(130) // a second Ctrl-C does not wait for clean-up
  interrupted = true
  controller.abort()
})
// SIGTERM (CI cancellation, `kill`) ends a run the same way, so an upload is cut before its
// closing boundary and its temporary files are removed.
process.on('SIGTERM', () => {
  if (interrupted) process.exit(143)
  interrupted = true
  controller.abort()
})
// a closed stdout (`| head`) must not crash with EPIPE: the run sees it and ends quietly
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

main(process.argv.slice(2), processIO(controller.signal)).then(
  (code) => {
    process.exitCode = interrupted ? 130 : code
  },
  (err: unknown) => {
    process.stderr.write(`error INTERNAL ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 2
  },
)
