// Secoda records → the Secoda columns CSV: one row per column, each carrying its table's
// fields, header in the spec's order, RFC 4180 quoting (lib/csv-quote.ts). Only tables and
// columns fit this format: lineage, other entities and tables without columns are dropped
// and counted.

import { quoteCsvField } from '../lib/csv-quote.js'
import { SecodaError } from '../lib/errors.js'
import type { Report } from '../lib/report.js'
import { type Resource, type SecodaRecord, isLineage, recordSource } from '../lib/records.js'
import {
  BYTES_TO_BYTES,
  RECORDS_TO_BYTES,
  type Emit,
  type StageCore,
  type StageInfo,
  type StageStream,
  asStream,
  chain,
  stageInfo,
} from '../lib/stream.js'

/** Header name of the sort column: the spec's docs disagree, the default is `col_sort_order`. */
export type SortOrderHeader = 'col_sort_order' | 'sort_order'

/** The CSV header in the spec's order. */
export function csvHeader(sortOrderHeader: SortOrderHeader = 'col_sort_order'): string[] {
  return [
    'col_name',
    'col_description',
    'col_type',
    sortOrderHeader,
    'database',
    'schema',
    'name',
    'description',
    'is_view',
    'last_updated_time',
  ]
}

/** Options of {@link createCsvWriter}. */
export interface CsvWriterOptions {
  /** Warnings about dropped records go here; without one they are only counted. */
  report?: Report
  /** Default `col_sort_order`. */
  sortOrderHeader?: SortOrderHeader
  /** Line ending (default '\n'). */
  eol?: string
  /**
   * Rows another stage wrote before this writer takes the rest of the records: the header
   * is not written again, the count of rows written (`info.recordsOut`) goes on from theirs, and columns of their
   * tables that come later are written with those tables' fields. The direct path of
   * transforms/info-schema/direct-csv.ts hands over this way (transforms/info-schema/hand-over.ts).
   */
  writtenBefore?: WrittenBefore
}

/** Rows written before a CSV writer starts: see {@link CsvWriterOptions.writtenBefore}. */
export interface WrittenBefore {
  /** Column rows written, after the header (none: the header is not written either). */
  rows: number
  /** The tables whose rows were written: id → the table's part of the row ({@link tableFields}). */
  tables: Iterable<[string, string]>
}

/** {@link CsvWriterOptions} with every default filled in. */
export type CsvWriterSettings = Readonly<{
  report: Report | undefined
  sortOrderHeader: SortOrderHeader
  eol: string
  writtenBefore: WrittenBefore | undefined
}>

/** The writer's options, normalised once: a frozen copy, defaults filled in. */
export function csvWriterSettings(options: CsvWriterOptions = {}): CsvWriterSettings {
  return Object.freeze({
    report: options.report,
    // the header Secoda's CSV upload docs show first; `sort_order` is the other spelling
    sortOrderHeader: options.sortOrderHeader ?? 'col_sort_order',
    // RFC 4180 says CRLF; Secoda's examples and every consumer here take LF
    eol: options.eol ?? '\n',
    // none: this writer writes the header and every row itself
    writtenBefore: options.writtenBefore,
  })
}

/** True when a native_type means a view (view, materialized view, ...). */
export function isViewType(nativeType: string | undefined): boolean | undefined {
  if (nativeType === undefined) return undefined
  return /view/i.test(nativeType)
}

/** A table's part of each of its column rows: database to last_updated_time, quoted. */
export function tableFields(r: Resource): string {
  const view = isViewType(r.native_type)
  const epoch = r.external_updated_at === undefined ? NaN : Math.floor(Date.parse(r.external_updated_at) / 1000)
  return (
    quoteCsvField(r.database ?? '') +
    ',' +
    quoteCsvField(r.schema ?? '') +
    ',' +
    quoteCsvField(r.title ?? lastPart(r.databuilder_id)) +
    ',' +
    quoteCsvField(r.description ?? '') +
    ',' +
    (view === undefined ? '' : String(view)) +
    ',' +
    (Number.isNaN(epoch) ? '' : String(epoch))
  )
}

/** The last name in a dotted id (used when a table has no title). */
function lastPart(id: string): string {
  const i = id.lastIndexOf('.')
  return i === -1 ? id : id.slice(i + 1)
}

/** Counts of what the CSV writer dropped. */
export interface CsvDropped {
  lineage: number
  entities: number
  emptyTables: number
  nestedColumns: number
}

/** Counters of the CSV writer: records in, rows written (recordsOut), what was dropped. */
export interface CsvWriterInfo extends StageInfo {
  dropped: CsvDropped
}

