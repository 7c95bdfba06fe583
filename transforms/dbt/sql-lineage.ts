// Compiled SQL of one dbt model + the columns of the relations it reads → for each column it
// outputs, the relation columns its value is computed from (column lineage). The SQL is
// parsed by sqlparser-rs (compiled to WebAssembly, `@guanmingchiu/sqlparser-ts`) in the
// adapter's dialect; this file walks its syntax tree: CTEs, subqueries, joins, aliases,
// `*` expanded against the given schema (with Snowflake EXCLUDE/RENAME, BigQuery
// EXCEPT/REPLACE), set operations, window functions, lateral views and UNNEST. The choice of
// parser and the rules followed are in docs/dbt.md, "Column lineage".

import { init, parse } from '@guanmingchiu/sqlparser-ts'

/** A column of a relation of the project. */
export interface ColumnSource {
  /** Relation id (databuilder_id of the table). */
  table: string
  /** Column name as the relation spells it. */
  column: string
}

/** A relation the SQL reads, as the lookup knows it. */
export interface KnownRelation {
  /** Relation id (databuilder_id of the table). */
  id: string
  /** Its column names (any case); empty when unknown. */
  columns: readonly string[]
}

/** Finds a relation by the name parts the SQL uses (1–3 parts, as written, unquoted). */
export type RelationLookup = (parts: readonly string[]) => KnownRelation | undefined

/** One output column of a query. */
export interface OutputColumn {
  name: string
  /** Relation columns the value is computed from (key: table + '\0' + lower(column)). */
  sources: Map<string, ColumnSource>
  /** The value is one source column passed through unchanged (a bare reference, aliases and CTEs aside). */
  direct: boolean
  /** Why the lineage of this column is incomplete, when it is. */
  unresolved?: string
}

/** The lineage of one model's SQL. */
export interface QueryLineage {
  columns: OutputColumn[]
  /**
   * Why columns may be missing from {@link columns}: a `*` over a relation whose columns are
   * unknown. A model column not in `columns` is unresolved for this reason (when there is one).
   */
  starGap?: string
}

/** SQL dialects of sqlparser-rs, by dbt adapter type (metadata.adapter_type). */
const DIALECTS: Record<string, string> = {
  snowflake: 'snowflake',
  bigquery: 'bigquery',
  postgres: 'postgresql',
  redshift: 'redshift',
  duckdb: 'duckdb',
  databricks: 'databricks',
  spark: 'databricks',
  hive: 'hive',
  mysql: 'mysql',
  sqlite: 'sqlite',
  clickhouse: 'clickhouse',
  sqlserver: 'mssql',
  fabric: 'mssql',
  synapse: 'mssql',
  oracle: 'oracle',
  teradata: 'teradata',
  materialize: 'postgresql',
  greenplum: 'postgresql',
  alloydb: 'postgresql',
}

/** The sqlparser-rs dialect for a dbt adapter type (`generic` when it has none of its own). */
export function dialectOf(adapterType: string | undefined): string {
  return (adapterType !== undefined ? DIALECTS[adapterType.toLowerCase()] : undefined) ?? 'generic'
}

/** Thrown when a model's SQL cannot be analysed; the message is the reason given to the user. */
export class LineageFailure extends Error {}

let ready: Promise<void> | undefined
let loaded = false
/** Load the SQL parser (WebAssembly, ~3.5 MB): once, before {@link resolveQueryLineage}. */
export function loadSqlParser(): Promise<void> {
  ready ??= init().then(() => {
    loaded = true
  })
  return ready
}

/** Whether {@link loadSqlParser} has completed. */
export function isSqlParserLoaded(): boolean {
  return loaded
}

type Node = Record<string, unknown>
const obj = (v: unknown): Node | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : undefined)
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const lower = (s: string): string => s.toLowerCase()
/** `{Variant: payload}` → [Variant, payload]; a bare string variant → [it, undefined]. */
function variant(v: unknown): [string, unknown] {
  if (typeof v === 'string') return [v, undefined]
  const o = obj(v)
  if (o === undefined) return ['', undefined]
  const k = Object.keys(o)[0]
  return k === undefined ? ['', undefined] : [k, o[k]]
}
const identValue = (v: unknown): string | undefined => {
  const o = obj(v)
  return typeof o?.['value'] === 'string' ? o['value'] : undefined
}
/** ObjectName (`[{Identifier: ident}, ...]`) → its parts. */
function objectName(v: unknown): string[] {
  const out: string[] = []
  for (const p of list(v)) {
    const [k, payload] = variant(p)
    const s = k === 'Identifier' ? identValue(payload) : undefined
    if (s === undefined) return []
    out.push(s)
  }
  return out
}

