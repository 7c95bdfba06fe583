// dbt models' compiled SQL + the columns of the project's relations → column → column
// lineage edges (and, with inheritDescriptions, descriptions passed down unchanged columns),
// for the manifest converter (manifest.ts) while it streams. docs/dbt.md, "Column lineage".
//
// Why resolution happens when it does: the manifest hands over one node at a time, in no
// dependency order. A model is resolved when it arrives if every relation its SQL reads is
// known by then — from the catalog (read before the manifest) or from a node already
// converted —, otherwise its SQL is held and resolved at the end of the manifest. Edges into
// a relation not emitted yet are held too (compactly, one string per model) until the end,
// because a catalog entry may name a relation the manifest never emits, and an edge must
// not name a column that does not exist.

import { SecodaError } from '../../lib/errors.js'
import type { IdBuilder } from '../../lib/ids.js'
import { internalId, withSource, type LineageEdge, type RecordSource, type SecodaRecord } from '../../lib/records.js'
import type { Report } from '../../lib/report.js'
import type { DbtCatalog } from './catalog.js'
import {
  LineageFailure,
  dialectOf,
  isSqlParserLoaded,
  resolveQueryLineage,
  type KnownRelation,
  type OutputColumn,
  type QueryLineage,
} from './sql-lineage.js'

/** Options of column lineage (the manifest converter's `columnLineage`). */
export interface ColumnLineageOptions {
  /**
   * A model column without a description takes its upstream column's when it has exactly
   * one and passes it through unchanged (dbt Explorer and SQLMesh do the same).
   */
  inheritDescriptions?: boolean
  /** Time limit per model in milliseconds (default 2000): one pathological model cannot stall a run. */
  timeLimitMs?: number
}

/** Normalised options: every default filled in. */
interface Settings {
  inheritDescriptions: boolean
  timeLimitMs: number
}

/** A column of a model as the converter is about to emit it. */
export interface ModelColumn {
  name: string
  description?: string | undefined
}

/** A model whose resolution waits for the end of the manifest. */
interface HeldModel {
  uid: string
  relId: string
  sql: string
  columns: ModelColumn[]
  source: RecordSource
  /** With inheritDescriptions: emits the model's table, held until its descriptions are known. */
  emitTable: (() => void) | undefined
}

/** A model column that may inherit the description of its one upstream column. */
interface Heir {
  column: ModelColumn
  rel: string
  key: string
}

/** A model's table waiting for the relations its columns inherit descriptions from. */
interface Waiter {
  heirs: Heir[]
  emitTable: () => void
  pending: number
  done: boolean
}

/** Counter names (listed in docs/dbt.md, "Column lineage"). */
export const LINEAGE_COUNTERS = {
  edges: 'lineage.column_edges',
  resolved: 'dbt.columns_resolved',
  unresolved: 'dbt.columns_unresolved',
  models: 'dbt.lineage.models',
  failed: 'dbt.lineage.models_failed',
  deferred: 'dbt.lineage.deferred',
  inherited: 'dbt.descriptions_inherited',
} as const

/** How many unresolved columns one warning names. */
const NAMED = 5

/**
 * Column lineage of one manifest. The converter reports each relation it emits
 * ({@link relationEmitted}) and each model with SQL ({@link model}); edges go to `emit`.
 */
export class DbtColumnLineage {
  private readonly settings: Settings
  private dialect = 'generic'
  /** Lower-cased `db.schema.name` / `schema.name` / `name` → relation (null: ambiguous short name). */
  private readonly byName = new Map<string, KnownRelation | null>()
  /** Relation ids emitted → their column names as emitted. */
  private readonly emittedColumns = new Map<string, string[]>()
  private readonly held: HeldModel[] = []
  /** Edges whose source relation was not emitted yet: `fromRel \t fromCol \t toColumnId` lines. */
  private readonly heldEdges: string[] = []
  private final = false
  /** Descriptions of emitted columns, for inheritance: relId + '\0' + lower(column). */
  private readonly descriptions = new Map<string, string>()
  /** Relation id → the model tables waiting for it to be emitted (inheritDescriptions). */
  private readonly waiting = new Map<string, Waiter[]>()

  constructor(
    options: ColumnLineageOptions,
    private readonly report: Report,
    private readonly ids: IdBuilder,
    catalog: DbtCatalog | undefined,
    private readonly emit: (r: SecodaRecord) => void,
  ) {
    if (!isSqlParserLoaded()) throw new SecodaError('INTERNAL', 'column lineage needs the SQL parser: await loadSqlParser() first')
    this.settings = { inheritDescriptions: options.inheritDescriptions ?? false, timeLimitMs: options.timeLimitMs ?? 2000 }
    for (const t of catalog?.tables.values() ?? []) {
      if (t.relation === undefined) continue
      const [db, schema, name] = t.relation
      this.index(db, schema, name, { id: this.ids.table(db, schema, name), columns: t.names })
    }
  }

  /** The manifest's metadata.adapter_type: the SQL dialect. */
  setAdapter(adapterType: string | undefined): void {
    this.dialect = dialectOf(adapterType)
    if (adapterType !== undefined) this.report.notes['dbt.lineage.dialect'] = this.dialect
  }

