// mysqldump / MariaDB dump SQL → Secoda records (schemas, tables, views, columns with
// types, comments and primary keys; view lineage). The stage: bytes → statements (the SQL
// splitter) → the DDL reader (transforms/sql/mysql-ddl.ts) → names qualified here → the
// dump's catalog (transforms/sql/catalog.ts) → records at the end of input.
//
// Naming, all of it in this file (mysqlDumpSettings, schemaName, ref): the MySQL database
// is the Secoda *schema*; the Secoda database is --database, defaulting to that same name.

import { SecodaError, isSecodaError } from '../../lib/errors.js'
import { createIdBuilder, type IdBuilder } from '../../lib/ids.js'
import type { SecodaRecord } from '../../lib/records.js'
import type { Report } from '../../lib/report.js'
import { SqlSplitter, type SqlStatement } from '../../lib/scan/sql-splitter.js'
import {
  BYTES_TO_RECORDS,
  type Emit,
  type StageCore,
  type StageInfo,
  type StageStream,
  asStream,
  iterateStage,
  stageInfo,
} from '../../lib/stream.js'
import { SqlCatalog, firstWords, type RelationRef, type RelationState } from './catalog.js'
import { MysqlDdlReader, type MysqlDdlTarget, type Token, isMysqlDdl, tokenizeMysql } from './mysql-ddl.js'
import { mysqlViewResolver } from './mysql-view-columns.js'
import type { ViewResolver } from './view-columns.js'

export { mysqlReads, tokenizeMysql, type Token, type TokenKind } from './mysql-ddl.js'

/** Options of the mysqldump source. */
export interface MysqlDumpOptions {
  /** Diagnostics (SQL_UNPARSED warnings) and counters (`mysql_dump.*`) go here. Required, as for every source. */
  report: Report
  /** Secoda database; default: the Secoda schema's name (the MySQL database's). */
  database?: string
  /** Secoda schema (MySQL database) name; wins over CREATE DATABASE / USE / the header. */
  schema?: string
  /** Id builder (default: lower case, no prefix). */
  ids?: IdBuilder
  /** File name for diagnostics and record positions. */
  file?: string
  /** View column types and comments passed through, and column-to-column lineage (docs/sql.md, "Column lineage"); default true. */
  columnLineage?: boolean
  /** A last statement cut short by the end of the input is a warning, not an INPUT_TRUNCATED error. */
  allowTruncated?: boolean
  /** Longest statement read whole, in bytes (default 64 MiB; see SqlSplitterOptions.maxStatement). */
  maxStatement?: number
}

/** {@link MysqlDumpOptions} with every default filled in. */
export type MysqlDumpSettings = Readonly<{
  report: Report
  /** undefined: each object's Secoda schema name (see ref()). */
  database: string | undefined
  /** undefined: the dump's own database (header, USE, CREATE DATABASE), when it names one. */
  schema: string | undefined
  ids: IdBuilder
  file: string | undefined
  columnLineage: boolean
  allowTruncated: boolean
}>

/** The source's options, normalised once: a frozen copy, defaults filled in. */
export function mysqlDumpSettings(options: MysqlDumpOptions): MysqlDumpSettings {
  return Object.freeze({
    report: options.report,
    database: options.database,
    schema: options.schema,
    ids: options.ids ?? createIdBuilder(),
    file: options.file,
    columnLineage: options.columnLineage ?? true,
    allowTruncated: options.allowTruncated === true,
  })
}

/** Counters of the source: bytes in, SQL statements read, records out. */
export interface MysqlDumpInfo extends StageInfo {
  statements: number
}

/**
 * The stream-free core (lib/stream.ts protocol): feed bytes with
 * {@link MysqlDumpConverter.push}; {@link MysqlDumpConverter.end} returns every record (a
 * dump states keys and comments after its CREATEs, so records come at the end, pulled).
 */
export class MysqlDumpConverter implements StageCore<Uint8Array, SecodaRecord, MysqlDumpInfo>, MysqlDdlTarget {
  readonly mode = BYTES_TO_RECORDS
  readonly info: MysqlDumpInfo = stageInfo({ statements: 0 })
  readonly options: MysqlDumpSettings
  readonly report: Report
  readonly splitter: SqlSplitter
  private readonly catalog: SqlCatalog
  private readonly reader = new MysqlDdlReader(this)
  /** The dump's own database: from its header, then USE / CREATE DATABASE. */
  private current: string | undefined
  private head = ''
  private headDone = false

  constructor(options: MysqlDumpOptions) {
    this.options = mysqlDumpSettings(options)
    this.report = this.options.report
    this.splitter = new SqlSplitter({ dialect: 'mysql', file: this.options.file, maxStatement: options.maxStatement })
    this.catalog = new SqlCatalog({ ids: this.options.ids, file: this.options.file, report: this.report })
  }

