// Secoda records → JSONL text. Mixed (resources and lineage in one stream: the pipe format
// between commands) or one kind only (the split files resources.jsonl / lineage.jsonl).
// Lines are batched into ~64 KiB chunks: one stream crossing per record would cost more
// than serializing it.

import { join } from 'node:path'
import { Transform, Writable, type TransformCallback } from 'node:stream'
import { createAtomicWriteStream } from '../lib/atomic-file.js'
import { type SecodaRecord, isLineage, serializeRecord } from '../lib/records.js'

/** Which records a JSONL writer keeps. */
export type JsonlKind = 'mixed' | 'resources' | 'lineage'

/** Options of {@link createJsonlWriter}. */
export interface JsonlWriterOptions {
  /** Default 'mixed'. */
  kind?: JsonlKind
  /** Flush a batch when it reaches this many bytes (default 64 Ki). */
  batchSize?: number
}

/**
 * Serialize records to JSONL lines, batching output. Lines are UTF-8-encoded into a Buffer
 * as they come, one `buf.write` each: building a 64 KiB string with `+=` and converting it
 * in one `Buffer.from` (flattening a rope of thousands of pieces, often as a two-byte string
 * because of one non-Latin-1 character) cost ~20% of a dbt CLI run's CPU, and this ~3x less.
 */
export function createJsonlWriter(options: JsonlWriterOptions = {}): Transform & { written: number } {
  const kind = options.kind ?? 'mixed'
  const batchSize = Math.max(1, options.batchSize ?? 65536)
  let buf: Buffer | undefined
  let pos = 0
  const t = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 256,
    transform(r: SecodaRecord, _enc: BufferEncoding, cb: TransformCallback) {
      if (kind !== 'mixed' && (kind === 'lineage') !== isLineage(r)) return cb()
      const line = serializeRecord(r) + '\n'
      // at most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units)
      const room = line.length * 3
      if (buf === undefined || pos + room > buf.length) {
        if (buf !== undefined && pos > 0) t.push(buf.subarray(0, pos))
        buf = Buffer.allocUnsafe(Math.max(batchSize + 4096, room))
        pos = 0
      }
      pos += buf.write(line, pos)
      t.written++
      if (pos >= batchSize) {
        const out = buf.subarray(0, pos)
        buf = undefined
        pos = 0
        cb(null, out)
      } else cb()
    },
    flush(cb: TransformCallback) {
      cb(null, buf === undefined || pos === 0 ? undefined : buf.subarray(0, pos))
    },
  }) as Transform & { written: number }
  t.written = 0
  return t
}

/** File names of the split JSONL pair. */
export const SPLIT_FILES = { resources: 'resources.jsonl', lineage: 'lineage.jsonl' } as const

/**
 * A Writable of Secoda records into `dir/resources.jsonl` and `dir/lineage.jsonl`, both
 * written atomically (temporary names, renamed only when the stream finishes without error).
 * Both files are always written, lineage.jsonl empty when there is no lineage.
 */
export function createSplitJsonlWriter(dir: string): Writable & { written: { resources: number; lineage: number } } {
  const files = {
    resources: createAtomicWriteStream(join(dir, SPLIT_FILES.resources)),
    lineage: createAtomicWriteStream(join(dir, SPLIT_FILES.lineage)),
  }
  const batches = { resources: '', lineage: '' }
  const written = { resources: 0, lineage: 0 }
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
      written[kind]++
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
  }) as Writable & { written: { resources: number; lineage: number } }
  w.written = written
  return w
}