/**
 * Words that parse as bare column references but are not: date parts given as arguments
 * (`datediff(day, a, b)`, `date_trunc(month, x)`), and niladic functions written without
 * parentheses. Ignored only when no relation in scope has a column of that name.
 */
const NOT_COLUMNS = new Set([
  'year',
  'years',
  'yy',
  'yyyy',
  'quarter',
  'quarters',
  'qtr',
  'month',
  'months',
  'mm',
  'mon',
  'week',
  'weeks',
  'wk',
  'isoweek',
  'day',
  'days',
  'dd',
  'dayofweek',
  'dayofyear',
  'dow',
  'doy',
  'weekday',
  'hour',
  'hours',
  'hh',
  'minute',
  'minutes',
  'mi',
  'second',
  'seconds',
  'ss',
  'millisecond',
  'milliseconds',
  'ms',
  'microsecond',
  'microseconds',
  'us',
  'nanosecond',
  'epoch',
  'date',
  'time',
  'datetime',
  'timestamp',
  'isoyear',
  'yearofweek',
  'julian',
  'current_date',
  'current_time',
  'current_timestamp',
  'current_user',
  'session_user',
  'current_role',
  'current_database',
  'current_schema',
  'localtime',
  'localtimestamp',
  'sysdate',
  'user',
  'true',
  'false',
  'null',
])

/** What a name in a FROM clause stands for. */
interface Source {
  /** Lower-cased alias (or the relation's last name part). */
  alias: string
  /** Lower-cased full name parts of a relation, to match qualifiers like `schema.table.col`. */
  parts?: string[]
  /** A relation of the project. */
  rel?: KnownRelation
  /** Lower-cased column name → spelling, for rel. */
  relCols?: Map<string, string>
  /** A CTE or subquery: its outputs. */
  outputs?: OutputColumn[]
  /** A star over it must fail with this reason (outputs incomplete). */
  starGap?: string
  /** Table functions, UNNEST, lateral views: their column names, and the columns their arguments read. */
  opaque?: { columns: Set<string>; from: OutputColumn }
  /** Why its columns are unknown (a relation outside the project, or one without known columns). */
  unknown?: string
}

interface Scope {
  sources: Source[]
  parent: Scope | undefined
  /** Projection outputs so far (lateral column aliases: Snowflake, BigQuery, Redshift, Databricks, DuckDB). */
  aliases: OutputColumn[]
  ctes: Map<string, CteEntry>
}

type CteEntry = { outputs: OutputColumn[]; starGap?: string | undefined }

/** The column references of one expression, resolved. */
interface Refs {
  sources: Map<string, ColumnSource>
  unresolved?: string
  /** The only reference, when the expression is exactly one column reference. */
  direct: boolean
}

const emptyOutput = (name: string): OutputColumn => ({ name, sources: new Map(), direct: false })

/** Resolution state of one model: the lookup and the time limit. */
class Resolver {
  private steps = 0
  constructor(
    private readonly lookup: RelationLookup,
    private readonly deadline: number,
  ) {}

  private tick(): void {
    if ((++this.steps & 1023) === 0 && Date.now() > this.deadline) throw new LineageFailure('time limit exceeded')
  }

