// The shared model of column-level view lineage (docs/sql.md, "Column lineage"): what a
// dialect's resolver says about each output column of a view — its type when it can be
// derived for certain, its description when the server would pass one through, and the
// columns of relations its SELECT-list expression reads. The catalog (catalog.ts) calls a
// view's resolver at the end of the input, when every relation of the dump is known, and
// turns the answers into column types and column-to-column lineage edges.

/** A reference to a relation by name (catalog.ts re-exports it). */
export interface RelationRef {
  database: string
  schema: string
  name: string
}

/** A column of a relation, by name. */
export interface ColumnRef extends RelationRef {
  column: string
}

/** What a resolver derived for one output column of a view. */
export interface ViewColumn {
  /** The type as the server reports it, only when certain. */
  type?: string
  /** A description the server passes through (MariaDB: a column passed through keeps its comment). */
  description?: string
  /** Columns of relations the column's SELECT-list expression reads, deduplicated, in first-use order. */
  sources: ColumnRef[]
}

/** A resolver's answer for one view. */
export interface ViewColumns {
  /** One entry per output column, in order (may be shorter when a column cannot be resolved). */
  columns: ViewColumn[]
  /** Columns read only outside the SELECT list (WHERE, JOIN, GROUP BY, ...): counted, not edged. */
  otherReads: ColumnRef[]
}

/** A column of a relation as the catalog knows it at the end of input (views: resolved). */
export interface KnownColumn {
  name: string
  type?: string
  description?: string
}

/** What a resolver may ask the catalog: the columns of a relation, or undefined when the dump does not declare it. */
export type ColumnLookup = (ref: RelationRef) => readonly KnownColumn[] | undefined

/** Resolves a view's columns; called once, at the end of the input. */
export type ViewResolver = (lookup: ColumnLookup) => ViewColumns

/** Append `c` to `list` unless an equal column is there already. */
export function addColumnRef(list: ColumnRef[], c: ColumnRef): void {
  for (const x of list) if (x.column === c.column && x.name === c.name && x.schema === c.schema && x.database === c.database) return
  list.push(c)
}
