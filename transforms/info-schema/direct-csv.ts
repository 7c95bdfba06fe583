// information_schema.columns CSV → the Secoda columns CSV, bytes to bytes: the output and
// the diagnostics of reader → validator → CSV writer (transforms/info-schema/columns.ts,
// validate.ts, to-csv.ts), without a string per field or a record per column. The record
// path's stages cost more per row than the whole Python script the project measures against
// (≥ 2× its speed is the target); see docs/columns.md, "The direct path".
//
// How: rows are split on the input's bytes and grouped by table. A table is checked as a
// whole once its last row is in (a row of another table, or the end): names present and
// without periods, ordinals valid and ascending, no column twice (by the 64-bit id hash the
// validator uses). A table that passes is written: its part of each row as the CSV writer
// makes it from the reader's table record, and the column rows copied out of the input
// bytes (quoted where the CSV rules need it). Anything else — a problem of any kind, a table
// seen again (input not sorted by table), a bare CR, an empty line, invalid UTF-8 — hands
// the rest of the input, from the first row of the open table on, to the record path:
// reader, validator and CSV writer are constructed from a HandOver (hand-over.ts) that holds
// the state the direct path reached (the tables written, their ids and their columns' ids,
// the line), so they report what they would have reported on the whole input and write the
// same bytes. The mapping rules themselves (roles, types, ordinals, names) are those of
// rules.ts, which the record path's reader uses too. Equal bytes and the same diagnostics on
// both paths are what test/columns-direct-csv.test.ts checks.