  query(q: Node, outer: Scope | undefined, ctes: Map<string, CteEntry>): CteEntry {
    this.tick()
    let scopeCtes = ctes
    const w = obj(q['with'])
    if (w !== undefined) {
      scopeCtes = new Map(ctes)
      for (const c of list(w['cte_tables'])) {
        const cte = obj(c) ?? {}
        const alias = obj(cte['alias']) ?? {}
        const name = identValue(alias['name'])
        if (name === undefined) continue
        let entry: CteEntry
        if (w['recursive'] === true) {
          // A recursive CTE reads itself: its anchor (the left side of its UNION) gives the lineage.
          scopeCtes.set(lower(name), { outputs: [], starGap: `recursive CTE ${name}` })
          const body = variant(obj(cte['query'])?.['body'])
          const anchor = body[0] === 'SetOperation' ? obj(body[1])?.['left'] : undefined
          entry = anchor !== undefined ? this.setExpr(anchor, outer, scopeCtes) : this.query(obj(cte['query']) ?? {}, outer, scopeCtes)
        } else entry = this.query(obj(cte['query']) ?? {}, outer, scopeCtes)
        scopeCtes.set(lower(name), renamed(entry, list(alias['columns'])))
      }
    }
    return this.setExpr(q['body'], outer, scopeCtes)
  }

  private setExpr(v: unknown, outer: Scope | undefined, ctes: Map<string, CteEntry>): CteEntry {
    const [kind, payload] = variant(v)
    const p = obj(payload) ?? {}
    switch (kind) {
      case 'Select':
        return this.select(p, outer, ctes)
      case 'Query':
        return this.query(p, outer, ctes)
      case 'SetOperation': {
        const left = this.setExpr(p['left'], outer, ctes)
        const right = this.setExpr(p['right'], outer, ctes)
        const byName = typeof p['set_quantifier'] === 'string' && (p['set_quantifier'] as string).includes('ByName')
        const rightByName = new Map(right.outputs.map((o) => [lower(o.name), o]))
        const columns = left.outputs.map((o, i) => merge(o, byName ? rightByName.get(lower(o.name)) : right.outputs[i]))
        const gap = left.starGap ?? right.starGap
        return gap !== undefined ? { outputs: columns, starGap: gap } : { outputs: columns }
      }
      case 'Values': {
        const rows = list(p['rows'])
        const first = rows[0]
        const n = Array.isArray(first) ? first.length : list(obj(first)?.['content']).length
        return { outputs: Array.from({ length: n }, (_, i) => emptyOutput(`column${i + 1}`)) }
      }
      default:
        throw new LineageFailure(`unsupported query form ${kind || 'unknown'}`)
    }
  }

  private select(s: Node, outer: Scope | undefined, ctes: Map<string, CteEntry>): CteEntry {
    const scope: Scope = { sources: [], parent: outer, aliases: [], ctes }
    for (const twj of list(s['from'])) {
      const t = obj(twj) ?? {}
      this.tableFactor(t['relation'], scope)
      for (const j of list(t['joins'])) this.tableFactor(obj(j)?.['relation'], scope)
    }
    for (const lv of list(s['lateral_views'])) {
      const l = obj(lv) ?? {}
      const name = objectName(l['lateral_view_name'])
      const cols = list(l['lateral_col_alias']).map((c) => lower(identValue(c) ?? ''))
      const from = this.exprOutput('', l['lateral_view'], scope)
      scope.sources.push({ alias: lower(name[name.length - 1] ?? ''), opaque: { columns: new Set(cols), from } })
    }
    let starGap: string | undefined
    const outputs: OutputColumn[] = []
    for (const item of list(s['projection'])) {
      this.tick()
      const [kind, payload] = variant(item)
      if (kind === 'UnnamedExpr' || kind === 'ExprWithAlias') {
        const p = obj(payload)
        const expr = kind === 'ExprWithAlias' ? p?.['expr'] : payload
        const name = kind === 'ExprWithAlias' ? (identValue(p?.['alias']) ?? '') : exprName(expr)
        const out = this.exprOutput(name, expr, scope)
        outputs.push(out)
        scope.aliases.push(out)
      } else if (kind === 'Wildcard' || kind === 'QualifiedWildcard') {
        let options: Node | undefined
        let from = scope.sources
        if (kind === 'QualifiedWildcard') {
          const [q, opts] = list(payload)
          options = obj(opts)
          const qual = objectName(obj(q)?.['ObjectName'] ?? []).map(lower)
          const src = findSource(scope, qual)
          if (src === undefined) throw new LineageFailure(`${qual.join('.')}.* names no relation in its FROM clause`)
          from = [src]
        } else options = obj(payload)
        const expanded: OutputColumn[] = []
        for (const src of from) {
          const gap = src.unknown ?? src.starGap
          if (gap !== undefined) starGap ??= `SELECT * over ${gap}`
          if (src.rel !== undefined) {
            for (const c of src.rel.columns) expanded.push(columnOf(src, c))
          } else if (src.outputs !== undefined) {
            for (const o of src.outputs) expanded.push({ ...o })
          } else if (src.opaque !== undefined) {
            for (const c of src.opaque.columns) expanded.push({ ...src.opaque.from, name: c, direct: false })
          }
        }
        for (const o of applyWildcardOptions(expanded, options, this, scope)) {
          // `*` over a USING join gives the joined column once: join its sources.
          const same = outputs.find((x) => lower(x.name) === lower(o.name))
          if (same !== undefined && kind === 'Wildcard') {
            for (const [k, v] of o.sources) same.sources.set(k, v)
            same.direct = false
          } else {
            outputs.push(o)
            scope.aliases.push(o)
          }
        }
      }
    }
    return starGap !== undefined ? { outputs, starGap } : { outputs }
  }

