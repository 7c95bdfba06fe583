// Secoda columns CSV bytes → table and column records. Accepts `sort_order` or
// `col_sort_order`, is_view true/false, epoch last_updated_time; empty or `None` means
// absent. Rows of one table need not be adjacent; rows that disagree on a table-level field
// are reported (TABLE_INCONSISTENT).

import { Transform, type TransformCallback } from 'node:stream'
import { parse, CsvError } from 'csv-parse'
import { SecodaError } from '../lib/errors.js'
import { type IdBuilder, defaultIds } from '../lib/ids.js'
import type { Report } from '../lib/report.js'
import { type Resource, type SecodaRecord, withSource } from '../lib/records.js'
import { Utf8Checker } from '../lib/utf8.js'

/** Options of the Secoda CSV reader. */
export interface SecodaCsvReaderOptions {
  report: Report
  file?: string
  /** Id builder (default: the project default). */
  ids?: IdBuilder
}

const REQUIRED = ['col_name', 'database', 'schema', 'name'] as const
const OPTIONAL = ['col_description', 'col_type', 'col_sort_order', 'sort_order', 'description', 'is_view', 'last_updated_time'] as const
type Field = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number]

/** Empty or Python's `None` (what pandas/SQL exports write for null) mean absent. */
function present(v: string | undefined): string | undefined {
  return v === undefined || v === '' || v === 'None' ? undefined : v
}

/**
 * Stream-free core: feed parsed rows (arrays of fields) with their line numbers; the
 * first row is the header. Emits table records (once per table) and column records.
 */
export class SecodaCsvMapper {
  private readonly report: Report
  private readonly file: string | undefined
  private readonly ids: IdBuilder
  private readonly emit: (r: SecodaRecord) => void
  private index: Partial<Record<Field, number>> | null = null
  /** table id → the table-level fields of its first row, to compare later rows with. */
  private readonly tables = new Map<string, string>()
  rows = 0

  constructor(options: SecodaCsvReaderOptions, emit: (r: SecodaRecord) => void) {
    this.report = options.report
    this.file = options.file
    this.ids = options.ids ?? defaultIds
    this.emit = emit
  }

  row(fields: string[], line: number): void {
    if (this.index === null) return this.header(fields, line)
    this.rows++
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

/**
 * A Transform from Secoda CSV bytes to table and column records. Invalid UTF-8 and CSV
 * syntax errors fail the stream with the line; row-level problems go to the report.
 */
export function createSecodaCsvReader(options: SecodaCsvReaderOptions): Transform {
  const file = options.file
  const checker = new Utf8Checker(file)
  const parser = parse({ bom: true, skip_empty_lines: true, info: true })
  const out = new Transform({
    readableObjectMode: true,
    readableHighWaterMark: 256,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      let body: Buffer
      try {
        body = checker.push(chunk)
      } catch (err) {
        return cb(err as Error)
      }
      if (!parser.write(body)) parser.once('drain', () => cb())
      else cb()
    },
    flush(cb: TransformCallback) {
      let rest: Buffer | null
      try {
        rest = checker.end()
      } catch (err) {
        return cb(err as Error)
      }
      if (rest !== null) parser.write(rest)
      parser.once('end', () => cb())
      parser.end()
    },
    destroy(err, cb) {
      parser.destroy()
      cb(err)
    },
  })
  let prevLines = 0
  let prevEmpty = 0
  const mapper = new SecodaCsvMapper(options, (r) => out.push(r))
  parser.on('data', ({ record, info }: { record: string[]; info: { lines: number; empty_lines: number } }) => {
    const start = prevLines + 1 + (info.empty_lines - prevEmpty)
    prevLines = info.lines
    prevEmpty = info.empty_lines
    try {
      mapper.row(record, start)
    } catch (err) {
      out.destroy(err as Error)
    }
  })
  parser.on('error', (err: Error) => {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines
      out.destroy(new SecodaError('CSV_SYNTAX', `invalid CSV: ${err.message}`, { file, line, cause: err }))
    } else out.destroy(err)
  })
  return out
}
