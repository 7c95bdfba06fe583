// Records → validation → a writer: the tail every conversion command shares. Chooses the
// writer from the output options (mixed JSONL on stdout by default, a JSONL or CSV file,
// split JSONL in a directory), writes files atomically, and on failure leaves no output
// file and ends JSONL on stdout with an abort marker so a reader down the pipe fails too.

import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createAtomicWriteStream } from '../atomic-file.js'
import { SecodaError, isSecodaError } from '../errors.js'
import type { Report, Summary } from '../report.js'
import type { SecodaRecord } from '../records.js'
import { asStream, chain } from '../stream.js'
import { ABORT_MARKER_KEY, STREAM_END_KEY, STREAM_HEADER_KEY, STREAM_VERSION } from '../../transforms/from-jsonl.js'
import { csvWriterCore, type SortOrderHeader } from '../../transforms/to-csv.js'
import { createJsonlWriter, createSplitJsonlWriter } from '../../transforms/to-jsonl.js'
import { createValidator, type ValidatorOptions } from '../../transforms/validate.js'

/** Where and how a conversion writes. */
export interface OutputOptions {
  /** Output format (default 'jsonl'). */
  to?: 'jsonl' | 'csv'
  /** Write to this file (atomically) instead of stdout. */
  output?: string
  /** JSONL: write resources.jsonl + lineage.jsonl here; CSV: write columns.csv here. */
  outDir?: string
  /** CSV sort column header (default col_sort_order). */
  sortOrderHeader?: SortOrderHeader
  /** The stream used for stdout (default process.stdout). */
  stdout?: NodeJS.WritableStream
  /**
   * JSONL on stdout opens with a stream header line and closes with a trailer carrying the
   * record count, so a reader down a pipe can tell a complete stream from one whose writer
   * was killed (the CLI sets this when stdout is a pipe or socket).
   */
  frame?: boolean
}

/** Options of {@link runConversion}. */
export interface RunOptions {
  report: Report
  output?: OutputOptions
  signal?: AbortSignal
  /** Extra validator options (report and forCsv are set from the run). */
  validate?: Omit<ValidatorOptions, 'report'>
  /** A custom final stage (e.g. the uploader) instead of the writers. */
  sink?: Writable
  /** A validator stage made by the caller (to read its counters afterwards). */
  validator?: ReturnType<typeof createValidator>
}

/** Marks a stream of Secoda CSV bytes its source validated itself (see {@link csvBytesSource}). */
const CSV_BYTES = Symbol('secoda-convert.csvBytes')

/**
 * Mark `stream` as a source of Secoda CSV bytes, validated by its producer (which fails the
 * stream at its end when the input had errors, as the CSV writer does): runConversion then
 * writes it as it is, with `to: 'csv'` only. transforms/info-schema/direct-csv.ts makes such streams.
 */
export function csvBytesSource<T extends Readable>(stream: T): T {
  ;(stream as unknown as Record<symbol, boolean>)[CSV_BYTES] = true
  return stream
}

function isCsvBytes(source: unknown): source is Readable {
  return source instanceof Readable && (source as unknown as Record<symbol, boolean>)[CSV_BYTES] === true
}

/** Name of the CSV file written into --out-dir. */
export const CSV_FILE_NAME = 'columns.csv'

/** Error used when stdout's reader went away (EPIPE): the CLI ends quietly on it. */
export class BrokenPipeError extends Error {
  readonly code = 'EPIPE'
  constructor() {
    super('stdout closed')
    this.name = 'BrokenPipeError'
  }
}

/**
 * A Writable that forwards to stdout with backpressure but never ends or destroys it (the
 * process may still write an abort marker or more output after a run). EPIPE becomes a
 * {@link BrokenPipeError}.
 */
export function stdoutWriter(stdout: NodeJS.WritableStream = process.stdout): Writable {
  let onError: ((err: NodeJS.ErrnoException) => void) | undefined
  const w = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (stdout.write(chunk)) cb()
      else stdout.once('drain', () => cb())
    },
    final(cb) {
      cleanup()
      cb()
    },
    destroy(err, cb) {
      cleanup()
      cb(err)
    },
  })
  onError = (err) =>
    w.destroy(
      err.code === 'EPIPE'
        ? new BrokenPipeError()
        : new SecodaError('OUTPUT_WRITE', `cannot write to stdout: ${err.message}`, { cause: err }),
    )
  const cleanup = (): void => {
    if (onError) stdout.off('error', onError)
    onError = undefined
  }
  stdout.on('error', onError)
  return w
}

