// Secoda columns CSV bytes → table and column records. Accepts `sort_order` or
// `col_sort_order`, is_view true/false, epoch last_updated_time; empty or `None` means
// absent. Rows of one table need not be adjacent; rows that disagree on a table-level field
// are reported (TABLE_INCONSISTENT).

import { CsvError, type Info, Parser } from 'csv-parse'
import { SecodaError } from '../lib/errors.js'
import { type IdBuilder, defaultIds } from '../lib/ids.js'
import type { Report } from '../lib/report.js'
import { type Resource, type SecodaRecord, withSource } from '../lib/records.js'
import { BYTES_TO_RECORDS, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../lib/stream.js'
import { Utf8Checker } from '../lib/utf8.js'

/** Options of the Secoda CSV reader. */
export interface SecodaCsvReaderOptions {
  report: Report
  file?: string
  /** Id builder (default: the project default). */
  ids?: IdBuilder
}

/** {@link SecodaCsvReaderOptions} with every default filled in. */
export type SecodaCsvReaderSettings = Readonly<{ report: Report; file: string | undefined; ids: IdBuilder }>

/** The reader's options, normalised once: a frozen copy, defaults filled in. */
export function secodaCsvReaderSettings(options: SecodaCsvReaderOptions): SecodaCsvReaderSettings {
  return Object.freeze({ report: options.report, file: options.file, ids: options.ids ?? defaultIds })
}

/** Counters of the reader: bytes in, data rows (the header aside), records out. */
export interface SecodaCsvInfo extends StageInfo {
  rows: number
}

const REQUIRED = ['col_name', 'database', 'schema', 'name'] as const
const OPTIONAL = ['col_description', 'col_type', 'col_sort_order', 'sort_order', 'description', 'is_view', 'last_updated_time'] as const
type Field = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number]

/** Empty or Python's `None` (what pandas/SQL exports write for null) mean absent. */
function present(v: string | undefined): string | undefined {
  return v === undefined || v === '' || v === 'None' ? undefined : v
}

/**
 * Parsed rows (arrays of fields) with their line numbers → records; the first row is the
 * header. Emits table records (once per table) and column records, counted in `info`.
 */
export class SecodaCsvMapper {
  private readonly report: Report
  private readonly file: string | undefined
  private readonly ids: IdBuilder
  private emit: Emit<SecodaRecord> = () => {}
  private index: Partial<Record<Field, number>> | null = null
  /** table id → the table-level fields of its first row, to compare later rows with. */
  private readonly tables = new Map<string, string>()

  constructor(
    options: SecodaCsvReaderOptions,
    readonly info: SecodaCsvInfo = stageInfo({ rows: 0 }),
  ) {
    const o = secodaCsvReaderSettings(options)
    this.report = o.report
    this.file = o.file
    this.ids = o.ids
  }

  row(fields: string[], line: number, emit: Emit<SecodaRecord>): void {
    this.emit = emit
    if (this.index === null) return this.header(fields, line)
    this.info.rows++
    const idx = this.index
    const get = (f: Field): string | undefined => {
      const i = idx[f]
      return i === undefined ? undefined : present(fields[i])
    }
    const pos = { file: this.file, line }
    const colName = get('col_name')
    const database = get('database')
    const schema = get('schema')
    const name = get('name')
    for (const [f, v] of [
      ['col_name', colName],
      ['database', database],
      ['schema', schema],
      ['name', name],
    ] as const) {
      if (v === undefined) {
        this.report.error('FIELD_REQUIRED', `${f} is empty`, { ...pos, path: f })
        return
      }
    }
    const isViewText = get('is_view')
    let isView: boolean | undefined
    if (isViewText !== undefined) {
      const t = isViewText.toLowerCase()
      if (t === 'true') isView = true
      else if (t === 'false') isView = false
      else
        return this.report.error('CSV_VALUE', `is_view must be true or false, got ${JSON.stringify(isViewText)}`, {
          ...pos,
          path: 'is_view',
        })
    }
    const epochText = get('last_updated_time')
    let updated: string | undefined
    if (epochText !== undefined) {
      if (!/^\d+$/.test(epochText))
        return this.report.error('CSV_VALUE', `last_updated_time must be Unix epoch seconds, got ${JSON.stringify(epochText)}`, {
          ...pos,
          path: 'last_updated_time',
        })
      updated = new Date(Number(epochText) * 1000).toISOString()
    }
    const sortText = get('col_sort_order') ?? get('sort_order')
    let sort: number | undefined
    if (sortText !== undefined) {
      if (!/^-?\d+$/.test(sortText))
        return this.report.error('CSV_VALUE', `col_sort_order must be an integer, got ${JSON.stringify(sortText)}`, {
          ...pos,
          path: 'col_sort_order',
        })
      sort = Number(sortText)
    }
    const tableId = this.ids.table(database!, schema!, name!)
    const description = get('description')
    const signature = JSON.stringify([name, description, isViewText?.toLowerCase(), epochText])
    const seen = this.tables.get(tableId)
    if (seen === undefined) {
      this.tables.set(tableId, signature)
      const table: Resource = { entity_type: 'table', databuilder_id: tableId, title: name }
      if (description !== undefined) table.description = description
      if (updated !== undefined) table.external_updated_at = updated
      if (isView !== undefined) table.native_type = isView ? 'view' : 'table'
      table.database = database
      table.schema = schema
      this.info.recordsOut++
      this.emit(withSource(table, pos))
    } else if (seen !== signature) {
      const [, d0, v0, e0] = JSON.parse(seen) as (string | undefined)[]
      const diff =
        d0 !== description ? 'description' : v0 !== isViewText?.toLowerCase() ? 'is_view' : e0 !== epochText ? 'last_updated_time' : 'name'
      this.report.error(
        'TABLE_INCONSISTENT',
        `rows of table ${database}.${schema}.${name} disagree on ${diff}: every row of a table must carry the same table fields`,
        { ...pos, path: diff, databuilderId: tableId },
      )
    }
    const column: Resource = {
      entity_type: 'column',
      databuilder_id: this.ids.columnOf(tableId, colName!),
      parent_databuilder_id: tableId,
      title: colName,
    }
    const colDescription = get('col_description')
    const colType = get('col_type')
    if (colDescription !== undefined) column.description = colDescription
    if (sort !== undefined) column.sort_order = sort
    if (colType !== undefined) column.type = colType
    this.info.recordsOut++
    this.emit(withSource(column, pos))
  }