  private tableFactor(v: unknown, scope: Scope): void {
    const [kind, payload] = variant(v)
    const p = obj(payload) ?? {}
    const alias = obj(p['alias'])
    const aliasName = identValue(alias?.['name'])
    const aliasCols = list(alias?.['columns'])
    switch (kind) {
      case 'Table': {
        const parts = objectName(p['name'])
        const last = parts[parts.length - 1] ?? ''
        if (p['args'] !== undefined && p['args'] !== null) {
          // a table function: what its arguments read
          scope.sources.push({
            alias: lower(aliasName ?? last),
            opaque: { columns: new Set(aliasCols.map((c) => lower(colDefName(c)))), from: this.exprOutput('', p['args'], scope) },
          })
          return
        }
        const cte = parts.length === 1 ? lookupCte(scope, lower(last)) : undefined
        if (cte !== undefined) {
          const r = renamed(cte, aliasCols)
          scope.sources.push({
            alias: lower(aliasName ?? last),
            parts: [lower(last)],
            outputs: r.outputs,
            ...(r.starGap !== undefined ? { starGap: r.starGap } : {}),
          })
          return
        }
        const rel = this.lookup(parts)
        const src: Source = { alias: lower(aliasName ?? last), parts: parts.map(lower) }
        if (rel === undefined) src.unknown = `${parts.join('.')}, which is not a table of this project`
        else if (rel.columns.length === 0) src.unknown = `${parts.join('.')}, whose columns are unknown (no catalog entry, none documented)`
        else {
          src.rel = aliasCols.length > 0 ? { id: rel.id, columns: rel.columns } : rel
          src.relCols = new Map(rel.columns.map((c) => [lower(c), c]))
          if (aliasCols.length > 0) {
            const outs = rel.columns.map((c) => columnOf(src, c))
            delete src.rel
            src.outputs = renamed({ outputs: outs }, aliasCols).outputs
          }
        }
        scope.sources.push(src)
        return
      }
      case 'Derived': {
        const r = renamed(this.query(obj(p['subquery']) ?? {}, p['lateral'] === true ? scope : scope.parent, scope.ctes), aliasCols)
        scope.sources.push({
          alias: lower(aliasName ?? ''),
          outputs: r.outputs,
          ...(r.starGap !== undefined ? { starGap: r.starGap } : {}),
        })
        return
      }
      case 'NestedJoin': {
        const t = obj(p['table_with_joins']) ?? {}
        this.tableFactor(t['relation'], scope)
        for (const j of list(t['joins'])) this.tableFactor(obj(j)?.['relation'], scope)
        return
      }
      default: {
        // UNNEST, table functions, pivots, ...: columns come from what their arguments read
        const from = this.exprOutput('', payload, scope)
        const cols = new Set(aliasCols.map((c) => lower(colDefName(c))))
        if (aliasName !== undefined) cols.add(lower(aliasName))
        scope.sources.push({ alias: lower(aliasName ?? ''), opaque: { columns: cols, from } })
      }
    }
  }

