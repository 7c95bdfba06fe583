// pg_dump / pg_dumpall plain SQL → Secoda records (databases, schemas, tables, views,
// materialized views, columns with types, comments and primary keys; view lineage).
// Statements are parsed with libpg-query, PostgreSQL's own grammar compiled to WASM
// (docs/sql.md records why). Records are built at the end of input: primary keys and
// comments come after the CREATE statements in a dump (transforms/sql/catalog.ts).

import { loadModule, parseSync } from 'libpg-query'
import { SecodaError } from '../../lib/errors.js'
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
import {
  SqlCatalog,
  firstWords,
  sqlDefinition,
  type ColumnState,
  type RelationKind,
  type RelationRef,
  type RelationState,
} from './catalog.js'
import { pgViewResolver } from './pg-view-columns.js'
import type { ViewResolver } from './view-columns.js'

/** Options of the pg_dump source. */
export interface PgDumpOptions {
  /** Diagnostics (SQL_UNPARSED warnings) and counters (`pg_dump.*`) go here. Required, as for every source. */
  report: Report
  /** Secoda database name; wins over CREATE DATABASE / \connect in the dump. */
  database?: string
  /** Id builder (default: lower case, no prefix). */
  ids?: IdBuilder
  /** File name for diagnostics and record positions. */
  file?: string
  /** View column types and column-to-column lineage (docs/sql.md, "Column lineage"); default true. */
  columnLineage?: boolean
  /** A last statement cut short by the end of the input is a warning, not an INPUT_TRUNCATED error. */
  allowTruncated?: boolean
  /** Longest statement read whole, in bytes (default 64 MiB; see SqlSplitterOptions.maxStatement). */
  maxStatement?: number
}

/** {@link PgDumpOptions} with every default filled in. */
export type PgDumpSettings = Readonly<{
  report: Report
  /** undefined: the dump's own (CREATE DATABASE, \connect), or SQL_NO_DATABASE. */
  database: string | undefined
  ids: IdBuilder
  file: string | undefined
  columnLineage: boolean
  allowTruncated: boolean
}>

/** The source's options, normalised once: a frozen copy, defaults filled in. */
export function pgDumpSettings(options: PgDumpOptions): PgDumpSettings {
  return Object.freeze({
    report: options.report,
    database: options.database,
    ids: options.ids ?? createIdBuilder(),
    file: options.file,
    columnLineage: options.columnLineage ?? true,
    allowTruncated: options.allowTruncated === true,
  })
}

/** Counters of the source: bytes in, SQL statements read, records out. */
export interface PgDumpInfo extends StageInfo {
  statements: number
}

// The AST is PostgreSQL's parse tree as JSON; only the few node shapes read here are typed.
type Node = Record<string, unknown>
interface RangeVarNode {
  schemaname?: string
  relname: string
  catalogname?: string
}

let loaded: Promise<void> | undefined
/** Load the parser's WASM module once (async); the parse calls after it are synchronous. */
export function loadPgParser(): Promise<void> {
  loaded ??= loadModule()
  return loaded
}