  private header(fields: string[], line: number): void {
    const idx: Partial<Record<Field, number>> = {}
    const known = new Set<string>([...REQUIRED, ...OPTIONAL])
    const unknown: string[] = []
    fields.forEach((raw, i) => {
      const f = raw.trim().toLowerCase()
      if (!known.has(f)) {
        unknown.push(raw)
        return
      }
      if (idx[f as Field] !== undefined)
        throw new SecodaError('CSV_HEADER', `CSV header repeats column ${JSON.stringify(raw)}, at ${this.file ?? 'input'}:${line}`, {
          file: this.file,
          line,
        })
      idx[f as Field] = i
    })
    const missing = REQUIRED.filter((f) => idx[f] === undefined)
    if (missing.length > 0) {
      throw new SecodaError(
        'CSV_HEADER',
        `not a Secoda columns CSV: header lacks ${missing.join(', ')} (expected ${[...REQUIRED, ...OPTIONAL.filter((f) => f !== 'sort_order')].join(',')}), at ${this.file ?? 'input'}:${line}`,
        { file: this.file, line },
      )
    }
    if (unknown.length > 0)
      this.report.warn(
        'FIELD_UNKNOWN',
        `CSV columns ${unknown.map((u) => JSON.stringify(u)).join(', ')} are not Secoda CSV columns; they are ignored`,
        { file: this.file, line },
      )
    this.index = idx
  }
}

/** The part of csv-parse's core used here (see {@link SecodaCsvReader}). */
interface CsvParseCore {
  parse(buf: Buffer | undefined, end: boolean, push: (r: { record: string[]; info: Info }) => void, close: () => void): Error | undefined
}

/**
 * The stream-free core (lib/stream.ts protocol): Secoda CSV bytes → table and column
 * records. Bytes are checked as UTF-8, then parsed by csv-parse's own stream-free core (the
 * `api` its `Parser` Transform wraps, `parse(buf, end, push, close)`), driven here without
 * a stream. Invalid UTF-8 and CSV syntax errors throw with the line; row-level problems go
 * to the report.
 */
export class SecodaCsvReader implements StageCore<Uint8Array, SecodaRecord, SecodaCsvInfo> {
  readonly mode = BYTES_TO_RECORDS
  readonly info: SecodaCsvInfo = stageInfo({ rows: 0 })
  readonly options: SecodaCsvReaderSettings
  private readonly checker: Utf8Checker
  private readonly csv: CsvParseCore
  private readonly mapper: SecodaCsvMapper
  private emit: Emit<SecodaRecord> = () => {}
  private prevLines = 0
  private prevEmpty = 0
  private readonly onRecord = ({ record, info }: { record: string[]; info: Info }): void => {
    const start = this.prevLines + 1 + (info.empty_lines - this.prevEmpty)
    this.prevLines = info.lines
    this.prevEmpty = info.empty_lines
    this.mapper.row(record, start, this.emit)
  }

  constructor(options: SecodaCsvReaderOptions) {
    this.options = secodaCsvReaderSettings(options)
    this.checker = new Utf8Checker(this.options.file)
    const api = (new Parser({ bom: true, skip_empty_lines: true, info: true }) as unknown as { api?: CsvParseCore }).api
    if (typeof api?.parse !== 'function') throw new SecodaError('INTERNAL', 'csv-parse no longer has the core this reader drives')
    this.csv = api
    this.mapper = new SecodaCsvMapper(this.options, this.info)
  }

  push(chunk: Uint8Array, emit: Emit<SecodaRecord>): void {
    this.info.bytesIn += chunk.length
    this.emit = emit
    this.parse(this.checker.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)), false)
  }

  end(emit: Emit<SecodaRecord>): undefined {
    this.emit = emit
    const rest = this.checker.end()
    if (rest !== null) this.parse(rest, false)
    this.parse(undefined, true)
    return undefined
  }

  private parse(buf: Buffer | undefined, end: boolean): void {
    const err = this.csv.parse(buf, end, this.onRecord, () => {})
    if (err === undefined) return
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines
      throw new SecodaError('CSV_SYNTAX', `invalid CSV: ${err.message}`, { file: this.options.file, line, cause: err })
    }
    throw err
  }
}

/**
 * A Transform from Secoda CSV bytes to table and column records (see {@link SecodaCsvReader}).
 */
export function createSecodaCsvReader(options: SecodaCsvReaderOptions): StageStream<SecodaCsvReader> {
  return asStream(new SecodaCsvReader(options))
}