  /** Feed bytes. Records are only produced by {@link end}. */
  push(bytes: Uint8Array, _emit: Emit<SecodaRecord>): void {
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)
    this.info.bytesIn += chunk.length
    if (!this.headDone) this.header(chunk)
    for (const s of this.splitter.push(chunk)) this.statement(s)
  }

  /** End of input: the records of the whole dump. */
  end(_emit: Emit<SecodaRecord>): Iterable<SecodaRecord> {
    if (!this.headDone) this.header(Buffer.alloc(0), true)
    for (const s of this.splitter.end()) this.statement(s)
    return this.records()
  }

  private *records(): Generator<SecodaRecord> {
    for (const r of this.catalog.records()) {
      this.info.recordsOut++
      yield r
    }
  }

  /** mysqldump's `-- Host: localhost    Database: NAME` header line (a comment the splitter drops). */
  private header(chunk: Buffer, final = false): void {
    this.head += chunk.toString('latin1', 0, Math.min(chunk.length, 4096 - this.head.length))
    const m = /^-- Host: .*?Database: (.+?)\s*$/m.exec(this.head)
    if (m && /\n/.test(this.head.slice(m.index))) {
      if (this.current === undefined) this.current = Buffer.from(m[1]!, 'latin1').toString('utf8')
      this.headDone = true
    } else if (this.head.length >= 4096 || final) this.headDone = true
  }

  /**
   * Secoda schema (MySQL database) for an object, or SQL_NO_DATABASE here. A name the
   * statement qualifies explicitly stays, unless it is the dump's own database, which
   * --schema renames.
   */
  private schemaName(s: SqlStatement, explicit?: string): string {
    if (explicit !== undefined && explicit !== this.current) return explicit
    const v = this.options.schema ?? this.current
    if (v !== undefined) return v
    throw new SecodaError(
      'SQL_NO_DATABASE',
      'the dump does not name its database (no CREATE DATABASE, USE or "-- Host: ... Database:" header before its first table): pass --schema NAME',
      { file: this.options.file, line: s.line },
    )
  }

  /** A name as a statement writes it → database (--database, or the schema's name), schema, name. */
  ref(s: SqlStatement, q: { schema?: string; name: string }): RelationRef {
    const schema = this.schemaName(s, q.schema)
    return { database: this.options.database ?? schema, schema, name: q.name }
  }

  /** Handle one statement (exposed for tests). */
  statement(s: SqlStatement): void {
    this.info.statements++
    this.report.bump(`mysql_dump.statements.${s.kind}`)
    if (s.kind !== 'sql' || !isMysqlDdl(s.text.slice(0, 300))) return
    try {
      this.reader.read(tokenizeMysql(s.text), s)
    } catch (e) {
      if (isSecodaError(e)) throw e
      if (s.unterminated === true && !this.options.allowTruncated) {
        this.report.error(
          'INPUT_TRUNCATED',
          `the input ends inside a statement (no ';' and it cannot be read: ${(e as Error).message}): ${firstWords(s.text)}`,
          {
            file: this.options.file,
            line: s.line,
          },
        )
        return
      }
      this.report.warn('SQL_UNPARSED', `cannot read statement (${(e as Error).message}), skipped: ${firstWords(s.text)}`, {
        file: this.options.file,
        line: s.line,
      })
    }
  }

  // ---------------------------------------------------------------- MysqlDdlTarget

  /** @internal */
  use(name: string): void {
    this.current = name
  }

  /** @internal */
  createDatabase(name: string, s: SqlStatement): void {
    this.current ??= name
    const schema = this.schemaName(s, name)
    this.catalog.schema(this.options.database ?? schema, schema, s.line)
  }

  /** @internal */
  addRelation(rel: RelationState): void {
    this.catalog.addRelation(rel)
  }

  /** @internal */
  viewResolver(tokens: readonly Token[], start: number, s: SqlStatement): ViewResolver | undefined {
    if (!this.options.columnLineage) return undefined
    // table names are resolved now, against the database in force at this statement
    const resolver = mysqlViewResolver(tokens, start, (q) => this.ref(s, q))
    if (!resolver) this.report.bump('mysql_dump.views_not_resolved')
    return resolver
  }

  /** @internal */
  setPrimaryKey(ref: RelationRef, keys: string[]): void {
    if (!this.catalog.setPrimaryKey(ref.database, ref.schema, ref.name, keys)) this.report.bump('mysql_dump.pk_on_unknown_table')
  }

  /** @internal */
  bump(counter: string): void {
    this.report.bump(counter)
  }
}

/** A Transform from dump bytes to Secoda records (objectMode readable side), emitted at the end. */
export function createMysqlDumpTransform(options: MysqlDumpOptions): StageStream<MysqlDumpConverter> {
  return asStream(new MysqlDumpConverter(options))
}

/**
 * The same conversion as an async generator over byte chunks (e.g. `openInput(file)`):
 * the records come once the input has ended.
 */
export function mysqlDumpRecords(source: AsyncIterable<Uint8Array>, options: MysqlDumpOptions): AsyncGenerator<SecodaRecord> {
  return iterateStage(new MysqlDumpConverter(options), source)
}