  /** The output column an expression gives. */
  exprOutput(name: string, expr: unknown, scope: Scope): OutputColumn {
    const refs: Refs = { sources: new Map(), direct: false }
    const [kind] = variant(expr)
    const single = kind === 'Identifier' || kind === 'CompoundIdentifier'
    this.collect(expr, scope, refs, new Set())
    const out: OutputColumn = { name, sources: refs.sources, direct: single && refs.direct }
    if (refs.unresolved !== undefined) out.unresolved = refs.unresolved
    return out
  }

  /** Walk an expression, adding the columns it references to refs. */
  private collect(v: unknown, scope: Scope, refs: Refs, lambdaParams: Set<string>): void {
    this.tick()
    if (Array.isArray(v)) {
      for (const x of v) this.collect(x, scope, refs, lambdaParams)
      return
    }
    const o = obj(v)
    if (o === undefined) return
    for (const key of Object.keys(o)) {
      const val = o[key]
      switch (key) {
        case 'Identifier': {
          const name = identValue(val)
          if (name !== undefined) this.reference([name], scope, refs, lambdaParams)
          continue
        }
        case 'CompoundIdentifier': {
          const parts = list(val).map((x) => identValue(x) ?? '')
          this.reference(parts, scope, refs, lambdaParams)
          continue
        }
        case 'Subquery':
        case 'Exists':
        case 'InSubquery': {
          const q = key === 'Subquery' ? obj(val) : obj(obj(val)?.['subquery'] ?? val)
          if (key === 'InSubquery') this.collect(obj(val)?.['expr'], scope, refs, lambdaParams)
          if (key === 'Exists') continue
          if (q === undefined) continue
          const r = this.query(q, scope, scope.ctes)
          for (const out of r.outputs.slice(0, 1)) {
            for (const [k, s] of out.sources) refs.sources.set(k, s)
            if (out.unresolved !== undefined) refs.unresolved ??= out.unresolved
          }
          refs.direct = false
          continue
        }
        case 'Lambda': {
          const l = obj(val) ?? {}
          const params = new Set(lambdaParams)
          const ps = l['params']
          for (const x of Array.isArray(ps) ? ps : list(obj(ps)?.['Many'] ?? [obj(ps)?.['One']])) {
            const n = identValue(x) ?? identValue(obj(x)?.['name'])
            if (n !== undefined) params.add(lower(n))
          }
          this.collect(l['body'], scope, refs, params)
          continue
        }
        case 'name':
          // a function's or a type's name, not a column
          if (Array.isArray(val)) continue
          break
        case 'data_type':
        case 'span':
        case 'Value':
        case 'TypedString':
        case 'field':
          continue
        case 'over': {
          // OVER w (a named window) names no column
          const [k] = variant(val)
          if (k === 'NamedWindow') continue
          break
        }
      }
      this.collect(val, scope, refs, lambdaParams)
    }
  }

  /** Resolve one column reference (name parts as written). */
  private reference(parts: string[], scope: Scope, refs: Refs, lambdaParams: Set<string>): void {
    const before = refs.sources.size
    const first = lower(parts[0] ?? '')
    if (lambdaParams.has(first)) return
    const found = resolveIn(scope, parts.map(lower))
    if (found !== undefined) {
      for (const [k, s] of found.sources) refs.sources.set(k, s)
      if (found.unresolved !== undefined) refs.unresolved ??= found.unresolved
      refs.direct = before === 0 && refs.sources.size === 1 && found.direct
      return
    }
    if (parts.length === 1 && NOT_COLUMNS.has(first)) return
    refs.direct = false
    // where it would come from if the relation's columns were known
    const candidates = allSources(scope).filter((s) => parts.length === 1 || s.alias === lower(parts[parts.length - 2] ?? ''))
    const unknown = candidates.find((s) => s.unknown !== undefined)?.unknown
    const gap = candidates.find((s) => s.starGap !== undefined)?.starGap
    refs.unresolved ??= unknown !== undefined ? `reads ${unknown}` : (gap ?? `${parts.join('.')} is a column of no relation it reads`)
  }
}

function colDefName(c: unknown): string {
  return identValue(obj(c)?.['name']) ?? identValue(c) ?? ''
}