  private index(db: string | undefined, schema: string, name: string, rel: KnownRelation): void {
    const l = (s: string): string => s.toLowerCase()
    if (db !== undefined && db !== '') this.byName.set(`${l(db)}.${l(schema)}.${l(name)}`, rel)
    for (const k of [`${l(schema)}.${l(name)}`, l(name)]) {
      const old = this.byName.get(k)
      this.byName.set(k, old === undefined || old === null || old.id === rel.id ? (old === null ? null : rel) : null)
    }
  }

  /** With keepCase: lower-cased relation id → the id emitted (a catalog may spell names in another case). */
  private readonly emittedByLower = new Map<string, string>()

  /** A relation the converter emitted (any node kind), with its columns as emitted. */
  relationEmitted(db: string | undefined, schema: string, name: string, relId: string, columns: readonly ModelColumn[]): void {
    const names = columns.map((c) => c.name)
    const known = this.emittedColumns.get(relId)
    const all = known === undefined ? names : known.concat(names)
    this.emittedColumns.set(relId, all)
    if (this.ids.options.keepCase) this.emittedByLower.set(relId.toLowerCase(), relId)
    this.index(db, schema, name, { id: relId, columns: all })
    if (this.settings.inheritDescriptions) {
      for (const c of columns) if (c.description !== undefined) this.descriptions.set(relId + '\0' + c.name.toLowerCase(), c.description)
      const waiters = this.waiting.get(relId)
      if (waiters !== undefined) {
        this.waiting.delete(relId)
        for (const w of waiters) if (--w.pending === 0) this.release(w)
      }
    }
  }

  private lookup = (parts: readonly string[], misses: string[]): KnownRelation | undefined => {
    // BigQuery: `project.dataset.table` in one pair of backticks is one identifier
    const flat = parts.length === 1 && parts[0]!.includes('.') ? parts[0]!.split('.') : parts
    const r = this.byName.get(flat.map((p) => p.toLowerCase()).join('.'))
    if (r === undefined || r === null) misses.push(flat.join('.'))
    return r ?? undefined
  }

  /**
   * Resolve a model's SQL against the relations known now. `undefined` when it reads a
   * relation not known yet (and the end of the manifest is not reached): then it is held.
   */
  private resolve(sql: string): QueryLineage | LineageFailure | undefined {
    const misses: string[] = []
    try {
      const l = resolveQueryLineage(sql, {
        dialect: this.dialect,
        lookup: (p) => this.lookup(p, misses),
        timeLimitMs: this.settings.timeLimitMs,
      })
      return misses.length > 0 && !this.final ? undefined : l
    } catch (e) {
      if (misses.length > 0 && !this.final) return undefined
      // Syntax the resolver does not expect (a shape of sqlparser-rs's tree it has not met)
      // costs that model's lineage, reported, never the run.
      return e instanceof LineageFailure ? e : new LineageFailure(`SQL not analysed: ${(e as Error).message}`)
    }
  }

  /**
   * A model (or snapshot) with compiled SQL; `emitTable` emits its table and columns. Without
   * inheritDescriptions it is called at once. With it, the model's undocumented columns that
   * pass one upstream column through take that column's description first, so the table
   * waits until those upstream relations are emitted (at the latest, the end of the manifest).
   */
  model(uid: string, relId: string, sql: string, columns: ModelColumn[], source: RecordSource, emitTable: () => void): void {
    this.report.bump(LINEAGE_COUNTERS.models)
    const inherit = this.settings.inheritDescriptions
    const l = this.resolve(sql)
    if (l === undefined) {
      this.report.bump(LINEAGE_COUNTERS.deferred)
      this.held.push({ uid, relId, sql, columns, source, emitTable: inherit ? emitTable : undefined })
      if (!inherit) emitTable()
      return
    }
    const heirs = this.edges(uid, relId, l, columns, source)
    if (inherit) this.settle(heirs, emitTable)
    else emitTable()
  }

