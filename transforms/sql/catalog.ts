// What a SQL dump declares (databases, schemas, tables, views, columns, comments, primary
// keys, view reads) → Secoda records. Shared by the pg_dump and mysqldump sources: dumps
// state a table's primary key and comments in statements AFTER its CREATE (ALTER TABLE,
// COMMENT ON), so the state of every relation is held until the end of the input and the
// records are built then. Memory is proportional to the schema, never to the data.

import type { IdBuilder } from '../../lib/ids.js'
import { internalId, withSource, type LineageEdge, type LineageId, type Resource, type SecodaRecord } from '../../lib/records.js'
import type { Report } from '../../lib/report.js'
import type { KnownColumn, RelationRef, ViewColumns, ViewResolver } from './view-columns.js'

/** A column as a dump declares it. */
export interface ColumnState {
  name: string
  /** The type as written in the dump, e.g. `character varying(25)`; absent for view columns. */
  type?: string
  description?: string
  pk: boolean
  /**
   * Known only from a later ALTER TABLE / COMMENT ON COLUMN, not from the CREATE: an
   * inherited or partition-parent column, matched against the parents' columns at the end.
   */
  placeholder?: boolean
}

/** A relation's kind, written as `native_type`. */
export type RelationKind = 'table' | 'partitioned table' | 'foreign table' | 'view' | 'materialized view'

/** A reference to a relation by name (defined beside the column-lineage model, which needs it too). */
export type { RelationRef }

/** A table or view as a dump declares it. */
export interface RelationState extends RelationRef {
  kind: RelationKind
  columns: ColumnState[]
  description?: string
  /** Markdown (a view's SQL in a fenced block). */
  definition?: string
  /** Relations a view reads, in first-use order. */
  reads: RelationRef[]
  /** INHERITS parents and the PARTITION OF parent: their columns come first. */
  parents: RelationRef[]
  /** Line of the CREATE statement. */
  line: number
  /** A view's column resolver (column types, column lineage), called at the end of input. */
  resolver?: ViewResolver
}

/** Options of {@link SqlCatalog}. */
export interface SqlCatalogOptions {
  ids: IdBuilder
  /** File name attached to the records' source positions. */
  file?: string
  /** Where the column-lineage counters go (docs/sql.md, "Column lineage"). */
  report?: Report
}

const key = (d: string, s: string, n?: string): string => (n === undefined ? `${d}\u0000${s}` : `${d}\u0000${s}\u0000${n}`)

/** Collects one dump's objects; {@link SqlCatalog.records} builds the Secoda records at the end. */
export class SqlCatalog {
  private readonly ids: IdBuilder
  private readonly file: string | undefined
  private readonly databases = new Map<string, { name: string; description?: string; line: number }>()
  private readonly schemas = new Map<string, { database: string; name: string; description?: string; line: number }>()
  private readonly relations = new Map<string, RelationState>()
  private readonly report: Report | undefined
  /** Resolved views; null while one is being resolved (a loop reads it without types). */
  private readonly resolved = new Map<RelationState, ViewColumns | null>()
  private readonly known = new WeakMap<RelationState, KnownColumn[]>()

  constructor(options: SqlCatalogOptions) {
    this.ids = options.ids
    this.file = options.file
    this.report = options.report
  }

  /** Number of relations held. */
  get size(): number {
    return this.relations.size
  }

  /** Declare a database (idempotent). */
  database(name: string, line: number): void {
    if (!this.databases.has(name)) this.databases.set(name, { name, line })
  }

  /** Declare a schema (idempotent); declares its database too. */
  schema(database: string, name: string, line: number): void {
    this.database(database, line)
    const k = key(database, name)
    if (!this.schemas.has(k)) this.schemas.set(k, { database, name, line })
  }

  /**
   * Add a relation, or replace one (mysqldump's stand-in for a view; pg_dump 16+'s dummy
   * `CREATE VIEW` later redone by `CREATE OR REPLACE VIEW`). Comments given in between stay.
   */
  addRelation(rel: RelationState): void {
    this.schema(rel.database, rel.schema, rel.line)
    const k = key(rel.database, rel.schema, rel.name)
    const old = this.relations.get(k)
    if (old) {
      rel.description ??= old.description
      for (const c of rel.columns) c.description ??= old.columns.find((o) => o.name === c.name)?.description
    }
    this.relations.set(k, rel)
  }

  /** A relation by name. */
  get(database: string, schema: string, name: string): RelationState | undefined {
    return this.relations.get(key(database, schema, name))
  }

  /** True when a schema was declared. */
  hasSchema(database: string, schema: string): boolean {
    return this.schemas.has(key(database, schema))
  }

  /** Set a database's description; false when the database is unknown. */
  describeDatabase(name: string, description: string | undefined): boolean {
    const d = this.databases.get(name)
    if (!d) return false
    d.description = description
    return true
  }

