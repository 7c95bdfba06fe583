// The mapping rules of information_schema exports, shared by the record path
// (transforms/info-schema/columns.ts: rows → Secoda records) and the direct path
// (transforms/info-schema/direct-csv.ts: bytes → Secoda CSV bytes): which header columns play
// which role, how a column type is written, what a valid ordinal is, how names resolve to a
// Secoda database and schema, what the table resource holds. A change to the mapping is
// made here, once; test/columns-direct-csv.test.ts holds the two paths to the same output.
// See docs/columns.md, "What is read" and "Names".

import { SecodaError, type Position } from '../../lib/errors.js'
import { type Resource, withSource } from '../../lib/records.js'

/** The roles a header column can play, each with the names vendors give it (lower case). */
export const COLUMN_ROLES = {
  catalog: ['table_catalog', 'table_cat', 'database_name', 'table_database'],
  schema: ['table_schema', 'table_schem', 'schema_name', 'owner'],
  table: ['table_name'],
  column: ['column_name'],
  ordinal: ['ordinal_position'],
  columnType: ['column_type'],
  dataType: ['data_type', 'type_name'],
  udtName: ['udt_name'],
  charLength: ['character_maximum_length', 'column_size'],
  precision: ['numeric_precision'],
  scale: ['numeric_scale', 'decimal_digits'],
  comment: ['column_comment', 'comment', 'remarks', 'description'],
  key: ['column_key'],
} as const
export type ColumnRole = keyof typeof COLUMN_ROLES

export const TABLE_ROLES = {
  catalog: COLUMN_ROLES.catalog,
  schema: COLUMN_ROLES.schema,
  table: COLUMN_ROLES.table,
  type: ['table_type'],
  comment: ['table_comment', 'comment', 'remarks', 'description'],
} as const
export type TableRole = keyof typeof TABLE_ROLES

/** Header names that only MySQL/MariaDB write: with them, a missing catalog is normal. */
const MYSQL_ONLY = ['column_type', 'column_key', 'extra', 'privileges', 'column_comment', 'table_comment', 'engine']

/** What the columns reader expects, for the layout error. */
export const EXPECTED_COLUMNS =
  'table_name and column_name (plus table_schema, table_catalog, ordinal_position, data_type or column_type, column_comment/comment/remarks, column_key as the export has them)'
export const EXPECTED_TABLES = 'table_name and table_type (plus table_schema, table_catalog, table_comment/comment/remarks)'

/** Resolved header: role → field index (-1 when absent). */
export type Layout<R extends string> = Record<R, number> & { width: number; mysql: boolean; names: string[] }

/** The columns export's header → where each role's column is (-1: absent). */
export function resolveColumnsLayout(header: string[]): Layout<ColumnRole> {
  return resolveLayout(header, COLUMN_ROLES)
}

/** The tables export's header → where each role's column is (-1: absent). */
export function resolveTablesLayout(header: string[]): Layout<TableRole> {
  return resolveLayout(header, TABLE_ROLES)
}

/** Whether a columns layout names the two columns a row needs (table_name, column_name). */
export function isColumnsLayout(layout: Layout<ColumnRole>): boolean {
  return layout.table !== -1 && layout.column !== -1
}

function resolveLayout<R extends string>(header: string[], roles: Record<R, readonly string[]>): Layout<R> {
  const names = header.map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase())
  const layout = { width: header.length, mysql: names.some((n) => MYSQL_ONLY.includes(n)), names } as Layout<R>
  for (const role of Object.keys(roles) as R[]) {
    let at = -1
    for (const alias of roles[role]) {
      at = names.indexOf(alias)
      if (at !== -1) break
    }
    ;(layout as Record<R, number>)[role] = at
  }
  return layout
}

/** What an information_schema.tables export says about one table. */
export interface TableInfo {
  /** Secoda native_type: `table`, `view`, `materialized view`, `foreign table`, ... */
  nativeType?: string
  description?: string
  database: string
  schema: string
  name: string
  /** Where the tables export lists it. */
  file?: string
  line: number
}

/** Tables of an information_schema.tables export, by table databuilder_id. */
export type TablesInfo = Map<string, TableInfo>

/** information_schema table_type → Secoda native_type. */
export function nativeTableType(tableType: string): string | undefined {
  const t = tableType.trim().toLowerCase()
  if (t === '') return undefined
  if (t === 'base table' || t === 'table') return 'table'
  if (t === 'foreign' || t === 'foreign table') return 'foreign table'
  return t // view, materialized view, system view, external, local temporary, snapshot, clone ...
}

const CHAR_TYPES = new Set([
  'character varying',
  'varchar',
  'character',
  'char',
  'nvarchar',
  'nchar',
  'varbinary',
  'binary',
  'bit varying',
  'bit',
  'varchar2',
  'nvarchar2',
])
const DECIMAL_TYPES = new Set(['numeric', 'decimal', 'number'])
const KIND_PLAIN = 0
const KIND_FULL = 1
const KIND_CHAR = 2
const KIND_DECIMAL = 3
/**
 * data_type → which of the rules below applies, found once per distinct data_type (a few
 * dozen in any export) instead of a regex test and a lower-casing per row. Bounded, so an
 * export of odd types cannot grow it without limit.
 */
const TYPE_KINDS = new Map<string, number>()

/** An integer written in decimal digits with an optional minus, else undefined. */
function intOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined
  if (s.charCodeAt(0) !== 45) return ordinalOf(s)
  const v = ordinalOf(s.slice(1))
  return v === undefined ? undefined : -v
}

