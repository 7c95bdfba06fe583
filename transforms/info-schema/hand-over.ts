// The contract between the two paths of `columns --to csv` (docs/columns.md, "The direct
// path"): when the direct path (direct-csv.ts) stops — at a row it leaves to the record path,
// or at the end of input — it produces a {@link HandOver}, and the record path (reader →
// validator → CSV writer) is constructed from it by {@link RecordPath}. The HandOver holds all
// that those stages would know had they read the input up to there themselves: each stage
// takes its part through a documented option (`readBefore`, `checkedBefore`, `writtenBefore`)
// and nothing reaches into a stage afterwards. Also here: the stores of what the direct path
// wrote (tables, column id hashes), kept off the JS heap.

import { IdIndex, hash64, type Hash64 } from '../../lib/id-index.js'
import type { EntityType, Resource, SecodaRecord } from '../../lib/records.js'
import type { Report } from '../../lib/report.js'
import { chain, type StageCore } from '../../lib/stream.js'
import { CsvWriter, type CsvWriterInfo, type OutBuffer, type SortOrderHeader, type WrittenBefore } from '../to-csv.js'
import { Validator, type CheckedBefore, type CheckedIds, type ValidatorOptions } from '../validate.js'
import { InfoSchemaColumns, type InfoSchemaOptions, type ReadBefore } from './columns.js'

/**
 * What the direct path hands the record path: one part per stage of the record path, each
 * given to that stage's constructor.
 */
export interface HandOver {
  /** The reader's part: the header, the line the rest of the input starts on, the tables finished. */
  reader: ReadBefore
  /** The validator's part: how many records were checked, and their ids (with lines, for duplicates). */
  validator: CheckedBefore
  /** The CSV writer's part: the rows written, and the tables they belong to (for their late columns). */
  writer: WrittenBefore
}

/** Options of the record path: the converter's. */
export interface RecordPathOptions extends InfoSchemaOptions {
  /** Diagnostics and counts (the run fails through it at the end). */
  report: Report
  /** Header name of the sort column (default `col_sort_order`). */
  sortOrderHeader?: SortOrderHeader
  /** Validator options besides the report (forCsv is always on). */
  validate?: Omit<ValidatorOptions, 'report' | 'forCsv' | 'checkedBefore'>
}

/**
 * The record path of `columns --to csv`: reader → validator → CSV writer in one loop, as
 * runConversion runs them (a record the validator reports is not written), writing to `out`.
 * Without a HandOver it reads the whole input; with one, the rest of it.
 */
export class RecordPath {
  private readonly reader: InfoSchemaColumns
  /** validator → CSV writer as one core, as runConversion runs them (lib/stream.ts chain). */
  private readonly checkAndWrite: StageCore<SecodaRecord, string, CsvWriterInfo>

  constructor(
    options: RecordPathOptions,
    handOver: HandOver | undefined,
    private readonly out: OutBuffer,
  ) {
    this.reader = new InfoSchemaColumns({ ...options, readBefore: handOver?.reader })
    const validator = new Validator({ ...options.validate, report: options.report, forCsv: true, checkedBefore: handOver?.validator })
    // rows end in LF, the CsvWriter's default line end, as on the direct path
    const writer = new CsvWriter({ report: options.report, sortOrderHeader: options.sortOrderHeader, writtenBefore: handOver?.writer })
    this.checkAndWrite = chain(validator, writer)
  }

  /** The CSV writer's text goes into `out`. */
  private readonly outText = (s: string): void => this.out.text(s)
  /** A record of the reader, straight to the validator and, if it passes, the writer. */
  private readonly toValidator = (r: Resource): void => this.checkAndWrite.push(r, this.outText)

  /** Input bytes. */
  push(bytes: Uint8Array): void {
    this.reader.push(bytes, this.toValidator)
  }

  /** End of input: the rest written; throws the run's failure (VALIDATION_FAILED or a coded error). */
  end(): void {
    this.reader.end(this.toValidator)
    this.checkAndWrite.end(this.outText) // throws the run's failure before the late columns are written
    this.out.flush()
  }
}

/** Entries per chunk of an {@link IdLog}. */
const LOG_CHUNK = 1 << 16

/**
 * Id hashes with the line of each, in chunks (appending never copies what is there): what
 * the direct path wrote, for the validator of the record path.
 */
export class IdLog {
  size = 0
  private readonly chunks: { hi: Uint32Array; lo: Uint32Array; line: Uint32Array }[] = []
  private at = LOG_CHUNK

  push(h: Hash64, line: number): void {
    if (this.at === LOG_CHUNK) this.next()
    const c = this.chunks[this.chunks.length - 1]!
    c.hi[this.at] = h.hi
    c.lo[this.at] = h.lo
    c.line[this.at++] = line
    this.size++
  }