  /** Set a schema's description; false when the schema is unknown. */
  describeSchema(database: string, name: string, description: string | undefined): boolean {
    const s = this.schemas.get(key(database, name))
    if (!s) return false
    s.description = description
    return true
  }

  /** Mark primary-key columns of a relation; false when it is unknown. */
  setPrimaryKey(database: string, schema: string, name: string, columns: string[]): boolean {
    const r = this.get(database, schema, name)
    if (!r) return false
    for (const c of r.columns) if (columns.includes(c.name)) c.pk = true
    // columns inherited from a parent are resolved at the end: remember the key there too
    const missing = columns.filter((c) => !r.columns.some((x) => x.name === c))
    for (const m of missing) r.columns.push({ name: m, pk: true, placeholder: true })
    return true
  }

  /** Columns of a relation with inherited/partition-parent columns first (PostgreSQL order). */
  private resolvedColumns(r: RelationState, seen: Set<RelationState> = new Set()): ColumnState[] {
    const own = r.columns.filter((c) => !c.placeholder)
    const placeholders = r.columns.filter((c) => c.placeholder)
    if (r.parents.length === 0 || seen.has(r)) return own
    seen.add(r)
    const out: ColumnState[] = []
    for (const p of r.parents) {
      const pr = this.get(p.database, p.schema, p.name)
      if (!pr) continue
      for (const c of this.resolvedColumns(pr, seen)) {
        if (!out.some((x) => x.name === c.name)) out.push({ name: c.name, type: c.type, description: undefined, pk: false })
      }
    }
    for (const c of own) {
      const i = out.findIndex((x) => x.name === c.name)
      if (i >= 0) out[i] = { ...c, type: c.type ?? out[i]!.type }
      else out.push(c)
    }
    for (const ph of placeholders) {
      const c = out.find((x) => x.name === ph.name)
      if (c && ph.pk) c.pk = true
    }
    // a COMMENT ON COLUMN for an inherited column lands on the placeholder-free list below
    for (const c of r.columns) {
      if (c.description === undefined) continue
      const t = out.find((x) => x.name === c.name)
      if (t) t.description = c.description
    }
    return out
  }

  /** Set a column's description; false when the relation is unknown. */
  describeColumn(database: string, schema: string, name: string, column: string, description: string | undefined): boolean {
    const r = this.get(database, schema, name)
    if (!r) return false
    const c = r.columns.find((x) => x.name === column)
    if (c) c.description = description
    else r.columns.push({ name: column, pk: false, description, placeholder: true })
    return true
  }

  /** Build every record: databases, schemas, then each relation and its columns, then lineage. */
  *records(): Generator<SecodaRecord> {
    const ids = this.ids
    const src = (line: number) => ({ file: this.file, line })
    for (const d of this.databases.values()) {
      const r: Resource = { entity_type: 'database', databuilder_id: ids.database(d.name), title: d.name }
      if (d.description !== undefined) r.description = d.description
      yield withSource(r, src(d.line))
    }
    for (const s of this.schemas.values()) {
      const r: Resource = {
        entity_type: 'schema',
        databuilder_id: ids.schema(s.database, s.name),
        parent_databuilder_id: ids.database(s.database),
        title: s.name,
        database: s.database,
      }
      if (s.description !== undefined) r.description = s.description
      yield withSource(r, src(s.line))
    }
    let typed = 0
    let untyped = 0
    for (const rel of this.relations.values()) {
      const id = ids.table(rel.database, rel.schema, rel.name)
      const t: Resource = {
        entity_type: 'table',
        databuilder_id: id,
        parent_databuilder_id: ids.schema(rel.database, rel.schema),
        title: rel.name,
        native_type: rel.kind,
        database: rel.database,
        schema: rel.schema,
      }
      if (rel.description !== undefined) t.description = rel.description
      if (rel.definition !== undefined) t.definition = rel.definition
      yield withSource(t, src(rel.line))
      let pos = 0
      const view = this.viewColumns(rel)
      for (const c of this.resolvedColumns(rel)) {
        const col: Resource = {
          entity_type: 'column',
          databuilder_id: ids.columnOf(id, c.name),
          parent_databuilder_id: id,
          title: c.name,
          sort_order: ++pos,
        }
        const derived = view?.columns[pos - 1]
        const description = c.description ?? derived?.description
        const type = c.type ?? derived?.type
        if (description !== undefined) col.description = description
        if (type !== undefined) col.type = type
        if (view) {
          if (type !== undefined) typed++
          else untyped++
        }
        col.is_pk = c.pk
        yield withSource(col, src(rel.line))
      }
    }
    for (const rel of this.relations.values()) {
      const to = internalId(ids.table(rel.database, rel.schema, rel.name))
      const done = new Set<string>()
      for (const ref of rel.reads) {
        const k = key(ref.database, ref.schema, ref.name)
        if (done.has(k)) continue
        done.add(k)
        const from: LineageId = this.relations.has(k)
          ? internalId(ids.table(ref.database, ref.schema, ref.name))
          : { type: 'external_table', database: ref.database, schema: ref.schema, table: ref.name }
        const e: LineageEdge = { from_identifier: from, to_identifier: to }
        yield withSource(e, src(rel.line))
      }
    }
    if (typed > 0) this.report?.bump('view_columns.typed', typed)
    if (untyped > 0) this.report?.bump('view_columns.untyped', untyped)
    const counts = { edges: 0, unknown: 0, other: 0 }
    for (const rel of this.relations.values()) yield* this.columnEdges(rel, counts)
    if (counts.edges > 0) this.report?.bump('lineage.column_edges', counts.edges)
    if (counts.unknown > 0) this.report?.bump('lineage.column_sources_unknown', counts.unknown)
    if (counts.other > 0) this.report?.bump('lineage.column_reads_outside_select', counts.other)
  }