/** Statements worth parsing: the rest of a dump (functions, grants, indexes, ...) is skipped unread. */
const WANTED =
  /^(?:create\s+(?:or\s+replace\s+)?(?:(?:global|local)\s+)?(?:(?:temp|temporary|unlogged)\s+)?(?:schema|table|view|recursive\s+view|materialized\s+view|foreign\s+table|database)\b|comment\s+on\s+(?:schema|table|view|materialized\s+view|foreign\s+table|column|database)\b|set\s+(?:session\s+)?search_path\b|alter\s+(?:table|foreign\s+table)\b[\s\S]*\bprimary\s+key\b|select\s+pg_catalog\.set_config\s*\(\s*'search_path'|create\s+(?:or\s+replace\s+)?rule\s+"_RETURN"\s)/i

const str = (n: unknown): string | undefined => {
  const s = (n as { String?: { sval?: string } } | undefined)?.String
  return s === undefined ? undefined : (s.sval ?? '')
}

/**
 * The stream-free core (lib/stream.ts protocol): feed bytes with {@link PgDumpConverter.push};
 * {@link PgDumpConverter.end} returns every record (keys and comments come after the
 * CREATEs in a dump, so records come at the end, pulled). Call {@link loadPgParser} (await)
 * before the first push; {@link createPgDumpTransform} does.
 */
export class PgDumpConverter implements StageCore<Uint8Array, SecodaRecord, PgDumpInfo> {
  readonly mode = BYTES_TO_RECORDS
  readonly info: PgDumpInfo = stageInfo({ statements: 0 })
  readonly report: Report
  readonly splitter: SqlSplitter
  private readonly catalog: SqlCatalog
  private readonly opts: PgDumpSettings
  private currentDb: string | undefined
  private searchPath: string[] = ['public']

  constructor(options: PgDumpOptions) {
    this.opts = pgDumpSettings(options)
    this.report = this.opts.report
    this.splitter = new SqlSplitter({ dialect: 'postgres', file: this.opts.file, maxStatement: options.maxStatement })
    this.catalog = new SqlCatalog({ ids: this.opts.ids, file: this.opts.file, report: this.report })
    this.currentDb = this.opts.database
  }

  /** The options, normalised. */
  get options(): PgDumpSettings {
    return this.opts
  }

  /** Feed bytes. Records are only produced by {@link end}. */
  push(bytes: Uint8Array, _emit: Emit<SecodaRecord>): void {
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)
    this.info.bytesIn += chunk.length
    for (const s of this.splitter.push(chunk)) this.statement(s)
  }

  /** End of input: the records of the whole dump. */
  end(_emit: Emit<SecodaRecord>): Iterable<SecodaRecord> {
    for (const s of this.splitter.end()) this.statement(s)
    this.report.bump('pg_dump.copy_lines_skipped', this.splitter.counters.copyLines)
    return this.records()
  }

  private *records(): Generator<SecodaRecord> {
    for (const r of this.catalog.records()) {
      this.info.recordsOut++
      yield r
    }
  }

  /** Handle one statement (exposed for tests). */
  statement(s: SqlStatement): void {
    this.info.statements++
    this.report.bump(`pg_dump.statements.${s.kind}`)
    if (s.kind === 'meta') return this.meta(s)
    if (s.kind !== 'sql' || !WANTED.test(s.text.slice(0, 200))) return
    let stmts: Node[]
    try {
      stmts = (parseSync(s.text) as { stmts?: { stmt: Node }[] }).stmts?.map((x) => x.stmt) ?? []
    } catch (e) {
      if (s.unterminated === true && !this.opts.allowTruncated) {
        this.report.error(
          'INPUT_TRUNCATED',
          `the input ends inside a statement (no ';' and it does not parse: ${(e as Error).message}): ${firstWords(s.text)}`,
          {
            file: this.opts.file,
            line: s.line,
          },
        )
        return
      }
      this.report.warn('SQL_UNPARSED', `cannot parse statement (${(e as Error).message}), skipped: ${firstWords(s.text)}`, {
        file: this.opts.file,
        line: s.line,
      })
      return
    }
    for (const st of stmts) this.node(st, s)
  }

  private meta(s: SqlStatement): void {
    const m = /^\\(?:connect|c)\s+(.*)$/.exec(s.text)
    if (!m) return // \restrict, \unrestrict, \set ... change no name
    const name = connectTarget(m[1]!)
    if (name !== undefined && this.opts.database === undefined) this.currentDb = name
  }

  /** The database objects belong to, or SQL_NO_DATABASE at this statement. */
  private db(s: SqlStatement): string {
    if (this.currentDb !== undefined) return this.currentDb
    throw new SecodaError(
      'SQL_NO_DATABASE',
      'the dump does not name its database (no CREATE DATABASE or \\connect before its first object): pass --database NAME',
      { file: this.opts.file, line: s.line },
    )
  }

  /** Schema an unqualified name is created in: the first usable search_path entry. */
  private createSchema(): string {
    return this.searchPath.find((x) => x !== 'pg_catalog' && x !== '$user') ?? 'public'
  }

  /** Resolve a (possibly unqualified) relation name against search_path and known relations. */
  private resolve(db: string, schema: string | undefined, name: string): RelationRef {
    if (schema !== undefined) return { database: db, schema, name }
    for (const sp of this.searchPath) {
      if (this.catalog.get(db, sp, name)) return { database: db, schema: sp, name }
    }
    return { database: db, schema: this.createSchema(), name }
  }

  private node(n: Node, s: SqlStatement): void {
    const [type, body] = Object.entries(n)[0] as [string, Node]
    switch (type) {
      case 'CreatedbStmt': {
        const name = body.dbname as string
        if (this.opts.database === undefined && this.currentDb === undefined) this.currentDb = name
        this.catalog.database(this.opts.database ?? name, s.line)
        return
      }
      case 'CreateSchemaStmt':
        this.catalog.schema(this.db(s), body.schemaname as string, s.line)
        return
      case 'CreateStmt':
        return this.createTable(body, s, body.partspec !== undefined ? 'partitioned table' : 'table')
      case 'CreateForeignTableStmt':
        return this.createTable(body.base as Node, s, 'foreign table')
      case 'ViewStmt':
        return this.createView(body, s)
      case 'CreateTableAsStmt':
        if (body.objtype === 'OBJECT_MATVIEW') return this.createMatView(body, s)
        return
      case 'CommentStmt':
        return this.comment(body, s)
      case 'RuleStmt':
        return this.returnRule(body, s)
      case 'AlterTableStmt':
        return this.alterTable(body, s)
      case 'VariableSetStmt':
        if (body.name === 'search_path') {
          const args = (body.args as Node[] | undefined) ?? []
          this.searchPath = args.map((a) => (a.A_Const as { sval?: { sval?: string } } | undefined)?.sval?.sval ?? '').flatMap(splitPath)
        }
        return
      case 'SelectStmt': {
        // SELECT pg_catalog.set_config('search_path', '', false) — what pg_dump 10.3+ writes
        const fc = ((body.targetList as Node[] | undefined)?.[0]?.ResTarget as Node | undefined)?.val as { FuncCall?: Node } | undefined
        const args = fc?.FuncCall?.args as Node[] | undefined
        const val = (args?.[1]?.A_Const as { sval?: { sval?: string } } | undefined)?.sval?.sval
        if (val !== undefined) this.searchPath = splitPath(val)
        return
      }
    }
  }

  private createTable(body: Node, s: SqlStatement, kind: RelationKind): void {
    const db = this.db(s)
    const rv = body.relation as RangeVarNode
    const ref = this.resolveCreate(db, rv)
    const text = Buffer.from(s.text)
    const columns: ColumnState[] = []
    const pk: string[] = []
    const elts = (body.tableElts as Node[] | undefined) ?? []
    const starts = elts.map((e) => (Object.values(e)[0] as { location?: number }).location ?? -1)
    elts.forEach((e, i) => {
      if (e.ColumnDef) {
        const cd = e.ColumnDef as Node
        const tn = cd.typeName as { location?: number } | undefined
        const cons = ((cd.constraints as Node[] | undefined) ?? []).map((c) => c.Constraint as Node)
        const col: ColumnState = { name: cd.colname as string, pk: false }
        if (tn?.location !== undefined && tn.location >= 0) {
          const next = starts.slice(i + 1).find((x) => x > tn.location!) ?? text.length
          col.type = typeText(text, tn.location, next)
        }
        if (cons.some((c) => c.contype === 'CONSTR_PRIMARY')) col.pk = true
        columns.push(col)
      } else if (e.Constraint) {
        const c = e.Constraint as Node
        if (c.contype === 'CONSTR_PRIMARY') pk.push(...((c.keys as unknown[] | undefined) ?? []).map((k) => str(k)!))
      }
    })
    for (const c of columns) if (pk.includes(c.name)) c.pk = true
    const parents = ((body.inhRelations as Node[] | undefined) ?? []).map((r) => {
      const p = r.RangeVar as RangeVarNode
      return this.resolve(db, p.schemaname, p.relname)
    })
    this.catalog.addRelation({ ...ref, kind, columns, reads: [], parents, line: s.line })
    // a PRIMARY KEY on an inherited column (PARTITION OF ... (PRIMARY KEY (id)))
    const own = new Set(columns.map((c) => c.name))
    const inheritedPk = pk.filter((k) => !own.has(k))
    if (inheritedPk.length > 0) this.catalog.setPrimaryKey(ref.database, ref.schema, ref.name, inheritedPk)
    this.report.bump('pg_dump.tables')
  }

  private resolveCreate(db: string, rv: { schemaname?: string; relname: string }): RelationRef {
    return { database: db, schema: rv.schemaname ?? this.createSchema(), name: rv.relname }
  }

  private createView(body: Node, s: SqlStatement): void {
    const db = this.db(s)
    const ref = this.resolveCreate(db, body.view as RangeVarNode)
    const aliases = ((body.aliases as unknown[] | undefined) ?? []).map((a) => str(a)!)
    this.addView(ref, 'view', body.query as Node, aliases, s)
  }

  private createMatView(body: Node, s: SqlStatement): void {
    const db = this.db(s)
    const into = body.into as { rel: RangeVarNode; colNames?: unknown[] }
    const ref = this.resolveCreate(db, into.rel)
    const aliases = (into.colNames ?? []).map((a) => str(a)!)
    this.addView(ref, 'materialized view', body.query as Node, aliases, s)
  }

  private addView(ref: RelationRef, kind: RelationKind, query: Node, aliases: string[], s: SqlStatement): void {
    const names = outputNames(query)
    aliases.forEach((a, i) => {
      names[i] = a
    })
    const columns: ColumnState[] = names.map((name) => ({ name, pk: false }))
    const relations = new Map<object, RelationRef>()
    const reads = this.viewReads(query, ref.database, relations)
    const resolver = this.columnResolver(query, relations)
    const rel: RelationState = {
      ...ref,
      kind,
      columns,
      reads,
      parents: [],
      definition: sqlDefinition(s.text + ';'),
      line: s.line,
      resolver,
    }
    this.catalog.addRelation(rel)
    // resolved now, so the parse tree is not held to the end (pg_dump writes what a view reads
    // before the view; a pg_dump 16+ placeholder view already has its final column types)
    this.catalog.resolveView(rel)
    this.report.bump('pg_dump.views')
  }

  /**
   * `CREATE RULE "_RETURN" AS ON SELECT TO v DO INSTEAD SELECT ...`: how pg_dump before 16
   * wrote a view caught in a dependency loop — first as a table, then this rule turns it
   * into a view. The table's columns (with their real types) stay; it becomes a view reading
   * what the rule's SELECT reads.
   */
  private returnRule(body: Node, s: SqlStatement): void {
    const actions = (body.actions as Node[] | undefined) ?? []
    if (body.rulename !== '_RETURN' || body.event !== 'CMD_SELECT' || actions.length !== 1) return
    const db = this.db(s)
    const rv = body.relation as RangeVarNode
    const ref = this.resolve(db, rv.schemaname, rv.relname)
    const r = this.catalog.get(ref.database, ref.schema, ref.name)
    if (!r) return
    r.kind = 'view'
    r.definition = sqlDefinition(s.text + ';')
    const relations = new Map<object, RelationRef>()
    r.reads = this.viewReads(actions[0]!, ref.database, relations)
    r.resolver = this.columnResolver(actions[0]!, relations)
    this.catalog.resolveView(r)
  }

  /**
   * The column resolver of a view (undefined with column lineage off). Relation names are
   * resolved now, against the search_path in force; the columns at the end of input.
   */
  private columnResolver(query: Node, relations: Map<object, RelationRef>): ViewResolver | undefined {
    return this.opts.columnLineage ? pgViewResolver(query, relations) : undefined
  }

  /** Relations a query reads (every RangeVar), without its CTE names, resolved now. */
  private viewReads(query: Node, db: string, relations: Map<object, RelationRef>): RelationRef[] {
    const ctes = new Set<string>()
    const rangeVars: RangeVarNode[] = []
    walk(query, (k, v) => {
      if (k === 'RangeVar') rangeVars.push(v as unknown as RangeVarNode)
      else if (k === 'CommonTableExpr') ctes.add((v as { ctename: string }).ctename)
    })
    const reads: RelationRef[] = []
    for (const rv of rangeVars) {
      const ref = this.resolve(db, rv.schemaname, rv.relname)
      relations.set(rv, ref) // for the column resolver, which tells CTE names apart in scope
      if (rv.schemaname === undefined && ctes.has(rv.relname)) continue
      reads.push(ref)
    }
    return reads
  }

  private comment(body: Node, s: SqlStatement): void {
    const text = body.comment as string | undefined // absent: COMMENT ... IS NULL
    const obj = body.object as Node
    const items = ((obj.List as { items?: unknown[] } | undefined)?.items ?? []).map((x) => str(x)!)
    const db = this.db(s)
    let ok = true
    switch (body.objtype) {
      case 'OBJECT_DATABASE': {
        const name = this.opts.database ?? str(obj)!
        this.catalog.database(name, s.line)
        ok = this.catalog.describeDatabase(name, text)
        break
      }
      case 'OBJECT_SCHEMA': {
        const name = str(obj)!
        this.catalog.schema(db, name, s.line)
        ok = this.catalog.describeSchema(db, name, text)
        break
      }
      case 'OBJECT_TABLE':
      case 'OBJECT_VIEW':
      case 'OBJECT_MATVIEW':
      case 'OBJECT_FOREIGN_TABLE': {
        const name = items[items.length - 1]!
        const ref = this.resolve(db, items.length > 1 ? items[items.length - 2] : undefined, name)
        const r = this.catalog.get(ref.database, ref.schema, ref.name)
        if (r) r.description = text
        ok = r !== undefined
        break
      }
      case 'OBJECT_COLUMN': {
        const col = items[items.length - 1]!
        const name = items[items.length - 2]!
        const ref = this.resolve(db, items.length > 2 ? items[items.length - 3] : undefined, name)
        ok = this.catalog.describeColumn(ref.database, ref.schema, ref.name, col, text)
        break
      }
    }
    if (!ok) this.report.bump('pg_dump.comment_on_unknown_object')
  }

  private alterTable(body: Node, s: SqlStatement): void {
    const db = this.db(s)
    const rv = body.relation as RangeVarNode
    const ref = this.resolve(db, rv.schemaname, rv.relname)
    for (const c of (body.cmds as Node[] | undefined) ?? []) {
      const cmd = c.AlterTableCmd as Node | undefined
      const con = (cmd?.def as Node | undefined)?.Constraint as Node | undefined
      if (cmd?.subtype !== 'AT_AddConstraint' || con?.contype !== 'CONSTR_PRIMARY') continue
      const keys = ((con.keys as unknown[] | undefined) ?? []).map((k) => str(k)!)
      if (!this.catalog.setPrimaryKey(ref.database, ref.schema, ref.name, keys)) this.report.bump('pg_dump.pk_on_unknown_table')
    }
  }
}