  /** Entries 0..n-1 of three parallel arrays. */
  pushAll(hi: Uint32Array, lo: Uint32Array, line: Uint32Array, n: number): void {
    for (let i = 0; i < n; ) {
      if (this.at === LOG_CHUNK) this.next()
      const c = this.chunks[this.chunks.length - 1]!
      // a table's few entries: a loop beats three subarray() views and set() calls
      const at = this.at
      const k = Math.min(n - i, LOG_CHUNK - at)
      const ch = c.hi
      const cl = c.lo
      const cn = c.line
      for (let j = 0; j < k; j++) {
        ch[at + j] = hi[i + j]!
        cl[at + j] = lo[i + j]!
        cn[at + j] = line[i + j]!
      }
      this.at = at + k
      i += k
    }
    this.size += n
  }

  /** The entries as the validator takes them ({@link CheckedIds}), as ids of `type` in `file`. */
  batches(type: EntityType, file: string | undefined): CheckedIds[] {
    return this.chunks.map((c, i) => ({ type, file, ...c, count: i === this.chunks.length - 1 ? this.at : LOG_CHUNK }))
  }

  private next(): void {
    this.chunks.push({ hi: new Uint32Array(LOG_CHUNK), lo: new Uint32Array(LOG_CHUNK), line: new Uint32Array(LOG_CHUNK) })
    this.at = 0
  }
}

/** Top bit of an id's stored length: the id is stored as UTF-16. */
const UTF16_FLAG = 0x80000000

/**
 * The tables the direct path wrote: each id and its part of the row in a byte store, found
 * by a 64-bit hash index. Off the JS heap: on a 371 MB export a Map of the strings was most
 * of the heap, which the garbage collector kept walking. The strings are read back only when
 * the record path takes over.
 */
export class WrittenTables {
  size = 0
  private readonly index = new IdIndex(1 << 12)
  private store = Buffer.allocUnsafe(1 << 16)
  private used = 0
  private readonly h: Hash64 = { hi: 0, lo: 0 }

  /**
   * Whether the id was written, by its hash: a hash shared with another id also says yes
   * (the caller then hands over to the record path, whose check is exact).
   */
  has(id: string): boolean {
    return this.index.find(hash64(id, this.h)) !== -1
  }

  /** Whether the id itself was written. */
  hasExact(id: string): boolean {
    const slot = this.index.find(hash64(id, this.h))
    return slot !== -1 && this.idAt(this.index.entryAt(slot).line) === id
  }

  /** Add a table not written before (by {@link WrittenTables.has}); returns the bytes of `fields`. */
  add(id: string, fields: string): Buffer {
    const need = 8 + 3 * (id.length + fields.length)
    if (this.used + need > this.store.length) {
      const next = Buffer.allocUnsafe(Math.max(2 * this.store.length, this.used + need))
      this.store.copy(next, 0, 0, this.used)
      this.store = next
    }
    const at = this.used
    // the id as UTF-8, or as UTF-16 (flagged in its length's top bit) when it holds a lone
    // surrogate (possible from an option), which UTF-8 would not keep; the row part as the
    // UTF-8 it is written in
    const utf16 = !(id as unknown as { isWellFormed(): boolean }).isWellFormed()
    const a = this.store.write(id, at + 8, utf16 ? 'utf16le' : 'utf8')
    const b = this.store.write(fields, at + 8 + a, 'utf8')
    this.store.writeUInt32LE(utf16 ? a + UTF16_FLAG : a, at)
    this.store.writeUInt32LE(b, at + 4)
    this.used = at + 8 + a + b
    this.index.add(hash64(id, this.h), 0, 0, at)
    this.size++
    return this.store.subarray(at + 8 + a, this.used)
  }

  /** Hashes of the ids, for the validator of the record path (tables have no line: 0). */
  idLog(): IdLog {
    const log = new IdLog()
    for (const [id] of this.entries()) log.push(hash64(id, this.h), 0)
    return log
  }

  /** Every table as [id, its part of the row], in the order written. */
  *entries(): Generator<[string, string]> {
    for (let at = 0; at < this.used; ) {
      const a = this.store.readUInt32LE(at) % UTF16_FLAG
      const b = this.store.readUInt32LE(at + 4)
      yield [this.idAt(at), this.store.toString('utf8', at + 8 + a, at + 8 + a + b)]
      at += 8 + a + b
    }
  }

  private idAt(at: number): string {
    const a = this.store.readUInt32LE(at)
    return a >= UTF16_FLAG
      ? this.store.toString('utf16le', at + 8, at + 8 + a - UTF16_FLAG)
      : this.store.toString('utf8', at + 8, at + 8 + a)
  }
}
