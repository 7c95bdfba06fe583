// Secoda files → one stream of records: JSONL (mixed or split) or Secoda CSV, told apart by
// content, from files, directories holding resources.jsonl/lineage.jsonl, or stdin. Used by
// validate, convert and upload, so every file of one run shares one validator.

import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { SecodaError } from '../errors.js'
import type { IdBuilder } from '../ids.js'
import { displayName, estimateIdsFromSize, openSource, peekUntil } from '../input.js'
import type { Report } from '../report.js'
import type { SecodaRecord } from '../records.js'
import { createJsonlReader } from '../../transforms/from-jsonl.js'
import { createSecodaCsvReader } from '../../transforms/from-secoda-csv.js'
import { SPLIT_FILES } from '../../transforms/to-jsonl.js'

/** Input format of Secoda files. */
export type SecodaFormat = 'jsonl' | 'csv'

/** Options of {@link readSecodaFiles}. */
export interface ReadOptions {
  report: Report
  ids?: IdBuilder
  signal?: AbortSignal
  /** Force a format instead of detecting it from the content. */
  format?: SecodaFormat | 'auto'
  /** Longest accepted JSONL line in bytes. */
  maxLineLength?: number
  /** The stream read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream
  /** Told the size of each chunk read (see openInput). */
  onRead?: (bytes: number) => void
}

/**
 * Expand directory arguments to the split JSONL files they hold (resources.jsonl first, then
 * lineage.jsonl when present). Missing paths are left for {@link openInput} to report.
 */
export async function expandInputs(files: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const f of files.length === 0 ? ['-'] : files) {
    if (f === '-') {
      out.push(f)
      continue
    }
    const s = await stat(f).catch(() => undefined)
    if (s?.isDirectory()) {
      const found: string[] = []
      for (const name of [SPLIT_FILES.resources, SPLIT_FILES.lineage]) {
        const p = join(f, name)
        if ((await stat(p).catch(() => undefined))?.isFile()) found.push(p)
      }
      if (found.length === 0)
        throw new SecodaError('INPUT_NOT_FOUND', `directory ${f} holds neither ${SPLIT_FILES.resources} nor ${SPLIT_FILES.lineage}`, {
          file: f,
        })
      out.push(...found)
    } else out.push(f)
  }
  return out
}

/**
 * A guess at how many ids Secoda files hold (~1 per 200 bytes; see
 * {@link estimateIdsFromSize}), directories expanded.
 */
export async function estimateIds(files: readonly string[]): Promise<number | undefined> {
  return estimateIdsFromSize(await expandInputs(files).catch(() => [] as string[]), 200)
}

/** The format the first significant byte says: `{` is JSONL, anything else CSV. */
function formatOf(bytes: Buffer): SecodaFormat | undefined {
  let i = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++
  if (i < bytes.length) return bytes[i] === 0x7b ? 'jsonl' : 'csv'
  return bytes.length > 1 << 20 ? 'jsonl' : undefined
}

/**
 * Tell JSONL (`{`) from CSV (anything else) by the first bytes of a byte stream past a BOM
 * and whitespace, without consuming them. Empty input, or input of whitespace only (which is
 * consumed: it holds no record), reads as JSONL.
 */
export async function detectFormat(stream: Readable): Promise<SecodaFormat> {
  const { head } = await peekUntil(stream, (bytes) => formatOf(bytes) !== undefined)
  return formatOf(head) ?? 'jsonl'
}

/** One file (or '-') → a Readable of its records, format detected unless given. */
export async function openSecodaFile(file: string, options: ReadOptions): Promise<Readable> {
  const name = displayName(file)
  const bytes = await openSource(file, { signal: options.signal, stdin: options.stdin, onRead: options.onRead, expect: 'secoda' })
  // one listener for the stream's whole life: errors while peeking and while reading
  let failed: Error | undefined
  let reader: Readable | undefined
  bytes.on('error', (err) => {
    failed ??= err
    reader?.destroy(err)
  })
  const format = options.format === undefined || options.format === 'auto' ? await detectFormat(bytes) : options.format
  if (failed !== undefined) throw failed
  reader =
    format === 'jsonl'
      ? createJsonlReader({ report: options.report, file: name, maxLineLength: options.maxLineLength })
      : createSecodaCsvReader({ report: options.report, file: name, ids: options.ids })
  reader.once('close', () => bytes.destroy())
  return bytes.pipe(reader as NodeJS.WritableStream & Readable) as Readable
}

/** One file (or '-') → its records, as an async iterable. */
export async function* readSecodaFile(file: string, options: ReadOptions): AsyncGenerator<SecodaRecord> {
  yield* (await openSecodaFile(file, options)) as AsyncIterable<SecodaRecord>
}

/**
 * Several files (directories expanded, '-' for stdin) → one Readable of records, the files
 * read one after another. Each file's reader is piped straight into the result (no
 * per-record async hop), which matters at millions of records.
 */
export function readSecodaFiles(files: readonly string[], options: ReadOptions): Readable {
  const out = new PassThrough({ objectMode: true, highWaterMark: 256 })
  let current: Readable | undefined
  out.once('close', () => current?.destroy())
  // start reading when the consumer first asks: an open error must not fire before the
  // caller has attached its pipeline (it would be an unhandled 'error')
  const read = out._read.bind(out)
  let started = false
  out._read = (size: number): void => {
    if (!started) {
      started = true
      run()
    }
    read(size)
  }
  const run = (): void =>
    void (async () => {
      for (const f of await expandInputs(files)) {
        if (out.destroyed) return
        const reader = await openSecodaFile(f, options)
        current = reader
        await new Promise<void>((resolve, reject) => {
          reader.once('error', reject)
          reader.once('end', resolve)
          reader.pipe(out, { end: false })
        })
      }
      out.end()
    })().catch((err: unknown) => out.destroy(err as Error))
  return out
}