/**
 * The stream-free core (lib/stream.ts protocol): {@link CsvWriter.push} per record emits
 * the CSV text it completes (the header first; a column waits for its table),
 * {@link CsvWriter.end} emits the rest. Text, not bytes: {@link createCsvWriter} encodes it
 * into large Buffers ({@link TextEncoderStage}); the uploader adds it to its request body.
 */
export class CsvWriter implements StageCore<SecodaRecord, string, CsvWriterInfo> {
  readonly mode = RECORDS_TO_BYTES
  readonly info: CsvWriterInfo = stageInfo({ dropped: { lineage: 0, entities: 0, emptyTables: 0, nestedColumns: 0 } })
  readonly options: CsvWriterSettings
  private readonly eol: string
  private readonly header: string
  private readonly report: Report | undefined
  /** table id → the table part of its rows, and whether a column was written. */
  private readonly tables = new Map<string, { fields: string; used: boolean }>()
  /** columns whose table has not arrived yet, by table id. */
  private readonly waiting = new Map<string, Resource[]>()
  private started = false
  /** The table the last column row used (see write). */
  private lastId = ''
  private lastTable: { fields: string; used: boolean } | undefined

  constructor(options: CsvWriterOptions = {}) {
    this.options = csvWriterSettings(options)
    this.eol = this.options.eol
    this.header = csvHeader(this.options.sortOrderHeader).join(',') + this.eol
    this.report = this.options.report
    const before = this.options.writtenBefore
    if (before !== undefined) {
      for (const [id, fields] of before.tables) this.tables.set(id, { fields, used: true })
      this.info.recordsOut = before.rows
      this.started = before.rows > 0
    }
  }

  /** One record: emits its row, or the rows of columns that waited for it (a table). */
  push(r: SecodaRecord, emit: Emit<string>): void {
    this.info.recordsIn++
    if (!this.started) emit(this.start())
    if (isLineage(r)) {
      this.info.dropped.lineage++
      return
    }
    if (r.entity_type === 'table') {
      const rows = this.writeTable(r)
      if (rows !== '') emit(rows)
      return
    }
    if (r.entity_type === 'column') {
      const parent = r.parent_databuilder_id ?? ''
      // a table's columns come one after another: its entry is looked up once for them all
      if (parent === this.lastId && this.lastTable !== undefined) return emit(this.row(r, this.lastTable))
      const table = this.tables.get(parent)
      if (table !== undefined) {
        this.lastId = parent
        this.lastTable = table
        return emit(this.row(r, table))
      }
      let list = this.waiting.get(parent)
      if (list === undefined) this.waiting.set(parent, (list = []))
      list.push(r)
      return
    }
    this.info.dropped.entities++
  }

  /**
   * A table record: its part of the row is kept for its columns; returns the rows of columns
   * that waited for it. (A caller other than {@link CsvWriter.push} calls start() first.)
   */
  writeTable(r: Resource): string {
    const table = { fields: tableFields(r), used: false }
    this.tables.set(r.databuilder_id, table)
    if (r.databuilder_id === this.lastId) this.lastTable = table // a table given twice: the later one counts
    let out = ''
    const cols = this.waiting.get(r.databuilder_id)
    if (cols !== undefined) {
      this.waiting.delete(r.databuilder_id)
      for (const c of cols) out += this.row(c, table)
    }
    return out
  }

  /** The header line, when nothing was written yet (then it counts as written). */
  start(): string {
    if (this.started) return ''
    this.started = true
    return this.header
  }

  private row(c: Resource, table: { fields: string; used: boolean }): string {
    table.used = true
    this.info.recordsOut++
    return (
      quoteCsvField(c.title ?? lastPart(c.databuilder_id)) +
      ',' +
      quoteCsvField(c.description ?? '') +
      ',' +
      quoteCsvField(c.type ?? '') +
      ',' +
      (c.sort_order === undefined ? '' : String(c.sort_order)) +
      ',' +
      table.fields +
      this.eol
    )
  }

  /** Finish: columns whose table never came are errors (or nested columns: dropped). */
  end(emit: Emit<string>): undefined {
    if (!this.started) emit(this.start())
    const dropped = this.info.dropped
    for (const [parent, cols] of this.waiting) {
      if (this.isColumnId(parent)) {
        dropped.nestedColumns += cols.length
        continue
      }
      const c = cols[0]!
      const src = recordSource(c)
      throw new SecodaError(
        'CSV_NO_PARENT',
        `column ${JSON.stringify(c.databuilder_id)} cannot be written to CSV: its table ${JSON.stringify(parent)} is not in the input`,
        { file: src?.file, line: src?.line, databuilderId: c.databuilder_id },
      )
    }
    for (const t of this.tables.values()) if (!t.used) dropped.emptyTables++
    const d = dropped
    const parts = [
      d.lineage ? `${d.lineage} lineage edge${d.lineage === 1 ? '' : 's'}` : '',
      d.entities ? `${d.entities} resource${d.entities === 1 ? '' : 's'} other than tables and columns` : '',
      d.emptyTables ? `${d.emptyTables} table${d.emptyTables === 1 ? '' : 's'} without columns` : '',
      d.nestedColumns ? `${d.nestedColumns} nested column${d.nestedColumns === 1 ? '' : 's'}` : '',
    ].filter(Boolean)
    if (parts.length > 0 && this.report !== undefined) {
      this.report.warn(
        'CSV_DROPPED',
        `the CSV format carries only tables and their columns: dropped ${parts.join(', ')} (write JSONL to keep them)`,
      )
    }
    return undefined
  }