function lookupCte(scope: Scope, name: string): CteEntry | undefined {
  return scope.ctes.get(name)
}

function allSources(scope: Scope): Source[] {
  const out: Source[] = []
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) out.push(...s.sources)
  return out
}

/** The source a qualifier (lower-cased parts) names: by alias, or by the relation's trailing name parts. */
function findSource(scope: Scope, qual: string[]): Source | undefined {
  const last = qual[qual.length - 1]
  for (const s of scope.sources) {
    if (qual.length === 1 && s.alias === last) return s
    if (s.parts !== undefined && s.parts.length >= qual.length && qual.every((q, i) => s.parts![s.parts!.length - qual.length + i] === q))
      return s
  }
  return undefined
}

/** A source's column as an output column. */
function columnOf(src: Source, column: string): OutputColumn {
  const rel = src.rel!
  const sources = new Map([[rel.id + '\0' + lower(column), { table: rel.id, column }]])
  return { name: column, sources, direct: true }
}

/** The output a source gives for a lower-cased column name, if it has one. */
function sourceColumn(src: Source, col: string): OutputColumn | undefined {
  if (src.relCols !== undefined && src.rel !== undefined) {
    const c = src.relCols.get(col)
    return c === undefined ? undefined : columnOf(src, c)
  }
  if (src.outputs !== undefined) {
    for (const o of src.outputs) if (lower(o.name) === col) return o
    return undefined
  }
  if (src.opaque !== undefined) return src.opaque.columns.has(col) || src.alias === col ? { ...src.opaque.from, direct: false } : undefined
  return undefined
}

/** Resolve lower-cased name parts in a scope, then its parents (correlated references). */
function resolveIn(scope: Scope, parts: string[]): OutputColumn | undefined {
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    // qualified: the longest qualifier that names a source, then the column
    for (let k = parts.length - 1; k >= 1; k--) {
      const src = findSource(s, parts.slice(0, k))
      if (src === undefined) continue
      const c = sourceColumn(src, parts[k]!)
      if (c !== undefined) return k === parts.length - 1 ? c : { ...c, direct: false }
      if (src.unknown === undefined && src.starGap === undefined && src.opaque === undefined) return undefined
      if (src.opaque !== undefined) return { ...src.opaque.from, direct: false }
    }
    // unqualified (or a struct field: col.field): every source with that column (USING joins give several)
    const matches: OutputColumn[] = []
    for (const src of s.sources) {
      const c = sourceColumn(src, parts[0]!)
      if (c !== undefined) matches.push(c)
    }
    if (matches.length === 1) return parts.length === 1 ? matches[0] : { ...matches[0]!, direct: false }
    if (matches.length > 1) return matches.reduce((a, b) => merge(a, b))
    // a lateral column alias: an earlier item of the same SELECT list
    if (parts.length === 1) {
      const a = s.aliases.find((o) => lower(o.name) === parts[0])
      if (a !== undefined) return a
    }
  }
  return undefined
}

/** Two outputs joined (set operations, USING joins): sources united, named as the first. */
function merge(a: OutputColumn, b: OutputColumn | undefined): OutputColumn {
  if (b === undefined) return { ...a, direct: false, unresolved: a.unresolved ?? 'a set operation whose branches have different columns' }
  const sources = new Map(a.sources)
  for (const [k, v] of b.sources) sources.set(k, v)
  const out: OutputColumn = { name: a.name, sources, direct: a.direct && b.direct && sources.size === 1 }
  const u = a.unresolved ?? b.unresolved
  if (u !== undefined) out.unresolved = u
  return out
}

/** Outputs renamed by a column alias list (`cte(a, b) as`, `t as x(a, b)`). */
function renamed(entry: CteEntry, aliasCols: unknown[]): CteEntry {
  if (aliasCols.length === 0) return entry
  const outputs = entry.outputs.map((o, i) => (i < aliasCols.length ? { ...o, name: colDefName(aliasCols[i]) } : o))
  return entry.starGap !== undefined ? { outputs, starGap: entry.starGap } : { outputs }
}

