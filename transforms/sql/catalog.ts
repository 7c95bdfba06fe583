// What a SQL dump declares (databases, schemas, tables, views, columns, comments, primary
// keys, view reads) → Secoda records. Shared by the pg_dump and mysqldump sources: dumps
// state a table's primary key and comments in statements AFTER its CREATE (ALTER TABLE,
// COMMENT ON), so the state of every relation is held until the end of the input and the
// records are built then. Memory is proportional to the schema, never to the data.

import type { IdBuilder } from '../../lib/ids.js'
import { internalId, withSource, type LineageEdge, type LineageId, type Resource, type SecodaRecord } from '../../lib/records.js'

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

/** A reference to a relation by name (database may be unknown for external reads). */
export interface RelationRef {
  database: string
  schema: string
  name: string
}

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
}

/** Options of {@link SqlCatalog}. */
export interface SqlCatalogOptions {
  ids: IdBuilder
  /** File name attached to the records' source positions. */
  file?: string
}

const key = (d: string, s: string, n?: string): string => (n === undefined ? `${d}\u0000${s}` : `${d}\u0000${s}\u0000${n}`)

/** Collects one dump's objects; {@link SqlCatalog.records} builds the Secoda records at the end. */
export class SqlCatalog {
  private readonly ids: IdBuilder
  private readonly file: string | undefined
  private readonly databases = new Map<string, { name: string; description?: string; line: number }>()
  private readonly schemas = new Map<string, { database: string; name: string; description?: string; line: number }>()
  private readonly relations = new Map<string, RelationState>()

  constructor(options: SqlCatalogOptions) {
    this.ids = options.ids
    this.file = options.file
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
      for (const c of this.resolvedColumns(rel)) {
        const col: Resource = {
          entity_type: 'column',
          databuilder_id: ids.columnOf(id, c.name),
          parent_databuilder_id: id,
          title: c.name,
          sort_order: ++pos,
        }
        if (c.description !== undefined) col.description = c.description
        if (c.type !== undefined) col.type = c.type
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