/** `a, "B", pg_catalog` → schema names (quotes removed, unquoted lower-cased). */
function splitPath(v: string): string[] {
  const out: string[] = []
  for (const raw of v.split(',')) {
    const t = raw.trim()
    if (t === '') continue
    out.push(t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replaceAll('""', '"') : t.toLowerCase())
  }
  return out
}

/** The database a psql `\connect` names: `\connect db`, `\connect -reuse-previous=on "dbname='db'"`. */
export function connectTarget(args: string): string | undefined {
  const words: string[] = []
  const re = /"((?:[^"]|"")*)"|'((?:[^'\\]|\\.|'')*)'|(\S+)/g
  for (let m = re.exec(args); m; m = re.exec(args)) {
    words.push(
      m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1').replaceAll("''", "'") : m[3]!,
    )
  }
  for (const w of words) {
    if (w.startsWith('-')) continue
    const kv = /(?:^|\s)dbname\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/.exec(w)
    if (kv) return kv[1] !== undefined ? kv[1].replace(/\\(.)/g, '$1') : kv[2]
    if (w.includes('=')) continue
    return w
  }
  return undefined
}

/** The column type as written: from its start to the first top-level constraint keyword, comma or paren. */
function typeText(text: Buffer, start: number, limit: number): string {
  const s = text.toString('utf8', start, Math.min(limit, text.length))
  let depth = 0
  let i = 0
  let end = s.length
  const stop = /^(?:collate|compression|storage|not|null|default|constraint|primary|unique|check|references|generated|options)\b/i
  while (i < s.length) {
    const c = s[i]!
    if (c === '"') {
      const j = s.indexOf('"', i + 1)
      i = j === -1 ? s.length : j + 1
      continue
    }
    if (c === '(' || c === '[') depth++
    else if (c === ')' || c === ']') {
      if (depth === 0) {
        end = i
        break
      }
      depth--
    } else if (c === ',' && depth === 0) {
      end = i
      break
    } else if (depth === 0 && /[A-Za-z]/.test(c) && (i === 0 || /\s/.test(s[i - 1]!)) && i > 0 && stop.test(s.slice(i, i + 12))) {
      end = i
      break
    }
    i++
  }
  return s.slice(0, end).replace(/\s+/g, ' ').trim()
}