/** The name a SELECT item without alias gets: a column's name; other expressions have none we can match. */
function exprName(expr: unknown): string {
  const [kind, payload] = variant(expr)
  if (kind === 'Identifier') return identValue(payload) ?? ''
  if (kind === 'CompoundIdentifier') {
    const parts = list(payload)
    return identValue(parts[parts.length - 1]) ?? ''
  }
  // `x::type`, `cast(x as type)` keep x's name in PostgreSQL, Snowflake and DuckDB
  if (kind === 'Cast') return exprName(obj(payload)?.['expr'])
  if (kind === 'Nested') return exprName(payload)
  return ''
}

/** `* EXCLUDE (...)`, `* EXCEPT (...)`, `* REPLACE (... AS c)`, `* RENAME (a AS b)`. */
function applyWildcardOptions(cols: OutputColumn[], options: Node | undefined, r: Resolver, scope: Scope): OutputColumn[] {
  if (options === undefined) return cols
  const drop = new Set<string>()
  const [ek, ev] = variant(options['opt_exclude'])
  if (ek === 'Single') drop.add(lower(identValue(obj(list(ev)[0])?.['Identifier'] ?? list(ev)[0]) ?? objectName(ev).join('.')))
  if (ek === 'Multiple') for (const x of list(ev)) drop.add(lower(objectName(x).pop() ?? identValue(x) ?? ''))
  const except = obj(options['opt_except'])
  if (except !== undefined) {
    drop.add(lower(identValue(except['first_element']) ?? ''))
    for (const x of list(except['additional_elements'])) drop.add(lower(identValue(x) ?? ''))
  }
  let out = cols.filter((c) => !drop.has(lower(c.name)))
  for (const item of list(obj(options['opt_replace'])?.['items'])) {
    const it = obj(item) ?? {}
    const name = identValue(it['column_name']) ?? ''
    const rep = r.exprOutput(name, it['expr'], scope)
    out = out.map((c) => (lower(c.name) === lower(name) ? rep : c))
  }
  const [rk, rv] = variant(options['opt_rename'])
  const renames = rk === 'Single' ? [rv] : rk === 'Multiple' ? list(rv) : []
  for (const x of renames) {
    const from = lower(identValue(obj(x)?.['ident']) ?? '')
    const to = identValue(obj(x)?.['alias']) ?? ''
    out = out.map((c) => (lower(c.name) === from ? { ...c, name: to } : c))
  }
  return out
}

/** Options of {@link resolveQueryLineage}. */
export interface QueryLineageOptions {
  /** sqlparser-rs dialect name (see {@link dialectOf}). */
  dialect: string
  /** Finds the relations the SQL reads. */
  lookup: RelationLookup
  /** Time limit for this query in milliseconds (the parse itself is not interruptible). */
  timeLimitMs: number
}

/**
 * The column lineage of one SELECT (a model's compiled SQL). Throws {@link LineageFailure}
 * when the SQL cannot be parsed or analysed; the parser must be loaded ({@link loadSqlParser}).
 */
export function resolveQueryLineage(sql: string, options: QueryLineageOptions): QueryLineage {
  const start = Date.now()
  let statements: unknown[]
  try {
    statements = parse(sql, options.dialect as never) as unknown[]
  } catch (e) {
    // Dialect gaps of the parser: the generic dialect accepts a wider mix of syntax.
    try {
      if (options.dialect === 'generic') throw e
      statements = parse(sql, 'generic') as unknown[]
    } catch {
      const msg = String((e as Error).message ?? e).replace(/^sql parser error: /i, '')
      throw new LineageFailure(`SQL not parsed (${options.dialect}): ${msg.length > 200 ? msg.slice(0, 200) + '...' : msg}`)
    }
  }
  const queries = statements.map(variant).filter(([k]) => k === 'Query')
  if (queries.length !== 1 || statements.length !== 1)
    throw new LineageFailure(
      statements.length === 1 ? `not a query (${variant(statements[0])[0]})` : `${statements.length} statements, not one query`,
    )
  const r = new Resolver(options.lookup, start + options.timeLimitMs)
  const entry = r.query(obj(queries[0]![1]) ?? {}, undefined, new Map())
  return entry.starGap !== undefined ? { columns: entry.outputs, starGap: entry.starGap } : { columns: entry.outputs }
}