  /** A waiting parent that was itself seen as a column's parent chain is a nested column. */
  private isColumnId(id: string): boolean {
    for (const cols of this.waiting.values()) for (const c of cols) if (c.databuilder_id === id) return true
    for (const t of this.tables.keys()) if (id.startsWith(t + '.')) return true
    return false
  }
}

/** Size of the output Buffers the CSV Transform fills (one is pushed when full). */
const OUT_BUFFER_BYTES = 256 * 1024

/**
 * Output bytes gathered into large Buffers, each handed to `push` when full: text is
 * gathered into a string of a few KiB and encoded with one call (cheaper than one per row),
 * and a caller that has bytes already can copy them in after {@link OutBuffer.room}.
 */
export class OutBuffer {
  buf = Buffer.allocUnsafe(OUT_BUFFER_BYTES)
  used = 0
  private pending = ''

  constructor(private readonly push: (b: Buffer) => void) {}

  /** Add text. */
  text(s: string): void {
    this.pending += s
    if (this.pending.length >= 8192) this.encode()
  }

  /** Make room for `n` more bytes at `used` in `buf` (text added before is encoded first). */
  room(n: number): void {
    if (this.pending.length > 0) this.encode()
    if (this.used + n > this.buf.length) this.next(n)
  }

  /** Hand over everything added so far. */
  flush(): void {
    this.encode()
    if (this.used > 0) {
      this.push(this.buf.subarray(0, this.used))
      this.buf = Buffer.allocUnsafe(OUT_BUFFER_BYTES)
      this.used = 0
    }
  }

  private next(n: number): void {
    if (this.used > 0) this.push(this.buf.subarray(0, this.used))
    this.buf = Buffer.allocUnsafe(Math.max(OUT_BUFFER_BYTES, n))
    this.used = 0
  }

  private encode(): void {
    const s = this.pending
    if (s.length === 0) return
    this.pending = ''
    // a UTF-16 code unit takes at most 3 UTF-8 bytes
    if (this.used + s.length * 3 > this.buf.length) {
      if (s.length * 3 > OUT_BUFFER_BYTES) {
        if (this.used > 0) this.next(0)
        this.push(Buffer.from(s, 'utf8'))
        return
      }
      this.next(s.length * 3)
    }
    this.used += this.buf.write(s, this.used, 'utf8')
  }
}

/**
 * Text → UTF-8 bytes in Buffers of ~256 KiB (an {@link OutBuffer} as a stage core), so a
 * text-emitting core goes into a byte stream without one stream chunk per row. Counts the
 * bytes it emits in `info.bytesOut` (by default its own info; the CSV writer passes its).
 */
export class TextEncoderStage implements StageCore<string, Buffer> {
  readonly mode = BYTES_TO_BYTES
  private emit: Emit<Buffer> = () => {}
  private readonly out = new OutBuffer((b) => {
    this.info.bytesOut += b.length
    this.emit(b)
  })

  constructor(readonly info: StageInfo = stageInfo()) {}

  push(text: string, emit: Emit<Buffer>): void {
    this.emit = emit
    this.out.text(text)
  }

  end(emit: Emit<Buffer>): undefined {
    this.emit = emit
    this.out.flush()
    return undefined
  }
}

/**
 * The CSV writer core followed by the text encoder: records in, Secoda CSV bytes out, one
 * info (the writer's, with bytesOut). Put another record core in front (`chain(validator,
 * csvWriterCore(...))`) to share the stage.
 */
export function csvWriterCore(options: CsvWriterOptions = {}): StageCore<SecodaRecord, Buffer, CsvWriterInfo> & { writer: CsvWriter } {
  const writer = new CsvWriter(options)
  return Object.assign(chain(writer, new TextEncoderStage(writer.info), writer.info), { writer })
}

/**
 * A Transform from Secoda records to Secoda CSV bytes. Rows are encoded straight into large
 * Buffers (pushed when full) rather than batched into a string that the stream would encode
 * again.
 */
export function createCsvWriter(options: CsvWriterOptions = {}): StageStream<StageCore<SecodaRecord, Buffer, CsvWriterInfo>> {
  return asStream(csvWriterCore(options))
}
