// Secoda records → JSONL text. Mixed (resources and lineage in one stream: the pipe format
// between commands) or one kind only (the split files resources.jsonl / lineage.jsonl).
// Lines are batched into ~64 KiB chunks: one stream crossing per record would cost more
// than serializing it.

import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createAtomicWriteStream } from '../lib/atomic-file.js'
import { type SecodaRecord, isLineage, serializeRecord } from '../lib/records.js'
import { RECORDS_TO_BYTES, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../lib/stream.js'

/** Which records a JSONL writer keeps. */
export type JsonlKind = 'mixed' | 'resources' | 'lineage'

/** Options of {@link createJsonlWriter}. */
export interface JsonlWriterOptions {
  /** Default 'mixed'. */
  kind?: JsonlKind
  /** Flush a batch when it reaches this many bytes (default 64 Ki). */
  batchSize?: number
}

/** {@link JsonlWriterOptions} with every default filled in. */
export type JsonlWriterSettings = Readonly<{ kind: JsonlKind; batchSize: number }>

/** The writer's options, normalised once: a frozen copy, defaults filled in. */
export function jsonlWriterSettings(options: JsonlWriterOptions = {}): JsonlWriterSettings {
  return Object.freeze({
    kind: options.kind ?? 'mixed',
    // 64 KiB: the default highWaterMark of a file stream, so one batch is one write
    batchSize: Math.max(1, options.batchSize ?? 65536),
  })
}

/**
 * The stream-free core (lib/stream.ts protocol): records in, JSONL bytes out in batches of
 * about `batchSize` bytes. Lines are UTF-8-encoded into a Buffer as they come, one
 * `buf.write` each: building a 64 KiB string with `+=` and converting it in one
 * `Buffer.from` (flattening a rope of thousands of pieces, often as a two-byte string
 * because of one non-Latin-1 character) cost ~20% of a dbt CLI run's CPU, and this ~3x less.
 * info.recordsOut counts the lines written (records of the other kind are skipped).
 */
export class JsonlWriter implements StageCore<SecodaRecord, Buffer> {
  readonly mode = RECORDS_TO_BYTES
  readonly info: StageInfo = stageInfo()
  readonly options: JsonlWriterSettings
  private buf: Buffer | undefined
  private pos = 0

  constructor(options: JsonlWriterOptions = {}) {
    this.options = jsonlWriterSettings(options)
  }

  push(r: SecodaRecord, emit: Emit<Buffer>): void {
    this.info.recordsIn++
    const kind = this.options.kind
    if (kind !== 'mixed' && (kind === 'lineage') !== isLineage(r)) return
    const line = serializeRecord(r) + '\n'
    // at most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units)
    const room = line.length * 3
    let buf = this.buf
    if (buf === undefined || this.pos + room > buf.length) {
      if (buf !== undefined && this.pos > 0) this.out(buf.subarray(0, this.pos), emit)
      buf = this.buf = Buffer.allocUnsafe(Math.max(this.options.batchSize + 4096, room))
      this.pos = 0
    }
    this.pos += buf.write(line, this.pos)
    this.info.recordsOut++
    if (this.pos >= this.options.batchSize) {
      const out = buf.subarray(0, this.pos)
      this.buf = undefined
      this.pos = 0
      this.out(out, emit)
    }
  }

  end(emit: Emit<Buffer>): undefined {
    if (this.buf !== undefined && this.pos > 0) this.out(this.buf.subarray(0, this.pos), emit)
    this.buf = undefined
    this.pos = 0
    return undefined
  }

  private out(b: Buffer, emit: Emit<Buffer>): void {
    this.info.bytesOut += b.length
    emit(b)
  }
}

/** A Transform from Secoda records to JSONL bytes (see {@link JsonlWriter}). */
export function createJsonlWriter(options: JsonlWriterOptions = {}): StageStream<JsonlWriter> {
  return asStream(new JsonlWriter(options))
}

/** File names of the split JSONL pair. */
export const SPLIT_FILES = { resources: 'resources.jsonl', lineage: 'lineage.jsonl' } as const

/** Counters of the split writer: records in, lines written to each file (recordsOut: both). */
export interface SplitJsonlInfo extends StageInfo {
  resources: number
  lineage: number
}

/**
 * A Writable of Secoda records into `dir/resources.jsonl` and `dir/lineage.jsonl`, both
 * written atomically (temporary names, renamed only when the stream finishes without error).
 * Both files are always written, lineage.jsonl empty when there is no lineage. A sink, not
 * a Transform: it has two outputs, so it keeps its own Writable shell, and the same `info`.
 */
export function createSplitJsonlWriter(dir: string): Writable & { readonly info: SplitJsonlInfo } {
  const files = {
    resources: createAtomicWriteStream(join(dir, SPLIT_FILES.resources)),
    lineage: createAtomicWriteStream(join(dir, SPLIT_FILES.lineage)),
  }
  const batches = { resources: '', lineage: '' }
  const info: SplitJsonlInfo = stageInfo({ resources: 0, lineage: 0 })
  const flushKind = (kind: 'resources' | 'lineage', cb: (err?: Error | null) => void): void => {
    const data = batches[kind]
    batches[kind] = ''
    if (files[kind].write(data)) cb()
    else files[kind].once('drain', () => cb())
  }
  let failed: Error | null = null
  for (const f of Object.values(files))
    f.once('error', (err) => {
      failed = err
      w.destroy(err)
    })
  const w = new Writable({
    objectMode: true,
    highWaterMark: 256,
    write(r: SecodaRecord, _enc, cb) {
      const kind = isLineage(r) ? 'lineage' : 'resources'
      batches[kind] += serializeRecord(r) + '\n'
      info.recordsIn++
      info.recordsOut++
      info[kind]++
      if (batches[kind].length >= 65536) flushKind(kind, cb)
      else cb()
    },
    final(cb) {
      let pending = 2
      const done = (): void => {
        if (--pending === 0) cb(failed)
      }
      for (const kind of ['resources', 'lineage'] as const) {
        files[kind].end(batches[kind], () => done())
        files[kind].once('error', (err) => {
          failed = err
        })
      }
    },
    destroy(err, cb) {
      const open = Object.values(files).filter((f) => !f.closed)
      let left = open.length
      if (left === 0) return cb(err)
      for (const f of open) {
        f.once('close', () => {
          if (--left === 0) cb(err)
        })
        if (!f.destroyed) f.destroy(err ?? new Error('aborted'))
      }
    },
  })
  return Object.assign(w, { info })
}