  /**
   * Resolve a view's columns now and let go of its resolver (and the parse tree it holds);
   * the records at the end use the result.
   */
  resolveView(rel: RelationState): void {
    const v = this.viewColumns(rel)
    if (v) rel.resolver = () => v
  }

  /**
   * A view's resolved columns (memoised); undefined for a table or with column lineage off.
   * A view read while it is being resolved (a dependency loop) is read without types.
   */
  private viewColumns(rel: RelationState): ViewColumns | undefined {
    if (!rel.resolver) return undefined
    const done = this.resolved.get(rel)
    if (done !== undefined) return done ?? undefined
    this.resolved.set(rel, null)
    const v = rel.resolver((ref) => this.knownColumns(ref))
    this.resolved.set(rel, v)
    return v
  }

  /**
   * A relation's columns with their types (a view's as resolved), as the resolvers see them;
   * kept per relation object (a replaced relation is a new object).
   */
  private knownColumns(ref: RelationRef): KnownColumn[] | undefined {
    const rel = this.get(ref.database, ref.schema, ref.name)
    if (!rel) return undefined
    let cols = this.known.get(rel)
    if (cols === undefined) {
      const view = this.viewColumns(rel)
      cols = this.resolvedColumns(rel).map((c, i) => {
        const d = view?.columns[i]
        return { name: c.name, type: c.type ?? d?.type, description: c.description ?? d?.description }
      })
      // a view in a dependency loop is read untyped while it resolves: not kept
      if (!rel.resolver || this.resolved.get(rel)) this.known.set(rel, cols)
    }
    return cols
  }

  /** A view's column edges: from each column its SELECT list reads to the view's column. */
  private *columnEdges(rel: RelationState, counts: { edges: number; unknown: number; other: number }): Generator<LineageEdge> {
    const view = this.viewColumns(rel)
    if (!view) return
    const ids = this.ids
    const id = ids.table(rel.database, rel.schema, rel.name)
    const cols = this.resolvedColumns(rel)
    const selected = new Set<string>()
    for (let i = 0; i < cols.length; i++) {
      const to = internalId(ids.columnOf(id, cols[i]!.name))
      for (const s of view.columns[i]?.sources ?? []) {
        const k = key(s.database, s.schema, s.name)
        selected.add(key(k, s.column))
        const src = this.relations.get(k)
        let from: LineageId
        if (src) {
          // a name the resolver could not tie to a declared column: no edge rather than a dangling id
          if (!this.knownColumns(src)!.some((c) => c.name === s.column)) {
            counts.unknown++
            continue
          }
          from = internalId(ids.columnOf(ids.table(s.database, s.schema, s.name), s.column))
        } else {
          from = { type: 'external_column', database: s.database, schema: s.schema, table: s.name, column: s.column }
        }
        counts.edges++
        yield withSource({ from_identifier: from, to_identifier: to }, { file: this.file, line: rel.line })
      }
    }
    for (const s of view.otherReads) {
      if (!selected.has(key(key(s.database, s.schema, s.name), s.column))) counts.other++
    }
  }
}

/** A view's SQL as Secoda `definition` markdown: a fenced sql block. */
export function sqlDefinition(sql: string): string {
  // a fence longer than any backtick run inside, so the block cannot end early
  let fence = '```'
  while (sql.includes(fence)) fence += '`'
  return `${fence}sql\n${sql.trim()}\n${fence}`
}

/** First words of a statement, for diagnostics. */
export function firstWords(sql: string, n = 6): string {
  const w = sql.replace(/\s+/g, ' ').trim().split(' ').slice(0, n).join(' ')
  return w.length > 80 ? w.slice(0, 77) + '...' : w
}