/**
 * The column type as the database would write it in DDL: MySQL's column_type as is; else
 * data_type with the length (character types) or precision and scale (numeric types) the
 * export gives in separate columns; PostgreSQL USER-DEFINED and ARRAY through udt_name.
 */
export function formatColumnType(f: {
  columnType?: string
  dataType?: string
  udtName?: string
  charLength?: string
  precision?: string
  scale?: string
}): string | undefined {
  return typeOf(f.columnType, f.dataType, f.udtName, f.charLength, f.precision, f.scale)
}

/** {@link formatColumnType} with positional arguments (no object per row on the hot path). */
export function typeOf(
  columnType: string | undefined,
  dt: string | undefined,
  udtName: string | undefined,
  charLength: string | undefined,
  precision: string | undefined,
  scale: string | undefined,
): string | undefined {
  if (columnType) return columnType
  if (!dt) return undefined
  if (dt === 'USER-DEFINED' && udtName) return udtName
  if (dt === 'ARRAY' && udtName) return udtName.replace(/^_/, '') + '[]'
  let kind = TYPE_KINDS.get(dt)
  if (kind === undefined) {
    const lower = dt.toLowerCase()
    // BigQuery and others write the full type
    kind = /[(<]/.test(dt) ? KIND_FULL : CHAR_TYPES.has(lower) ? KIND_CHAR : DECIMAL_TYPES.has(lower) ? KIND_DECIMAL : KIND_PLAIN
    if (TYPE_KINDS.size < 10_000) TYPE_KINDS.set(dt, kind)
  }
  if (kind === KIND_FULL) return dt
  if (kind === KIND_CHAR) {
    const len = intOf(charLength)
    if (len === -1) return `${dt}(max)` // SQL Server varchar(max)
    if (len !== undefined && len > 0) return `${dt}(${len})`
  }
  if (kind === KIND_DECIMAL) {
    const p = intOf(precision)
    const s = intOf(scale)
    if (p !== undefined) return `${dt}(${p},${s ?? 0})`
  }
  return dt
}

/** A non-negative integer written in decimal digits (ordinal_position), else undefined. */
export function ordinalOf(s: string): number | undefined {
  const n = s.length
  if (n === 0 || n > 9) return n > 9 && /^\d+$/.test(s) ? Number(s) : undefined
  let v = 0
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return undefined
    v = v * 10 + d
  }
  return v
}

/**
 * {@link ordinalOf} on the bytes b[a, e) (ASCII digits): the value, or -1 when they are not
 * 1 to 9 digits. Longer digit strings are valid ordinals too: a caller that gets -1 for them
 * must decide with {@link ordinalOf} on the text.
 */
export function ordinalOfBytes(b: Uint8Array, a: number, e: number): number {
  const n = e - a
  if (n === 0 || n > 9) return -1
  let v = 0
  for (let i = a; i < e; i++) {
    const d = b[i]! - 48
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/** column_key → is_pk: MySQL's `PRI` marks a primary-key column; any other value does not. */
export function isPrimaryKey(columnKey: string): boolean {
  return columnKey === 'PRI'
}

/** A column's Secoda description: its comment, none when the comment is empty. */
export function columnDescription(comment: string): string | undefined {
  return comment === '' ? undefined : comment
}

/**
 * Whether names can be written to the Secoda CSV as they are: the format forbids periods in
 * database, schema, table and column names (the validator reports them as CSV_NAME_PERIOD,
 * transforms/validate.ts).
 */
export function csvNameOk(name: string): boolean {
  return !name.includes('.')
}

/**
 * Names of one row → Secoda database and schema (docs/columns.md, "Names"):
 * a catalog of `def` (MySQL's constant) or empty means none; a MySQL export's schema is the
 * MySQL database and the Secoda database defaults to it; a name given nowhere is an error.
 */
export function resolveNames(
  catalog: string,
  schemaField: string,
  layout: { mysql: boolean; schema: number },
  opts: { database?: string; schema?: string },
  pos: Position,
): { database: string; schema: string } {
  const schema = schemaField !== '' ? schemaField : opts.schema
  if (schema === undefined || schema === '') {
    const why = layout.schema === -1 ? 'the export has no table_schema column' : 'its table_schema is empty'
    throw new SecodaError('COLUMNS_NAME_MISSING', `no schema name: ${why}; give it with --schema`, pos)
  }
  const noCatalog = catalog === '' || catalog === 'def'
  const mysql = layout.mysql || catalog === 'def'
  const database = opts.database ?? (noCatalog ? (mysql ? schema : undefined) : catalog)
  if (database === undefined || database === '') {
    throw new SecodaError(
      'COLUMNS_NAME_MISSING',
      `no database name: the export has no table_catalog${layout.mysql ? '' : ' and is not a MySQL export (where the schema would serve)'}; give it with --database`,
      pos,
    )
  }
  return { database, schema }
}

/**
 * The table resource of a table first seen at `src`: its type and comment come from the
 * tables export when that lists it (and its position then is the export's line).
 */
export function tableRecord(
  id: string,
  database: string,
  schema: string,
  name: string,
  src: { file?: string; line: number },
  tables: TablesInfo | undefined,
): Resource {
  const info = tables?.get(id)
  const r: Resource = { entity_type: 'table', databuilder_id: id, title: name }
  if (info?.description !== undefined) r.description = info.description
  if (info?.nativeType !== undefined) r.native_type = info.nativeType
  r.database = database
  r.schema = schema
  return withSource(r, info ? { file: info.file, line: info.line } : src)
}