/** The line a failed run appends to JSONL on stdout (with a leading newline). */
export function abortMarker(err: unknown): string {
  const code = isSecodaError(err) ? err.code : 'INTERNAL'
  const message = err instanceof Error ? err.message : String(err)
  return `\n${JSON.stringify({ [ABORT_MARKER_KEY]: { code, message } })}\n`
}

/**
 * Validate records from `source` and write them as the output options say. Resolves with
 * the run's summary; rejects with a {@link SecodaError} (VALIDATION_FAILED when the input had
 * errors) after removing any partial output file.
 */
export async function runConversion(source: Readable | AsyncIterable<SecodaRecord>, options: RunOptions): Promise<Summary> {
  const out = options.output ?? {}
  const to = out.to ?? 'jsonl'
  const report = options.report
  const direct = isCsvBytes(source)
  if (direct && (to !== 'csv' || options.sink !== undefined)) throw new SecodaError('INTERNAL', 'a CSV source can only be written as CSV')
  const validator = options.validator ?? createValidator({ ...options.validate, report, forCsv: to === 'csv' })
  const src = source instanceof Readable ? source : Readable.from(source)
  const toStdout = options.sink === undefined && out.output === undefined && out.outDir === undefined
  const stdout = out.stdout ?? process.stdout
  let dest: Writable | undefined
  try {
    if (options.sink !== undefined) {
      dest = options.sink
      await pipeline(src, validator, dest, { signal: options.signal })
    } else if (to === 'jsonl' && out.outDir !== undefined) {
      dest = createSplitJsonlWriter(out.outDir)
      await pipeline(src, validator, dest, { signal: options.signal })
    } else {
      const target = out.output ?? (out.outDir !== undefined ? join(out.outDir, CSV_FILE_NAME) : undefined)
      dest = target === undefined ? stdoutWriter(stdout) : createAtomicWriteStream(target)
      if (direct) {
        await pipeline(src, dest, { signal: options.signal })
      } else if (to === 'csv') {
        // the validator runs inside the CSV stage (same checks, same end-of-stream failure)
        // to save a stream crossing per record
        const writer = asStream(chain(validator.core, csvWriterCore({ report, sortOrderHeader: out.sortOrderHeader })))
        await pipeline(src, writer, dest, { signal: options.signal })
      } else {
        const writer = createJsonlWriter()
        const frame = toStdout && out.frame === true
        if (frame) dest.write(`${JSON.stringify({ [STREAM_HEADER_KEY]: { version: STREAM_VERSION } })}\n`)
        await pipeline(src, validator, writer, dest, { signal: options.signal })
        if (frame) await writeAll(stdout, `${JSON.stringify({ [STREAM_END_KEY]: { records: writer.info.recordsOut } })}\n`)
      }
    }
  } catch (err) {
    // pipeline() settles as soon as a stage fails; wait until the sink has cleaned up
    // (temporary files removed, upload aborted) before telling the caller
    if (dest !== undefined && !dest.closed) await new Promise((resolve) => dest!.once('close', resolve))
    const e = toSecodaError(err)
    // the marker tells a reader down a pipe that the run failed; on a terminal, the run's
    // error message says it all
    const tty = (stdout as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true
    if (toStdout && to === 'jsonl' && !tty && !(err instanceof BrokenPipeError)) {
      try {
        stdout.write(abortMarker(e))
      } catch {
        /* stdout gone: nothing more to tell it */
      }
    }
    throw err instanceof BrokenPipeError ? err : e
  }
  return report.summary()
}

/** Write to a stream and wait until it took the data (EPIPE becomes a {@link BrokenPipeError}). */
function writeAll(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(err.code === 'EPIPE' ? new BrokenPipeError() : err)
    stream.once('error', onError)
    stream.write(text, (err) => {
      stream.off('error', onError)
      if (err) onError(err as NodeJS.ErrnoException)
      else resolve()
    })
  })
}

/** Map anything thrown in a run to a SecodaError (AbortError → ABORTED, else INTERNAL). */
export function toSecodaError(err: unknown): SecodaError {
  if (isSecodaError(err)) return err
  if (err instanceof Error && (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR')) {
    return new SecodaError('ABORTED', 'interrupted', { cause: err })
  }
  return new SecodaError('INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}
