// information_schema.columns exports (CSV, as PostgreSQL, MySQL/MariaDB, Snowflake, BigQuery,
// Redshift and SQL Server write them) → Secoda table and column resources. An optional
// information_schema.tables export adds each table's type (view or not) and comment.
//
// Memory: rows sorted by table (what `ORDER BY table_schema, table_name, ordinal_position`
// and every vendor's default export give) stream with one table held open at a time. A
// table that reappears after another one switches the reader to buffering: see
// {@link InfoSchemaColumns} for why and what it costs; docs/columns.md. The mapping rules
// (header roles, types, ordinals, names) are in rules.ts, shared with the direct path.

import { CsvScanner, type CsvRow } from '../../lib/scan/csv.js'
import { MysqlBatchScanner } from '../../lib/scan/mysql-batch.js'
import { SecodaError, type ErrorCode, type Position } from '../../lib/errors.js'
import { createIdBuilder, type IdBuilder } from '../../lib/ids.js'
import type { Report } from '../../lib/report.js'
import { type Resource, withSource } from '../../lib/records.js'
import { BYTES_TO_RECORDS, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../../lib/stream.js'
import {
  COLUMN_ROLES,
  EXPECTED_COLUMNS,
  EXPECTED_TABLES,
  type ColumnRole,
  type Layout,
  type TableInfo,
  type TableRole,
  type TablesInfo,
  columnDescription,
  isColumnsLayout,
  isPrimaryKey,
  nativeTableType,
  ordinalOf,
  resolveColumnsLayout,
  resolveNames,
  resolveTablesLayout,
  tableRecord,
  typeOf,
} from './rules.js'

/** Options of the information_schema readers. */
export interface InfoSchemaOptions {
  /** Id builder of the run (default: project default, lower case, no prefix). */
  ids?: IdBuilder
  /** Diagnostics for row-level problems; without one, the first problem throws. */
  report?: Report
  /** Input name for positions. */
  file?: string
  /**
   * The Secoda database. Overrides the catalog column; required when the export has no
   * catalog (or MySQL's constant `def`) and is not a MySQL export, where it defaults to the
   * schema (the MySQL database).
   */
  database?: string
  /** The schema, for exports without a table_schema column (e.g. a one-database MySQL export). */
  schema?: string
  /** Table types and comments from an information_schema.tables export ({@link readTablesExport}). */
  tables?: TablesInfo
  /** Field delimiter of CSV input (default `,`). */
  delimiter?: string
  /**
   * `csv` (RFC 4180), `mysql-batch` (the tab-separated, backslash-escaped text of
   * `mysql --batch`), or `auto` (default): mysql-batch when the header line has tabs and no
   * commas, else CSV.
   */
  format?: ExportFormat
  /**
   * Continue where another reader of the same CSV export stopped, at a row boundary: the
   * input given to this reader starts there. The direct path of direct-csv.ts hands over this
   * way (hand-over.ts). Implies `format: 'csv'`.
   */
  readBefore?: ReadBefore
}

/** Where a reader takes over a CSV export: see {@link InfoSchemaOptions.readBefore}. */
export interface ReadBefore {
  /** The export's header fields. */
  header: string[]
  /** Line of the first byte this reader gets (no BOM is looked for there). */
  line: number
  /**
   * The tables finished before (emitted with all their columns): a row of one of them means
   * the export is not sorted by table, as when this reader had finished it.
   */
  finished: { has(id: string): boolean }
}

/** Text formats the information_schema readers take. */
export type ExportFormat = 'auto' | 'csv' | 'mysql-batch'

/** Rows of either format, the format chosen from the header line when `auto`. */
class RowSource {
  private scanner: { push(c: Uint8Array | string): CsvRow[]; end(): CsvRow[]; project?(keep: readonly boolean[]): void } | undefined
  private pending: (Uint8Array | string)[] = []
  private keep: readonly boolean[] | undefined
  /** The first line so far, while the format is undecided. */
  private head = ''

  constructor(private readonly options: InfoSchemaOptions) {
    if (options.readBefore !== undefined) {
      // CSV from the middle of an input: the scanner starts at that line, with no BOM to look for
      this.scanner = new CsvScanner({ file: options.file, delimiter: options.delimiter, startLine: options.readBefore.line })
    } else if (options.format === 'csv' || options.format === 'mysql-batch') this.scanner = this.create(options.format)
  }

  private create(format: 'csv' | 'mysql-batch'): NonNullable<RowSource['scanner']> {
    return format === 'csv'
      ? new CsvScanner({ file: this.options.file, delimiter: this.options.delimiter })
      : new MysqlBatchScanner({ file: this.options.file })
  }

  push(chunk: Uint8Array | string): CsvRow[] {
    if (this.scanner) return this.scanner.push(chunk)
    this.pending.push(chunk)
    // Decide once the first line is complete (or 64 KiB of it have arrived). Only the
    // header's characters matter (tab, comma, LF are ASCII), so latin1 is enough here.
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1')
    const nl = text.indexOf('\n')
    this.head += nl === -1 ? text : text.slice(0, nl)
    if (nl === -1 && this.head.length < 65536) return []
    return this.start(this.head)
  }

  private start(firstLine: string): CsvRow[] {
    const batch = firstLine.includes('\t') && !firstLine.includes(',')
    this.scanner = this.create(batch ? 'mysql-batch' : 'csv')
    if (this.keep) this.scanner.project?.(this.keep)
    const out: CsvRow[] = []
    for (const c of this.pending) for (const r of this.scanner.push(c)) out.push(r)
    this.pending = []
    return out
  }

  end(): CsvRow[] {
    const out = this.scanner ? [] : this.start(this.head)
    for (const r of this.scanner!.end()) out.push(r)
    return out
  }

  project(keep: readonly boolean[]): void {
    this.keep = keep
    this.scanner?.project?.(keep)
  }
}

function fail(report: Report | undefined, code: ErrorCode, message: string, pos: Position): void {
  if (!report) throw new SecodaError(code, message, pos)
  report.error(code, message, pos)
}

/** Whether the columns' ordinals ascend (no ordinal counting as the largest). */
function inOrder(columns: Resource[]): boolean {
  let prev = -1
  for (let i = 0; i < columns.length; i++) {
    const o = columns[i]!.sort_order ?? Infinity
    if (o < prev) return false
    prev = o
  }
  return true
}

/** One table held open while its rows arrive. */
interface OpenTable {
  key: string
  id: string
  table: Resource
  columns: Resource[]
  /** Whether the table resource was already emitted (unsorted input). */
  emitted: boolean
}

/** Counters of the columns reader (lib/stream.ts `info`). */
export interface ColumnsInfo extends StageInfo {
  /** Rows read, the header excluded. */
  rows: number
  /** Table resources emitted. */
  tables: number
  /** Column resources emitted. */
  columns: number
}

/**
 * Stream-free core of the columns reader (the lib/stream.ts protocol): {@link InfoSchemaColumns.push}
 * bytes, records go to `emit`; {@link InfoSchemaColumns.end} emits the rest. Each table is emitted as its table resource
 * followed by its columns in ordinal order.
 *
 * Sorted input streams: the rows of the current table are held until a row of another
 * table arrives, then flushed, and the table's key goes into a set of finished tables (the
 * only memory that grows with the input: one short string per table). When a finished table
 * shows up again the input is not sorted by table. The table resource is already out, so
 * its late columns cannot join it; from then on the reader buffers every table it has not
 * finished and emits them at the end — late columns of finished tables follow as their own
 * group. Emitting rows one by one instead would keep memory flat but scatter columns and
 * lose the ordinal order; buffering keeps the output grouped and deterministic whatever the
 * export's order, and its cost (memory for the rows after the first out-of-order one) is
 * paid only by unsorted exports. The counter `columns.unsorted_rows` says how many rows
 * were buffered that way.
 */
export class InfoSchemaColumns implements StageCore<Uint8Array | string, Resource, ColumnsInfo> {
  readonly mode = BYTES_TO_RECORDS
  /** Counters: bytes in (text chunks count their UTF-16 length), rows read, tables and columns emitted. */
  readonly info: ColumnsInfo = stageInfo({ rows: 0, tables: 0, columns: 0 })
  private readonly scanner: RowSource
  private readonly ids: IdBuilder
  private readonly report: Report | undefined
  private readonly opts: Readonly<InfoSchemaOptions>
  private layout: Layout<ColumnRole> | undefined
  private current: OpenTable | undefined
  /** Ids of the tables finished here (see isFinished). */
  private readonly finished = new Set<string>()
  /** Tables finished before this reader took over ({@link InfoSchemaOptions.readBefore}). */
  private readonly finishedBefore: { has(id: string): boolean } | undefined
  /** Unsorted mode: every open table by key, in first-seen order. */
  private buffered: Map<string, OpenTable> | undefined
  private lastCatalog = '\u0000'
  private lastSchema = '\u0000'
  private lastTable = '\u0000'

  constructor(options: InfoSchemaOptions = {}) {
    this.opts = Object.freeze({ ...options })
    this.ids = options.ids ?? createIdBuilder()
    this.report = options.report
    this.scanner = new RowSource(options)
    this.finishedBefore = options.readBefore?.finished
    if (options.readBefore !== undefined) this.header({ fields: options.readBefore.header, line: 1 })
  }

  /** Whether the table was finished (emitted with all its columns), here or before. */
  private isFinished(key: string): boolean {
    return this.finished.has(key) || (this.finishedBefore?.has(key) ?? false)
  }

  /** Feed bytes (or text); the records completed by them go to `emit`. */
  push(chunk: Uint8Array | string, emit: Emit<Resource>): void {
    this.info.bytesIn += chunk.length
    for (const row of this.scanner.push(chunk)) this.row(row, emit)
  }

  /** End of input: the remaining records go to `emit`. */
  end(emit: Emit<Resource>): undefined {
    for (const row of this.scanner.end()) this.row(row, emit)
    if (this.layout === undefined) {
      throw new SecodaError(
        'COLUMNS_LAYOUT',
        `the input is empty: expected an information_schema.columns export with a header naming ${EXPECTED_COLUMNS}`,
        { file: this.opts.file, line: 1 },
      )
    }
    if (this.buffered) {
      for (const t of this.buffered.values()) this.flush(t, emit)
      this.buffered.clear()
    } else if (this.current) this.flush(this.current, emit)
    this.current = undefined
    // Tables the tables export lists but that have no column rows (e.g. filtered out).
    if (this.opts.tables) {
      for (const [id, info] of this.opts.tables) {
        if (this.isFinished(id)) continue
        this.finished.add(id)
        emit(this.tableResource(id, info.database, info.schema, info.name, { line: info.line }))
        this.info.tables++
        this.info.recordsOut++
      }
    }
    return undefined
  }

  private tableResource(id: string, database: string, schema: string, name: string, src: { file?: string; line: number }): Resource {
    return tableRecord(id, database, schema, name, src, this.opts.tables)
  }

  private flush(t: OpenTable, emit: Emit<Resource>): void {
    if (!t.emitted) {
      emit(t.table)
      this.info.tables++
    }
    // Stable sort: columns without an ordinal keep their input order after the others. Most
    // exports list a table's columns in ordinal order already: then there is nothing to do.
    if (!inOrder(t.columns)) t.columns.sort((a, b) => (a.sort_order ?? Infinity) - (b.sort_order ?? Infinity))
    for (const c of t.columns) emit(c)
    this.info.columns += t.columns.length
    this.info.recordsOut = this.info.tables + this.info.columns
    t.columns = []
    t.emitted = true
    this.finished.add(t.key)
  }

  private header(row: CsvRow): void {
    const layout = resolveColumnsLayout(row.fields)
    if (!isColumnsLayout(layout)) {
      const got = row.fields.map((f) => JSON.stringify(f)).join(', ')
      throw new SecodaError(
        'COLUMNS_LAYOUT',
        `not an information_schema.columns export: its header lacks ${layout.table === -1 ? 'table_name' : 'column_name'}; expected ${EXPECTED_COLUMNS}; got ${got}`,
        { file: this.opts.file, line: row.line },
      )
    }
    this.layout = layout
    // Only the columns the reader uses are materialised (information_schema has ~20 more).
    const keep = new Array<boolean>(layout.width).fill(false)
    for (const role of Object.keys(COLUMN_ROLES) as ColumnRole[]) if (layout[role] !== -1) keep[layout[role]] = true
    this.scanner.project(keep)
  }

  private row(row: CsvRow, emit: Emit<Resource>): void {
    const L = this.layout
    if (L === undefined) return this.header(row)
    this.info.rows++
    const f = row.fields
    const file = this.opts.file
    if (f.length !== L.width) {
      fail(this.report, 'CSV_SYNTAX', `row has ${f.length} fields, the header has ${L.width}`, { file, line: row.line })
      return
    }
    const catalog = L.catalog === -1 ? '' : f[L.catalog]!
    const schemaName = L.schema === -1 ? '' : f[L.schema]!
    const tableName = f[L.table]!
    const columnName = f[L.column]!
    if (tableName === '' || columnName === '') {
      fail(this.report, 'FIELD_REQUIRED', `empty ${tableName === '' ? 'table_name' : 'column_name'}`, { file, line: row.line })
      return
    }
    let t = this.current
    // Same table as the previous row: compare the raw names, no id building per row.
    if (t === undefined || tableName !== this.lastTable || schemaName !== this.lastSchema || catalog !== this.lastCatalog) {
      t = this.open(catalog, schemaName, tableName, row, emit)
      this.lastCatalog = catalog
      this.lastSchema = schemaName
      this.lastTable = tableName
    }
    let sortOrder: number | undefined
    if (L.ordinal !== -1) {
      const o = f[L.ordinal]!
      sortOrder = ordinalOf(o)
      if (sortOrder === undefined)
        fail(this.report, 'CSV_VALUE', `ordinal_position is not a non-negative integer: ${JSON.stringify(o)}`, { file, line: row.line })
    }
    const columnType = L.columnType === -1 ? '' : f[L.columnType]!
    const comment = L.comment === -1 ? '' : f[L.comment]!
    // One object literal with every field (undefined = absent, which the serializer skips):
    // records of one shape keep the writer's and validator's property reads monomorphic.
    const c: Resource = {
      entity_type: 'column',
      databuilder_id: this.ids.columnOf(t.id, columnName),
      parent_databuilder_id: t.id,
      title: columnName,
      description: columnDescription(comment),
      sort_order: sortOrder,
      type:
        columnType !== ''
          ? columnType
          : typeOf(
              undefined,
              L.dataType === -1 ? undefined : f[L.dataType],
              L.udtName === -1 ? undefined : f[L.udtName],
              L.charLength === -1 ? undefined : f[L.charLength],
              L.precision === -1 ? undefined : f[L.precision],
              L.scale === -1 ? undefined : f[L.scale],
            ),
      is_pk: L.key === -1 ? undefined : isPrimaryKey(f[L.key]!),
    }
    t.columns.push(withSource(c, { file, line: row.line }))
    if (this.buffered) this.report?.bump('columns.unsorted_rows')
  }

  /** The row starts another table than the previous row: find or open its group. */
  private open(catalog: string, schemaField: string, tableName: string, row: CsvRow, emit: Emit<Resource>): OpenTable {
    const pos = { file: this.opts.file, line: row.line }
    const { database, schema } = resolveNames(catalog, schemaField, this.layout!, this.opts, pos)
    const id = this.ids.table(database, schema, tableName)
    const key = id
    if (this.buffered) {
      let t = this.buffered.get(key)
      if (t === undefined) {
        const emitted = this.isFinished(key)
        t = { key, id, table: this.tableResource(id, database, schema, tableName, pos), columns: [], emitted }
        this.buffered.set(key, t)
      }
      this.current = t
      return t
    }
    if (this.current && this.current.key === key) return this.current // same table, other spelling
    if (this.isFinished(key)) {
      // Not sorted by table: buffer from here on (see the class comment).
      this.buffered = new Map()
      if (this.current) this.buffered.set(this.current.key, this.current)
      const t: OpenTable = { key, id, table: this.tableResource(id, database, schema, tableName, pos), columns: [], emitted: true }
      this.buffered.set(key, t)
      this.current = t
      return t
    }
    if (this.current) this.flush(this.current, emit)
    this.current = { key, id, table: this.tableResource(id, database, schema, tableName, pos), columns: [], emitted: false }
    return this.current
  }
}

/**
 * Read an information_schema.tables export (CSV) into a {@link TablesInfo} map. Table types
 * become native_type (`VIEW` → `view`); MySQL's table_comment `VIEW` on views is dropped (it is
 * MySQL's placeholder, not a comment). Names follow the same rules as the columns export.
 */
export async function readTablesExport(source: AsyncIterable<Uint8Array | string>, options: InfoSchemaOptions = {}): Promise<TablesInfo> {
  const ids = options.ids ?? createIdBuilder()
  const scanner = new RowSource(options)
  const tables: TablesInfo = new Map()
  let layout: Layout<TableRole> | undefined
  const onRow = (row: CsvRow): void => {
    const f = row.fields
    const pos = { file: options.file, line: row.line }
    if (layout === undefined) {
      layout = resolveTablesLayout(f)
      if (layout.table === -1 || layout.type === -1) {
        throw new SecodaError(
          'COLUMNS_LAYOUT',
          `not an information_schema.tables export: its header lacks ${layout.table === -1 ? 'table_name' : 'table_type'}; expected ${EXPECTED_TABLES}; got ${f.map((x) => JSON.stringify(x)).join(', ')}`,
          pos,
        )
      }
      return
    }
    if (f.length !== layout.width) {
      fail(options.report, 'CSV_SYNTAX', `row has ${f.length} fields, the header has ${layout.width}`, pos)
      return
    }
    const name = f[layout.table]!
    const catalog = layout.catalog === -1 ? '' : f[layout.catalog]!
    const { database, schema } = resolveNames(catalog, layout.schema === -1 ? '' : f[layout.schema]!, layout, options, pos)
    const tableType = f[layout.type]!
    const info: TableInfo = { database, schema, name, line: row.line }
    if (options.file !== undefined) info.file = options.file
    const nt = nativeTableType(tableType)
    if (nt !== undefined) info.nativeType = nt
    if (layout.comment !== -1) {
      const d = f[layout.comment]!
      if (d !== '' && !(d === 'VIEW' && nt === 'view')) info.description = d
    }
    const id = ids.table(database, schema, name)
    if (tables.has(id))
      fail(options.report, 'ID_DUPLICATE', `table ${id} is listed twice in the tables export (first on line ${tables.get(id)!.line})`, pos)
    else tables.set(id, info)
  }
  for await (const chunk of source) for (const row of scanner.push(chunk)) onRow(row)
  for (const row of scanner.end()) onRow(row)
  if (layout === undefined)
    throw new SecodaError('COLUMNS_LAYOUT', `the tables export is empty: expected a header naming ${EXPECTED_TABLES}`, {
      file: options.file,
      line: 1,
    })
  return tables
}

/**
 * A Transform from the bytes of an information_schema.columns export to Secoda records
 * (lib/stream.ts around {@link InfoSchemaColumns}; its counters are `info`).
 */
export function createInfoSchemaColumnsReader(options: InfoSchemaOptions = {}): StageStream<InfoSchemaColumns> {
  return asStream(new InfoSchemaColumns(options))
}