  /** Emit the edges of one resolved model, report its unresolved columns; the columns that may inherit a description. */
  private edges(uid: string, relId: string, l: QueryLineage | LineageFailure, columns: ModelColumn[], source: RecordSource): Heir[] {
    const heirs: Heir[] = []
    if (columns.length === 0) return heirs
    if (l instanceof LineageFailure) {
      this.report.bump(LINEAGE_COUNTERS.failed)
      this.report.bump(LINEAGE_COUNTERS.unresolved, columns.length)
      this.report.warn(
        'DBT_LINEAGE_UNRESOLVED',
        `${uid}: no column lineage for its ${columns.length} column${columns.length === 1 ? '' : 's'}: ${l.message}`,
        { ...source, path: `nodes.${uid}` },
      )
      return heirs
    }
    const outputs = new Map<string, OutputColumn>()
    for (const o of l.columns) if (!outputs.has(o.name.toLowerCase())) outputs.set(o.name.toLowerCase(), o)
    const problems: string[] = []
    let unresolved = 0
    const seen = new Set<string>()
    for (const c of columns) {
      const o = outputs.get(c.name.toLowerCase())
      const reason = o === undefined ? (l.starGap ?? 'the SQL outputs no column of that name') : o.unresolved
      if (reason !== undefined) {
        unresolved++
        if (problems.length < NAMED) problems.push(`${c.name} (${reason})`)
      } else this.report.bump(LINEAGE_COUNTERS.resolved)
      if (o === undefined) continue
      const to = this.ids.columnOf(relId, c.name)
      for (const s of o.sources.values()) {
        if (s.table === relId) continue // an incremental model reading itself
        const k = s.table + '\0' + s.column.toLowerCase() + '\0' + to
        if (seen.has(k)) continue
        seen.add(k)
        if (this.emittedColumns.has(s.table)) this.edge(s.table, s.column, to, source)
        else this.heldEdges.push(`${s.table}\t${s.column}\t${to}\t${source.file ?? ''}\t${source.line ?? ''}`)
      }
      if (c.description === undefined && o.direct && o.sources.size === 1 && reason === undefined) {
        const [s] = o.sources.values()
        if (s !== undefined && s.table !== relId) heirs.push({ column: c, rel: s.table, key: s.table + '\0' + s.column.toLowerCase() })
      }
    }
    if (unresolved > 0) {
      this.report.bump(LINEAGE_COUNTERS.unresolved, unresolved)
      this.report.warn(
        'DBT_LINEAGE_UNRESOLVED',
        `${uid}: ${unresolved} of ${columns.length} column${columns.length === 1 ? '' : 's'} without complete lineage: ${problems.join('; ')}${unresolved > NAMED ? '; ...' : ''}`,
        { ...source, path: `nodes.${uid}` },
      )
    }
    return heirs
  }

  /** Emit a model's table now if the relations it inherits from are emitted, else when they are. */
  private settle(heirs: Heir[], emitTable: () => void): void {
    const pending = new Set<string>()
    for (const h of heirs) if (!this.emittedColumns.has(h.rel)) pending.add(h.rel)
    const w: Waiter = { heirs, emitTable, pending: pending.size, done: false }
    if (pending.size === 0) {
      this.release(w)
      return
    }
    for (const rel of pending) {
      const list = this.waiting.get(rel)
      if (list === undefined) this.waiting.set(rel, [w])
      else list.push(w)
    }
  }

  /** Inherit what can be inherited now, emit the table. */
  private release(w: Waiter): void {
    if (w.done) return
    w.done = true
    for (const h of w.heirs) {
      const d = this.descriptions.get(h.key)
      if (d !== undefined && h.column.description === undefined) {
        h.column.description = d
        this.report.bump(LINEAGE_COUNTERS.inherited)
      }
    }
    w.emitTable()
  }

  /** One edge, the source column spelled as its relation emitted it. */
  private edge(relId: string, fromCol: string, to: string, source: RecordSource): boolean {
    const fromRel = this.emittedColumns.has(relId) ? relId : (this.emittedByLower.get(relId.toLowerCase()) ?? relId)
    const cols = this.emittedColumns.get(fromRel)
    const l = fromCol.toLowerCase()
    const spelled = cols?.find((c) => c.toLowerCase() === l)
    if (spelled === undefined) return false
    const e: LineageEdge = { from_identifier: internalId(this.ids.columnOf(fromRel, spelled)), to_identifier: internalId(to) }
    this.emit(withSource(e, source))
    this.report.bump(LINEAGE_COUNTERS.edges)
    return true
  }

  /** End of the manifest: resolve the held models, emit the held edges and tables. */
  end(): void {
    this.final = true
    for (const h of this.held) {
      const heirs = this.edges(h.uid, h.relId, this.resolve(h.sql) as QueryLineage | LineageFailure, h.columns, h.source)
      if (h.emitTable !== undefined) this.settle(heirs, h.emitTable)
    }
    this.held.length = 0
    // Tables still waiting read relations never emitted, or each other in a cycle: emit them
    // with the descriptions known (each one emitted may complete another's).
    for (const list of [...this.waiting.values()]) for (const w of list) this.release(w)
    this.waiting.clear()
    let dropped = 0
    const examples: string[] = []
    for (const line of this.heldEdges) {
      const [fromRel, fromCol, to, file, lineNo] = line.split('\t') as [string, string, string, string, string]
      const source: RecordSource = { line: Number(lineNo) || 1, ...(file !== '' ? { file } : {}) }
      if (!this.edge(fromRel, fromCol, to, source)) {
        dropped++
        if (examples.length < 3 && !examples.includes(fromRel)) examples.push(fromRel)
      }
    }
    this.heldEdges.length = 0
    if (dropped > 0) {
      this.report.bump('dbt.lineage.edges_dropped', dropped)
      this.report.warn(
        'DBT_LINEAGE_UNRESOLVED',
        `${dropped} column edge${dropped === 1 ? '' : 's'} from relations the catalog has but the manifest does not emit (or from columns they do not have): dropped (${examples.join(', ')})`,
        {},
      )
    }
  }
}
