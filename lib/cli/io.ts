// The process streams a CLI run uses, passed explicitly so tests can run main() in-process.

import type { RunState } from './summary.js'
import { fstatSync } from 'node:fs'

/** Streams and environment of one CLI run. */
export interface CliIO {
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
  /** Aborted on Ctrl-C (the bin shim wires SIGINT to it). */
  signal?: AbortSignal
  /** stdout is a pipe or socket: JSONL written there is framed (header and trailer lines). */
  stdoutIsPipe?: boolean
}

/** The real process's streams. */
export function processIO(signal?: AbortSignal): CliIO {
  let stdoutIsPipe = false
  try {
    const s = fstatSync(1)
    stdoutIsPipe = s.isFIFO() || s.isSocket()
  } catch {
    // no fd 1: nothing reads the output
  }
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal, stdoutIsPipe }
}

/** Flags every command has, and the context main() passes to every handler. */
export interface GlobalArgs {
  verbose?: boolean
  quiet?: boolean
  /** The run summary as JSON on stdout (commands whose stdout carries no data). */
  json?: boolean
  /** The run summary as JSON into this file. */
  'summary-json'?: string
  /** Write the HTML report here. */
  report?: string
  /** --progress (forced, plain lines off a terminal) / --no-progress. */
  progress?: boolean
  'max-errors': number
  io: CliIO
  /** Where a command's handler leaves its exit status, and what the run summary is built from. */
  run: RunState
  /** The command line as given (for messages that quote a flag's text). */
  rawArgs?: readonly string[]
  /** The CLI itself, for commands that run other commands (demo). */
  main: (args: string[], io: CliIO) => Promise<number>
}