import { isUtf8 } from 'node:buffer'
import { forcesQuotes, quoteCsvField, writeQuotedBytes } from '../../lib/csv-quote.js'
import { Hash64Prefix, type Hash64 } from '../../lib/id-index.js'
import { createIdBuilder, isPlainIdPart, type IdBuilder } from '../../lib/ids.js'
import type { Report } from '../../lib/report.js'
import { parseCsv } from '../../lib/scan/csv.js'
import { BYTES_TO_BYTES, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../../lib/stream.js'
import { TextToUtf8, incompleteTail } from '../../lib/utf8.js'
import { OutBuffer, csvHeader, tableFields } from '../to-csv.js'
import { type HandOver, IdLog, RecordPath, type RecordPathOptions, WrittenTables } from './hand-over.js'
import {
  type ColumnRole,
  csvNameOk,
  isColumnsLayout,
  ordinalOfBytes,
  resolveColumnsLayout,
  resolveNames,
  tableRecord,
  typeOf,
} from './rules.js'

/** Options of the direct converter (those of the record path it hands over to). */
export interface InfoSchemaCsvOptions extends RecordPathOptions {}

const QUOTE = 0x22
const LF = 0x0a
const CR = 0x0d
const COMMA = 0x2c
const PERIOD = 0x2e

// Byte classes for the field loops (CLASS_PLAIN bytes need no attention).
const CLASS_PLAIN = 0
const CLASS_DELIM = 1
const CLASS_LF = 2
const CLASS_CR = 3
/** A byte other than a line end that forces quotes in the output (lib/csv-quote.ts): a quote, a comma. */
const CLASS_SPECIAL = 4
const CLASS_HIGH = 5

// The header roles the direct path reads, as slots of a row's field table.
const CAT = 0
const SCH = 1
const TAB = 2
const COL = 3
const ORD = 4
const CTYPE = 5
const DTYPE = 6
const UDT = 7
const CLEN = 8
const PREC = 9
const SCALE = 10
const COMMENT = 11
const SLOTS = 12
/** The slots a column type is made of when there is no column_type. */
const TYPE_SLOTS = [DTYPE, UDT, CLEN, PREC, SCALE] as const
const SLOT_ROLES: readonly ColumnRole[] = [
  'catalog',
  'schema',
  'table',
  'column',
  'ordinal',
  'columnType',
  'dataType',
  'udtName',
  'charLength',
  'precision',
  'scale',
  'comment',
]

// Field flags.
const QUOTED = 1
/** The value holds a quote, comma, CR or LF (it is quoted in the output). */
const SPECIAL = 2
/** The value holds bytes ≥ 0x80. */
const HIGH = 4
/** The field is absent from the header. */
const ABSENT = 8

/** The header line is looked for in this many bytes; beyond, the record path decides. */
const MAX_HEADER_BYTES = 64 * 1024
/**
 * Bytes held for one table (its rows are kept until the table is complete): beyond this the
 * record path takes over, whose scanner limits a row's length (an unclosed quote would
 * otherwise hold the rest of the input in memory).
 */
const MAX_TABLE_BYTES = 16 * 1024 * 1024

/** A table's names as the reader resolves them, and its id. */
interface TableKey {
  id: string
  database: string
  schema: string
  name: string
}

/** Counters of the direct converter (lib/stream.ts `info`). */
export interface InfoSchemaCsvInfo extends StageInfo {
  /** Rows written by the direct path (the record path's are not counted here). */
  directRows: number
  /** Line where the record path took over (0: it did not). */
  handoffLine: number
}

/**
 * The stream-free core (lib/stream.ts protocol): {@link InfoSchemaCsv.push} input bytes,
 * {@link InfoSchemaCsv.end} at the end; output bytes go to `emit`. end() throws the run's
 * failure (VALIDATION_FAILED, or the coded error the record path throws).
 */
export class InfoSchemaCsv implements StageCore<Uint8Array | string, Buffer, InfoSchemaCsvInfo> {
  readonly mode = BYTES_TO_BYTES
  /** Counters (bytes in and out, and where the record path took over). */
  readonly info: InfoSchemaCsvInfo = stageInfo({ directRows: 0, handoffLine: 0 })
  /** Where output goes: the emit of the current push or end call. */
  private emit: Emit<Buffer> = () => {}
  private readonly opts: Readonly<InfoSchemaCsvOptions>
  private readonly report: Report
  private readonly ids: IdBuilder
  private readonly fold: boolean
  private readonly out: OutBuffer
  /** The CSV header line, written before the first table. */
  private readonly headerLine: string
  /** Which path reads the input now: the header is read first, then direct, then maybe records. */
  private path: 'head' | 'direct' | 'records' = 'head'
  /** The record path, once the direct path has handed over (path `records`). */
  private records: RecordPath | undefined
  private readonly delim: number
  private readonly cls = new Uint8Array(256)
  private header: string[] = []
  private width = 0
  /** Header field index → slot (-1: not read). */
  private slotOf = new Int8Array(0)
  private layoutMysql = false
  private layoutSchema = -1
  private readonly absent = new Uint8Array(SLOTS)

  /** Input bytes; `len` of them are filled. The open table's first row starts at tableStart. */
  private buf = Buffer.alloc(0)
  private len = 0
  private tableStart = 0
  /** Where the next row starts in buf, and its line. */
  private scan = 0
  private line = 1
  /** Bytes of buf checked to be UTF-8. */
  private checked = 0
  /** Text chunks to bytes (as CsvScanner takes them). */
  private readonly textIn = new TextToUtf8()
  /** A UTF-8 BOM was looked for. */
  private bomDone = false
  /** Offsets in buf where the input's chunks begin (see toRecords). */
  private cuts: number[] = []
  /** The LF at the end of buf was added for a last row without one. */
  private addedLf = false
  /** Do not scan before buf holds this many bytes (see run). */
  private rescanAt = 0

  // The open table: its rows' field bounds and flags (SLOTS entries per row) and lines.
  private rows = 0
  private starts: Int32Array = new Int32Array(SLOTS * 64)
  private ends: Int32Array = new Int32Array(SLOTS * 64)
  private flags: Uint8Array = new Uint8Array(SLOTS * 64)
  private rowLines: Uint32Array = new Uint32Array(64)
  /** Bytes of each row (for the output room a row may need). */
  private rowBytes: Int32Array = new Int32Array(64)
  /** The open table's names and id. */
  private table: TableKey = { id: '', database: '', schema: '', name: '' }

  /**
   * The tables written: id → their part of the row. The record path is given them when it
   * takes over (as its reader's finished tables, its writer's tables, its validator's ids).
   */
  private readonly done = new WrittenTables()
  /** Hashes and lines of the column ids written (handed to the validator at a takeover). */
  private readonly log = new IdLog()
  /** The open table's column id hashes and ordinals (see writeTable). */
  private tableHi: Uint32Array = new Uint32Array(64)
  private tableLo: Uint32Array = new Uint32Array(64)
  private tableOrdinals: Uint32Array = new Uint32Array(64)
  private readonly h: Hash64 = { hi: 0, lo: 0 }
  /** Column types made of data_type etc., by a hash of those fields' bytes (see type()). */
  private readonly types = new Map<number, { key: Buffer; out: Buffer }[]>()
  private typesHeld = 0
  private typeBytes = 0
  /** A table's column hashes by their low lane, for tables too wide for a linear search. */
  private readonly wide = new Set<number>()

  constructor(options: InfoSchemaCsvOptions) {
    this.opts = Object.freeze({ ...options })
    this.report = options.report
    this.ids = options.ids ?? createIdBuilder()
    this.fold = !this.ids.options.keepCase
    this.out = new OutBuffer((b) => {
      this.info.bytesOut += b.length
      this.emit(b)
    })
    // rows end in LF, the CsvWriter's default line end
    this.headerLine = csvHeader(options.sortOrderHeader).join(',') + '\n'
    const d = options.delimiter ?? ','
    this.delim = d.length === 1 ? d.charCodeAt(0) : -1
    const cls = this.cls
    for (let c = 0; c < 256; c++) cls[c] = c >= 0x80 ? CLASS_HIGH : forcesQuotes(c) ? CLASS_SPECIAL : CLASS_PLAIN
    cls[LF] = CLASS_LF
    cls[CR] = CLASS_CR
    if (this.delim >= 0 && this.delim < 0x80) cls[this.delim] = CLASS_DELIM
  }

  /** Feed input bytes (text is encoded as UTF-8). */
  push(chunk: Uint8Array | string, emit: Emit<Buffer>): void {
    this.emit = emit
    const bytes = typeof chunk === 'string' ? this.textIn.push(chunk) : chunk
    this.info.bytesIn += bytes.length
    if (this.path === 'records') return this.records!.push(bytes)
    this.append(bytes)
    if (this.path === 'head' && !this.readHeader(false)) return
    if (this.path === 'direct') this.run(false)
  }

  /** End of input: writes the rest; throws the run's failure. */
  end(emit: Emit<Buffer>): undefined {
    this.emit = emit
    if (this.path === 'head') this.readHeader(true)
    if (this.path === 'direct') this.run(true)
    // All input read on the direct path: the record path, with nothing left to read, finishes
    // the run (tables the tables export lists without column rows, the end checks, the
    // writer's summary).
    if (this.path === 'direct') this.records = new RecordPath(this.opts, this.handOverAt(this.line, false), this.out)
    this.records!.end()
    return undefined
  }

  /** Append input bytes to buf, dropping what lies before the open table's first row. */
  private append(bytes: Uint8Array): void {
    if (this.len + bytes.length > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(2 * (this.len + bytes.length), 128 * 1024))
      this.buf.copy(next, 0, 0, this.len)
      this.buf = next
    }
    this.buf.set(bytes, this.len)
    this.cuts.push(this.len)
    this.len += bytes.length
  }

  /** Move the bytes from `from` on to the front of buf (row bounds follow). */
  private compact(from: number): void {
    if (from === 0) return
    this.buf.copy(this.buf, 0, from, this.len)
    this.len -= from
    this.scan -= from
    this.tableStart -= from
    this.checked = Math.max(0, this.checked - from)
    this.rescanAt = Math.max(0, this.rescanAt - from)
    let k = 0
    for (const at of this.cuts) if (at > from) this.cuts[k++] = at - from
    this.cuts.length = k
    const n = this.rows * SLOTS
    for (let i = 0; i < n; i++) {
      this.starts[i]! -= from
      this.ends[i]! -= from
    }
  }

  /**
   * Read the header line when it is complete: the direct path takes the input when the
   * header is one line of ASCII CSV that names table_name and column_name; else the record
   * path reads all of it. Returns whether the header was decided.
   */
  private readHeader(atEnd: boolean): boolean {
    const b = this.buf
    let from = 0
    if (!this.bomDone && (this.len >= 3 || atEnd)) {
      this.bomDone = true
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) from = 3
    }
    if (!this.bomDone) return false
    const nl = b.subarray(0, this.len).indexOf(LF, from)
    if (nl === -1) {
      if (this.len < MAX_HEADER_BYTES && !atEnd) return false
      this.toRecords(0, 1, false)
      return true
    }
    // a CR LF line end: the CR is not part of the header
    const end = nl > from && b[nl - 1] === CR ? nl - 1 : nl
    let plain = this.delim >= 0 && this.delim < 0x80 && this.opts.format !== 'mysql-batch'
    for (let i = from; i < end && plain; i++) {
      const c = b[i]!
      if (c === CR || c >= 0x80) plain = false
    }
    const text = b.toString('latin1', from, end)
    // `auto`: a header with tabs and no commas is `mysql --batch` text (as RowSource decides)
    if (this.opts.format !== 'csv' && text.includes('\t') && !text.includes(',')) plain = false
    // read as the record path reads it (quoted names too); a quote left open at the line end
    // (a name with a line break) is the record path's
    let header: string[] = []
    if (plain) {
      try {
        const rows = parseCsv(text, { delimiter: String.fromCharCode(this.delim) })
        if (rows.length === 1) header = rows[0]!.fields
        else plain = false
      } catch {
        plain = false
      }
    }
    const layout = resolveColumnsLayout(header)
    if (!plain || !isColumnsLayout(layout)) {
      this.toRecords(0, 1, false)
      return true
    }
    this.header = header
    this.width = header.length
    this.slotOf = new Int8Array(this.width).fill(-1)
    for (let s = 0; s < SLOTS; s++) {
      const at = layout[SLOT_ROLES[s]!]
      if (at === -1) this.absent[s] = ABSENT
      else this.slotOf[at] = s
    }
    this.layoutMysql = layout.mysql
    this.layoutSchema = layout.schema
    this.markAbsent(0)
    this.path = 'direct'
    this.scan = this.tableStart = nl + 1
    this.line = 2
    this.compact(this.scan)
    return true
  }

  /**
   * What the record path is constructed from when it takes the input from `line` on (see
   * hand-over.ts): the tables and column ids written. `more` is false when no input is left,
   * so no later record can repeat or name their ids: they are then only counted.
   */
  private handOverAt(line: number, more: boolean): HandOver {
    const done = this.done
    const file = this.opts.file
    return {
      reader: { header: this.header, line, finished: { has: (id) => done.hasExact(id) } },
      validator: {
        count: done.size + this.log.size,
        ids: more ? [...done.idLog().batches('table', file), ...this.log.batches('column', file)] : [],
      },
      writer: { rows: this.info.directRows, tables: more ? done.entries() : [] },
    }
  }

  /**
   * The record path takes the rest of the input from buf[from] (line `line`) on, or all of
   * it when `resume` is false, constructed from what the direct path did.
   */
  private toRecords(from: number, line: number, resume: boolean): void {
    this.info.handoffLine = line
    const records = new RecordPath(this.opts, resume ? this.handOverAt(line, true) : undefined, this.out)
    this.records = records
    this.path = 'records'
    // The reader gets the bytes cut where the input's chunks were cut: a row that ends in CR
    // ends with its chunk on the record path, as it would have on the whole input. (Row errors
    // and an invalid UTF-8 byte may come in another order than on the whole input, where the
    // scanner checks UTF-8 a window at a time: the same diagnostics, docs/columns.md.) A last LF
    // the direct path added itself is not passed on.
    const end = this.len - (this.addedLf ? 1 : 0)
    const buf = this.buf
    const cuts = this.cuts
    this.buf = Buffer.alloc(0)
    this.len = 0
    this.rows = 0
    this.cuts = []
    let at = from
    for (const cut of cuts) {
      if (cut <= at || cut >= end) continue
      records.push(buf.subarray(at, cut))
      at = cut
    }
    if (end > at) records.push(buf.subarray(at, end))
  }

  /** Hand over from the open table's first row on (or the next row, when no table is open). */
  private handOver(): void {
    if (this.rows > 0) this.toRecords(this.tableStart, this.rowLines[0]!, true)
    else this.toRecords(this.scan, this.line, true)
  }

  /** Split the complete rows in buf, writing each table once its rows are all in. */
  private run(atEnd: boolean): void {
    if (atEnd) {
      // input that ends inside a UTF-8 character: the record path reports it
      if (incompleteTail(this.buf.subarray(this.checked, this.len)) > 0) return this.handOver()
      if (this.len > this.scan && this.buf[this.len - 1] !== LF) {
        // a last row without a line end
        this.append(Buffer.of(LF))
        this.cuts.pop()
        this.addedLf = true
      }
    } else if (this.len < this.rescanAt) return // a long row still incomplete: wait for more of it
    // rows end at an LF, which never lies inside a UTF-8 character: the bytes before a split
    // character at the end are whole, and are checked once
    const whole = this.len - incompleteTail(this.buf.subarray(this.checked, this.len))
    if (whole > this.checked) {
      if (!isUtf8(this.buf.subarray(this.checked, whole))) return this.handOver()
      this.checked = whole
    }
    const b = this.buf
    const n = this.checked
    const cls = this.cls
    const slotOf = this.slotOf
    const W = this.width
    let p = this.scan
    while (p < n) {
      const first = b[p]!
      if (first === LF || first === CR) return this.handOver() // an empty line
      const r = this.rows
      if ((r + 1) * SLOTS > this.starts.length) this.growRows()
      const base = r * SLOTS
      const starts = this.starts
      const ends = this.ends
      const flags = this.flags
      let lines = 0
      let k = 0
      let q = p
      let complete = false
      for (;;) {
        let c = b[q]!
        const fs = q
        let f = 0
        if (c === QUOTE) {
          f = QUOTED
          q++
          for (;;) {
            if (q >= n) break
            c = b[q]!
            const t = cls[c]!
            if (t === CLASS_PLAIN) {
              q++
              continue
            }
            if (c === QUOTE) {
              if (q + 1 >= n) {
                q = n
                break
              }
              if (b[q + 1] === QUOTE) {
                f |= SPECIAL
                q += 2
                continue
              }
              q++
              break
            }
            if (t === CLASS_HIGH) f |= HIGH
            else if (t === CLASS_LF) {
              f |= SPECIAL
              lines++
            } else if (forcesQuotes(c)) f |= SPECIAL // (the delimiter, when not a comma, needs no quotes)
            q++
          }
          if (q >= n) break // the row is not complete yet
          c = b[q]!
          if (c !== this.delim && c !== LF && c !== CR) return this.handOver() // text after the closing quote
        } else {
          for (;;) {
            const t = cls[c]!
            if (t !== CLASS_PLAIN) {
              if (t <= CLASS_CR) break // the delimiter or a line end
              f |= t === CLASS_SPECIAL ? SPECIAL : HIGH
            }
            if (++q >= n) break
            c = b[q]!
          }
          if (q >= n) break
        }
        const fe = q
        if (c === CR) {
          // CR LF ends the row (a bare CR, too, for the record path: the direct path hands it over)
          if (q + 1 >= n) break
          if (b[q + 1] !== LF) return this.handOver()
          c = LF
          q++
        }
        const slot = k < W ? slotOf[k]! : -1
        if (slot >= 0) {
          starts[base + slot] = fs
          ends[base + slot] = fe
          flags[base + slot] = f
        }
        k++
        if (c === LF) {
          complete = true
          break
        }
        q++
        if (q >= n) break
      }
      if (!complete) break
      if (k !== W) return this.handOver() // a field count the header does not have
      this.rowLines[r] = this.line
      this.rowBytes[r] = q + 1 - p
      if (r === 0 || !this.sameTable(base)) {
        const key = this.tableKey(base)
        if (key === undefined) return this.handOver()
        if (r === 0 || key.id !== this.table.id) {
          if (this.done.has(key.id)) return this.handOver() // not sorted by table
          if (r > 0) {
            // a row of another table: the open table is complete
            this.rows = r
            if (!this.writeTable()) return this.handOver()
            this.moveRow(base)
            this.tableStart = p
          }
          this.table = key
        }
      }
      this.rows++
      this.line += lines + 1
      p = q + 1
    }
    this.scan = p
    // an incomplete row is scanned again once it has doubled, not on every chunk
    this.rescanAt = p < n ? n + (n - p) : 0
    // still incomplete at the end: a quoted field never closed (the record path reports it)
    if (atEnd && p < this.len) return this.handOver()
    if (this.len - this.tableStart > MAX_TABLE_BYTES) return this.handOver()
    if (atEnd && this.rows > 0) {
      if (!this.writeTable()) return this.handOver()
      this.rows = 0
      this.tableStart = p
    }
    this.compact(this.tableStart)
  }

  private growRows(): void {
    const grow = <T extends Int32Array | Uint8Array | Uint32Array>(a: T): T => {
      const next = new (a.constructor as new (n: number) => T)(a.length * 2)
      next.set(a)
      return next
    }
    const had = this.flags.length
    this.starts = grow(this.starts)
    this.ends = grow(this.ends)
    this.flags = grow(this.flags)
    this.rowLines = grow(this.rowLines)
    this.rowBytes = grow(this.rowBytes)
    this.markAbsent(had)
  }

  /** Slots of columns the header lacks are ABSENT in every row from `from` on (they are never written). */
  private markAbsent(from: number): void {
    for (let i = from; i < this.flags.length; i += SLOTS) {
      for (let s = 0; s < SLOTS; s++) if (this.absent[s] !== 0) this.flags[i + s] = ABSENT
    }
  }

  /** Row `base / SLOTS` becomes row 0 (the first of a new table). */
  private moveRow(base: number): void {
    this.starts.copyWithin(0, base, base + SLOTS)
    this.ends.copyWithin(0, base, base + SLOTS)
    this.flags.copyWithin(0, base, base + SLOTS)
    this.rowLines[0] = this.rowLines[base / SLOTS]!
    this.rowBytes[0] = this.rowBytes[base / SLOTS]!
    this.rows = 0
  }

  /** Whether the row at `base` has the same catalog, schema and table bytes as row 0. */
  private sameTable(base: number): boolean {
    return this.sameField(base, CAT) && this.sameField(base, TAB) && this.sameField(base, SCH)
  }

  private sameField(base: number, slot: number): boolean {
    const f = this.flags[slot]!
    if (f === ABSENT) return true
    const a = this.starts[slot]!
    const n = this.ends[slot]! - a
    const b = this.starts[base + slot]!
    if (this.ends[base + slot]! - b !== n || this.flags[base + slot] !== f) return false
    const buf = this.buf
    for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false
    return true
  }

  /** A field's value as text ('' when absent). */
  private text(base: number, slot: number): string {
    const f = this.flags[base + slot]!
    if (f === ABSENT) return ''
    let a = this.starts[base + slot]!
    let e = this.ends[base + slot]!
    if (f & QUOTED) {
      a++
      e--
    }
    const v = this.buf.toString(f & HIGH ? 'utf8' : 'latin1', a, e)
    return f & QUOTED && f & SPECIAL ? v.replaceAll('""', '"') : v
  }

  /** The field's value, undefined when the header has no such column (as the reader passes it). */
  private optional(base: number, slot: number): string | undefined {
    return this.flags[base + slot] === ABSENT ? undefined : this.text(base, slot)
  }

  /** The table of the row at `base`: its names and id, or undefined where the reader would report a problem. */
  private tableKey(base: number): TableKey | undefined {
    const name = this.text(base, TAB)
    if (name === '' || this.ends[base + COL] === this.starts[base + COL]) return undefined
    let names: { database: string; schema: string }
    try {
      names = resolveNames(
        this.text(base, CAT),
        this.text(base, SCH),
        { mysql: this.layoutMysql, schema: this.layoutSchema },
        this.opts,
        {},
      )
    } catch {
      return undefined
    }
    // names the CSV format does not take: the validator reports them
    if (!csvNameOk(names.database) || !csvNameOk(names.schema) || !csvNameOk(name)) return undefined
    return { id: this.ids.table(names.database, names.schema, name), database: names.database, schema: names.schema, name }
  }

  /**
   * Check the open table's rows as the reader and validator would and, when nothing is
   * wrong, write the table and its rows; false (nothing written) when the record path must
   * take the table.
   */
  private writeTable(): boolean {
    const m = this.rows
    const b = this.buf
    const starts = this.starts
    const ends = this.ends
    const flags = this.flags
    const fold = this.fold
    const table = this.table
    const prefix = new Hash64Prefix(table.id + '.')
    const h = this.h
    if (m > this.tableHi.length) {
      this.tableHi = new Uint32Array(2 * m)
      this.tableLo = new Uint32Array(2 * m)
      this.tableOrdinals = new Uint32Array(2 * m)
    }
    const tableHi = this.tableHi
    const tableLo = this.tableLo
    const ordinals = this.tableOrdinals
    const wide = m > 32
    if (wide) this.wide.clear()
    let prev = -1
    for (let i = 0; i < m; i++) {
      const base = i * SLOTS
      const f = flags[base + COL]!
      let a = starts[base + COL]!
      let e = ends[base + COL]!
      if (f & QUOTED) {
        a++
        e--
      }
      if (a === e) return false
      // a name the CSV format does not take (the validator reports it), or one the id builder
      // quotes (the record path builds its id)
      if (f & (HIGH | SPECIAL)) {
        const name = this.text(base, COL)
        if (!csvNameOk(name) || !isPlainIdPart(name)) return false
        prefix.hash(fold ? name.toLowerCase() : name, h)
      } else {
        // the same two rules on the ASCII bytes (lib/ids.ts isPlainIdPart, rules.ts csvNameOk)
        if (b[a] === QUOTE) return false
        for (let j = a; j < e; j++) if (b[j] === PERIOD) return false
        prefix.hashAscii(b, a, e, fold, h)
      }
      // the same id twice in the table: the validator reports it
      const hi = h.hi
      const lo = h.lo
      if (!wide || this.wide.has(lo)) {
        for (let j = 0; j < i; j++) if (tableLo[j] === lo && tableHi[j] === hi) return false
      }
      if (wide) this.wide.add(lo)
      tableHi[i] = hi
      tableLo[i] = lo
      if (flags[base + ORD] !== ABSENT) {
        const o = this.ordinal(base)
        // not a number, or not in ordinal order (the reader reports it, or sorts the table)
        if (o < 0 || o < prev) return false
        prev = ordinals[i] = o
      }
    }
    // the table record the reader would make, written as the CSV writer writes it: its bytes,
    // kept with the table, end each of its rows
    const fields = tableFields(tableRecord(table.id, table.database, table.schema, table.name, { line: 0 }, this.opts.tables))
    const out = this.out
    if (this.info.directRows === 0) out.text(this.headerLine)
    const tail = this.done.add(table.id, fields)
    for (let i = 0; i < m; i++) {
      const base = i * SLOTS
      // a value at most doubles (quotes), the type at most adds a length, precision and scale
      out.room(2 * this.rowBytes[i]! + 66 + tail.length)
      this.field(base, COL)
      out.buf[out.used++] = COMMA
      this.field(base, COMMENT)
      out.buf[out.used++] = COMMA
      this.type(base)
      out.buf[out.used++] = COMMA
      if (flags[base + ORD] !== ABSENT) this.digits(ordinals[i]!)
      const o = out.buf
      let u = out.used
      o[u++] = COMMA
      for (let j = 0; j < tail.length; j++) o[u++] = tail[j]!
      o[u++] = LF
      out.used = u
    }
    this.log.pushAll(tableHi, tableLo, this.rowLines, m)
    this.report.resources.table++
    this.report.resources.column += m
    this.info.directRows += m
    return true
  }

  /** The row's ordinal_position, -1 when it is not a non-negative integer. */
  private ordinal(base: number): number {
    const f = this.flags[base + ORD]!
    let a = this.starts[base + ORD]!
    let e = this.ends[base + ORD]!
    if (f & QUOTED) {
      a++
      e--
    }
    // empty, not digits, or too long for a plain number (the record path decides on those)
    return ordinalOfBytes(this.buf, a, e)
  }

  /** A field's value into the output, quoted as quoteCsvField quotes it. */
  private field(base: number, slot: number): void {
    const f = this.flags[base + slot]!
    if (f === ABSENT) return
    const out = this.out
    const b = this.buf
    let a = this.starts[base + slot]!
    let e = this.ends[base + slot]!
    if (f & QUOTED) {
      // a quoted value that needs its quotes keeps them (inner quotes are already doubled)
      if (!(f & SPECIAL)) {
        a++
        e--
      }
    } else if (f & SPECIAL) {
      // an unquoted value with a quote or comma: quoted now, inner quotes doubled
      out.used = writeQuotedBytes(b, a, e, out.buf, out.used)
      return
    }
    if (e - a > 32) {
      b.copy(out.buf, out.used, a, e)
      out.used += e - a
      return
    }
    const o = out.buf
    let u = out.used
    for (let i = a; i < e; i++) o[u++] = b[i]!
    out.used = u
  }

  /**
   * The column type, as the reader makes it: column_type when it is there, else one made of
   * data_type, udt_name and the length, precision and scale columns. Those five repeat from
   * row to row (a few dozen kinds in an export), so what they make is cached by their bytes.
   */
  private type(base: number): void {
    const f = this.flags[base + CTYPE]!
    if (f !== ABSENT && this.ends[base + CTYPE]! - this.starts[base + CTYPE]! > (f & QUOTED ? 2 : 0)) return this.field(base, CTYPE)
    const b = this.buf
    let h = 0x811c9dc5
    for (const slot of TYPE_SLOTS) {
      const i = base + slot
      if (this.flags[i] === ABSENT) {
        h = Math.imul(h ^ 0xffff, 16777619)
        continue
      }
      const e = this.ends[i]!
      h = Math.imul(h ^ (e - this.starts[i]!), 16777619)
      for (let j = this.starts[i]!; j < e; j++) h = Math.imul(h ^ b[j]!, 16777619)
    }
    let made: Buffer | undefined
    const known = this.types.get(h)
    if (known !== undefined) {
      for (const k of known)
        if (this.sameTypeKey(base, k.key)) {
          made = k.out
          break
        }
    }
    if (made === undefined) {
      const t = typeOf(
        undefined,
        this.optional(base, DTYPE),
        this.optional(base, UDT),
        this.optional(base, CLEN),
        this.optional(base, PREC),
        this.optional(base, SCALE),
      )
      made = Buffer.from(t === undefined ? '' : quoteCsvField(t), 'utf8')
      // bounded, so an export of endless distinct types cannot grow it without limit
      if (this.typesHeld < 10_000 && this.typeBytes < 1 << 20) {
        this.typesHeld++
        const entry = { key: this.typeKey(base), out: made }
        this.typeBytes += entry.key.length + made.length
        if (known === undefined) this.types.set(h, [entry])
        else known.push(entry)
      }
    }
    const out = this.out
    const o = out.buf
    let u = out.used
    for (let j = 0; j < made.length; j++) o[u++] = made[j]!
    out.used = u
  }

  /** The raw bytes of the type fields of a row, each after its length (all ones: absent). */
  private typeKey(base: number): Buffer {
    const parts: Buffer[] = []
    for (const slot of TYPE_SLOTS) {
      const i = base + slot
      const len = Buffer.allocUnsafe(4)
      if (this.flags[i] === ABSENT) {
        len.writeUInt32LE(0xffffffff)
        parts.push(len)
      } else {
        len.writeUInt32LE(this.ends[i]! - this.starts[i]!)
        parts.push(len, Buffer.from(this.buf.subarray(this.starts[i]!, this.ends[i]!)))
      }
    }
    return Buffer.concat(parts)
  }

  private sameTypeKey(base: number, key: Buffer): boolean {
    const b = this.buf
    let at = 0
    for (const slot of TYPE_SLOTS) {
      const i = base + slot
      const len = key.readUInt32LE(at)
      at += 4
      if (this.flags[i] === ABSENT) {
        if (len !== 0xffffffff) return false
        continue
      }
      const a = this.starts[i]!
      if (this.ends[i]! - a !== len) return false
      for (let j = 0; j < len; j++) if (key[at + j] !== b[a + j]) return false
      at += len
    }
    return true
  }

  /** A non-negative integer in decimal. */
  private digits(v: number): void {
    const out = this.out
    const o = out.buf
    let n = 1
    for (let x = v; x >= 10; x = Math.floor(x / 10)) n++
    let u = out.used + n
    out.used = u
    do {
      o[--u] = 48 + (v % 10)
      v = Math.floor(v / 10)
    } while (v > 0)
  }
}

/**
 * A Transform from the bytes of an information_schema.columns export to the bytes of the
 * Secoda columns CSV, validated: it fails at the end (having written what it could) when
 * the input had errors, as the record path's CSV writer does. (lib/stream.ts around
 * {@link InfoSchemaCsv}; its counters are `info`.)
 */
export function createInfoSchemaCsvConverter(options: InfoSchemaCsvOptions): StageStream<InfoSchemaCsv> {
  return asStream(new InfoSchemaCsv(options))
}
