// The process streams a CLI run uses, passed explicitly so tests can run main() in-process.

/** Streams and environment of one CLI run. */
export interface CliIO {
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
  /** Aborted on Ctrl-C (the bin shim wires SIGINT to it). */
  signal?: AbortSignal
}

/** The real process's streams. */
export function processIO(signal?: AbortSignal): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal }
}
