#!/usr/bin/env node
// The command-line entry: wire SIGINT, SIGTERM and SIGHUP to an AbortSignal, run the CLI,
// exit with its status. A run stopped by a signal removes its temporary files and exits
// 128 + the signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), as shells report a
// process killed by it; a second signal exits at once (README "Exit status").

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
// SIGTERM (CI cancellation, `kill`) and SIGHUP end a run as Ctrl-C does, so an upload is cut
// before its closing boundary and its temporary files (spool, output) are removed.
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const
let signalled: number | undefined
for (const [name, number] of Object.entries(SIGNALS)) {
  process.on(name, () => {
    if (signalled !== undefined) process.exit(128 + number) // a second signal does not wait for clean-up
    signalled = number
    controller.abort()
  })
}
// past a file size limit (ulimit -f) a write must fail with EFBIG, not kill the process
// before it can remove its temporary file
process.on('SIGXFSZ', () => {})
// a closed stdout (`| head`) must not crash with EPIPE: the run sees it and ends quietly;
// other errors (a full disk, a file size limit) reach the run as OUTPUT_WRITE
let stdoutError: NodeJS.ErrnoException | undefined
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') stdoutError ??= err
})

main(process.argv.slice(2), processIO(controller.signal)).then(
  (code) => {
    if (code === 0 && stdoutError !== undefined) {
      process.stderr.write(`error OUTPUT_WRITE cannot write to stdout: ${stdoutError.message}\n`)
      code = 2
    }
    process.exitCode = signalled !== undefined ? 128 + signalled : code
  },
  (err: unknown) => {
    process.stderr.write(`error INTERNAL ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 2
  },
)