/** Output column names of a SELECT (the left branch of a set operation). */
function outputNames(q: Node): string[] {
  let sel = q.SelectStmt as Node | undefined
  while (sel && sel.op !== undefined && sel.op !== 'SETOP_NONE' && sel.larg) sel = sel.larg as Node
  const out: string[] = []
  for (const t of (sel?.targetList as Node[] | undefined) ?? []) {
    const rt = t.ResTarget as { name?: string; val?: Node }
    if (rt.name !== undefined) {
      out.push(rt.name)
      continue
    }
    out.push(exprName(rt.val))
  }
  return out
}

function exprName(v: Node | undefined): string {
  if (!v) return '?column?'
  if (v.ColumnRef) {
    const f = (v.ColumnRef as { fields: Node[] }).fields
    return str(f[f.length - 1]) ?? '?column?'
  }
  if (v.TypeCast) return exprName((v.TypeCast as { arg?: Node }).arg)
  if (v.FuncCall) {
    const f = (v.FuncCall as { funcname: Node[] }).funcname
    return str(f[f.length - 1]) ?? '?column?'
  }
  return '?column?'
}

/** Visit every `{Kind: body}` node of a parse tree. */
function walk(n: unknown, visit: (kind: string, body: Node) => void): void {
  if (Array.isArray(n)) {
    for (const x of n) walk(x, visit)
    return
  }
  if (n === null || typeof n !== 'object') return
  for (const [k, v] of Object.entries(n as Node)) {
    if (k.length > 0 && k[0]! >= 'A' && k[0]! <= 'Z' && v !== null && typeof v === 'object' && !Array.isArray(v)) visit(k, v as Node)
    walk(v, visit)
  }
}

/**
 * A Transform from dump bytes to Secoda records (objectMode on the readable side). The
 * records come at the end of input; the parser module is loaded when the stream is built.
 */
export function createPgDumpTransform(options: PgDumpOptions): StageStream<PgDumpConverter> {
  return asStream(new PgDumpConverter(options), { init: loadPgParser })
}

/**
 * The same conversion as an async generator over byte chunks (e.g. `openInput(file)`):
 * the records come once the input has ended.
 */
export async function* pgDumpRecords(source: AsyncIterable<Uint8Array>, options: PgDumpOptions): AsyncGenerator<SecodaRecord> {
  await loadPgParser()
  yield* iterateStage(new PgDumpConverter(options), source)
}
