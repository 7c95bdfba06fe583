// Column lineage and column types of a PostgreSQL view from its parse tree (libpg-query,
// the server's own grammar): each output column is resolved to the relation columns its
// expression reads, through aliases, joins, subqueries, CTEs (recursive too), set
// operations, LATERAL, window functions, CASE and casts; its type follows pg-types.ts.
// docs/sql.md, "Column lineage", lists what is resolved and what is left untyped.

import { commonType, dropMod, functionType, operatorType, pgType, CATALOG_COLUMNS, T, typeNameText, type PgType } from './pg-types.js'
import {
  addColumnRef,
  type ColumnLookup,
  type ColumnRef,
  type RelationRef,
  type ViewColumn,
  type ViewColumns,
  type ViewResolver,
} from './view-columns.js'

type Node = Record<string, unknown>

/** An expression's result: its type when certain, and the relation columns it reads. */
interface Val {
  type?: PgType
  sources: ColumnRef[]
}

/** A column visible in a FROM item. */
interface ScopeColumn {
  name: string
  val: Val
}

/** A FROM item: a relation, subquery, CTE reference, function or join. */
interface Item {
  alias: string
  /** Schema-qualified relation name, for `schema.table.column` references. */
  qualified?: { schema: string; name: string }
  columns: ScopeColumn[]
  /** The columns are not all known (a relation outside the dump, a table function). */
  opaque: boolean
  /** For an opaque relation outside the dump: its columns can still be named. */
  ref?: RelationRef
  /** Join: the columns a JOIN ... USING / NATURAL merges, hidden from qualified access of the join. */
  hidden?: boolean
}

interface Scope {
  items: Item[]
  /** Items of joins without alias: every base item is addressable by its own alias too. */
  parent?: Scope
  ctes: Map<string, Cte>
}

interface Cte {
  columns?: ScopeColumn[]
  names: string[]
}

/** The result of a SELECT: named output columns. */
type Output = ScopeColumn[]

const str = (n: unknown): string | undefined => (n as { String?: { sval?: string } } | undefined)?.String?.sval
const kind = (n: unknown): [string, Node] => {
  for (const k in n as Node) return [k, (n as Node)[k] as Node]
  return ['', {}]
}
const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid'])

/**
 * A resolver for the view `query`; `relations` maps each RangeVar node of the tree to the
 * relation it named when the view was created (search_path applied then).
 */
export function pgViewResolver(query: Node, relations: Map<object, RelationRef>): ViewResolver {
  return (lookup) => new PgResolver(lookup, relations).view(query)
}

/** Every RangeVar of a parse tree with the CTE names around it left for the resolver. */
export function rangeVars(
  query: unknown,
  out: { schemaname?: string; relname: string }[] = [],
): { schemaname?: string; relname: string }[] {
  if (Array.isArray(query)) {
    for (const x of query) rangeVars(x, out)
  } else if (query !== null && typeof query === 'object') {
    for (const [k, v] of Object.entries(query as Node)) {
      if (k === 'RangeVar' && v !== null && typeof v === 'object') out.push(v as { relname: string })
      rangeVars(v, out)
    }
  }
  return out
}

class PgResolver {
  private readonly other: ColumnRef[] = []

  constructor(
    private readonly lookup: ColumnLookup,
    private readonly relations: Map<object, RelationRef>,
  ) {}

  view(query: Node): ViewColumns {
    const out = this.select(query, { items: [], ctes: new Map() }, true)
    const columns: ViewColumn[] = out.map((c) => ({
      type: c.val.type ? (c.val.type.lit ? 'text' : c.val.type.text) : undefined,
      sources: c.val.sources,
    }))
    return { columns, otherReads: this.other }
  }

  /** A query node (SelectStmt) → its output columns. `outer`: the scope for correlated references. */
  private select(node: Node, outer: Scope, top = false): Output {
    const s = (node.SelectStmt ?? node) as Node
    const ctes = new Map(outer.ctes)
    const withc = s.withClause as { ctes?: Node[]; recursive?: boolean } | undefined
    if (withc)
      for (const c of withc.ctes ?? [])
        this.cte(c.CommonTableExpr as Node, ctes, { items: outer.items, parent: outer.parent, ctes }, withc.recursive === true)
    const scope: Scope = { items: [], parent: outer.items.length > 0 || outer.parent ? outer : undefined, ctes }
    void top
    if (s.op !== undefined && s.op !== 'SETOP_NONE') {
      const l = this.select(s.larg as Node, scope)
      const r = this.select(s.rarg as Node, scope)
      return l.map((c, i) => {
        const rc = r[i]
        const sources = [...c.val.sources]
        for (const x of rc?.val.sources ?? []) addColumnRef(sources, x)
        return { name: c.name, val: { type: rc ? setOpType(c.val.type, rc.val.type) : undefined, sources } }
      })
    }
    if (s.valuesLists !== undefined) {
      const rows = (s.valuesLists as Node[]).map((r) => ((r.List as { items?: Node[] }).items ?? []).map((e) => this.expr(e, scope)))
      const n = rows[0]?.length ?? 0
      const out: Output = []
      for (let i = 0; i < n; i++) {
        const sources: ColumnRef[] = []
        for (const r of rows) for (const x of r[i]?.sources ?? []) addColumnRef(sources, x)
        const t = commonType(rows.map((r) => r[i]?.type))
        out.push({ name: `column${i + 1}`, val: { type: t?.lit ? T.text : t, sources } })
      }
      return out
    }
    for (const f of (s.fromClause as Node[] | undefined) ?? []) scope.items.push(...this.fromItem(f, scope))
    const out: Output = []
    for (const t of (s.targetList as Node[] | undefined) ?? []) {
      const rt = t.ResTarget as { name?: string; val?: Node }
      const v = rt.val
      if (v?.ColumnRef && ((v.ColumnRef as { fields: Node[] }).fields.at(-1) as Node).A_Star !== undefined) {
        out.push(...this.star((v.ColumnRef as { fields: Node[] }).fields, scope))
        continue
      }
      out.push({ name: rt.name ?? exprName(v), val: v ? this.expr(v, scope) : { sources: [] } })
    }
    // everything else is read to filter, group or order rows: counted, never edged
    for (const k of [
      'whereClause',
      'havingClause',
      'groupClause',
      'sortClause',
      'distinctClause',
      'windowClause',
      'limitCount',
      'limitOffset',
    ]) {
      if (s[k] !== undefined) this.reads(s[k], scope, out)
    }
    return out
  }

  /** Reads of a clause outside the SELECT list (a GROUP BY / ORDER BY position or output name is not a read). */
  private reads(n: unknown, scope: Scope, out: Output): void {
    for (const x of Array.isArray(n) ? n : [n]) {
      if (x === null || typeof x !== 'object') continue
      const node = x as Node
      if (node.A_Const) continue
      if (node.SortBy) {
        this.reads((node.SortBy as Node).node, scope, out)
        continue
      }
      if (node.ColumnRef) {
        const f = (node.ColumnRef as { fields: Node[] }).fields
        if (f.length === 1 && !this.find(f, scope) && out.some((c) => c.name === str(f[0]))) continue
      }
      if (node.WindowDef) {
        const w = node.WindowDef as Node
        this.reads(w.partitionClause ?? [], scope, out)
        this.reads(w.orderClause ?? [], scope, out)
        continue
      }
      if (node.GroupingSet) {
        this.reads((node.GroupingSet as Node).content ?? [], scope, out)
        continue
      }
      for (const c of this.expr(node, scope).sources) addColumnRef(this.other, c)
    }
  }

  private cte(c: Node, ctes: Map<string, Cte>, scope: Scope, recursive: boolean): void {
    const name = c.ctename as string
    const names = ((c.aliascolnames as unknown[] | undefined) ?? []).map((x) => str(x)!)
    const q = (c.ctequery as Node).SelectStmt as Node | undefined
    const entry: Cte = { names }
    const rename = (out: Output): ScopeColumn[] => out.map((col, i) => ({ name: names[i] ?? col.name, val: col.val }))
    if (!q) {
      ctes.set(name, entry)
      return
    } // INSERT/UPDATE ... RETURNING: columns unknown
    if (recursive && q.op === 'SETOP_UNION' && q.larg) {
      // the non-recursive branch fixes the columns and types; the recursive one adds reads
      entry.columns = rename(this.select(q.larg as Node, scope))
      ctes.set(name, entry)
      for (let i = 0; i < 4; i++) {
        const r = this.select(q.rarg as Node, { ...scope, ctes })
        let grew = false
        entry.columns = entry.columns.map((col, j) => {
          const sources = [...col.val.sources]
          for (const x of r[j]?.val.sources ?? []) {
            const n = sources.length
            addColumnRef(sources, x)
            grew ||= sources.length > n
          }
          return { name: col.name, val: { type: col.val.type, sources } }
        })
        if (!grew) break
      }
      return
    }
    entry.columns = rename(this.select(q, scope))
    ctes.set(name, entry)
  }

  /** FROM item → the items it makes visible (a join makes its sides visible, plus itself when aliased). */
  private fromItem(f: Node, scope: Scope): Item[] {
    const [k, b] = kind(f)
    switch (k) {
      case 'RangeVar':
        return [this.rangeVar(b, scope)]
      case 'RangeSubselect': {
        const alias = b.alias as { aliasname?: string; colnames?: unknown[] } | undefined
        const inner: Scope = b.lateral
          ? { items: [], parent: scope, ctes: scope.ctes }
          : { items: [], parent: scope.parent, ctes: scope.ctes }
        const out = this.select(b.subquery as Node, inner)
        return [{ alias: alias?.aliasname ?? '', columns: renameCols(out, alias?.colnames), opaque: false }]
      }
      case 'RangeFunction': {
        const alias = b.alias as { aliasname?: string; colnames?: unknown[] } | undefined
        const sources: ColumnRef[] = []
        const inner: Scope = b.lateral ? scope : { items: [], parent: scope.parent, ctes: scope.ctes }
        for (const fl of (b.functions as Node[] | undefined) ?? []) {
          const fn = ((fl.List as { items?: Node[] }).items ?? [])[0]
          if (fn) for (const x of this.expr(fn, inner).sources) addColumnRef(sources, x)
        }
        const names = (alias?.colnames ?? []).map((x) => str(x)!)
        for (const cd of (b.coldeflist as Node[] | undefined) ?? []) names.push((cd.ColumnDef as { colname: string }).colname)
        return [{ alias: alias?.aliasname ?? '', columns: names.map((name) => ({ name, val: { sources } })), opaque: names.length === 0 }]
      }
      case 'JoinExpr': {
        const left = this.fromItem(b.larg as Node, scope)
        const right = this.fromItem(b.rarg as Node, { ...scope, items: [...scope.items, ...left] })
        const both = [...left, ...right]
        const joinScope: Scope = { ...scope, items: [...scope.items, ...both] }
        if (b.quals !== undefined) this.reads(b.quals, joinScope, [])
        const using = ((b.usingClause as unknown[] | undefined) ?? []).map((x) => str(x)!)
        const items = [...both]
        if (using.length > 0 || b.isNatural) {
          // a USING / NATURAL column is one column of the join: the left side's, the right's
          // for RIGHT JOIN, both for FULL JOIN (COALESCE)
          const names = b.isNatural
            ? visible(left)
                .filter((c) => visible(right).some((r) => r.name === c.name))
                .map((c) => c.name)
            : using
          const merged: ScopeColumn[] = []
          for (const n of names) {
            const l = lookupIn(left, n)
            const r = lookupIn(right, n)
            for (const x of [...(l?.val.sources ?? []), ...(r?.val.sources ?? [])]) addColumnRef(this.other, x)
            const jt = b.jointype as string
            const pick = jt === 'JOIN_RIGHT' ? r : l
            if (jt === 'JOIN_FULL') {
              const sources = [...(l?.val.sources ?? [])]
              for (const x of r?.val.sources ?? []) addColumnRef(sources, x)
              merged.push({ name: n, val: { type: l && r ? commonType([l.val.type, r.val.type]) : undefined, sources } })
            } else merged.push({ name: n, val: pick?.val ?? { sources: [] } })
          }
          // unqualified, the merged column wins over the sides' own columns of that name
          items.unshift({ alias: '', columns: merged, opaque: false, hidden: true })
        }
        const alias = b.alias as { aliasname?: string; colnames?: unknown[] } | undefined
        if (alias?.aliasname) {
          // an aliased join hides its sides: only the alias is visible
          const cols = [
            ...(items[0]?.hidden ? items[0].columns : []),
            ...both.flatMap((i) => i.columns).filter((c) => !(items[0]?.hidden && items[0].columns.some((m) => m.name === c.name))),
          ]
          return [{ alias: alias.aliasname, columns: renameCols(cols, alias.colnames), opaque: both.some((i) => i.opaque) }]
        }
        return items
      }
      default:
        return [{ alias: '', columns: [], opaque: true }]
    }
  }

  private rangeVar(rv: Node, scope: Scope): Item {
    const alias = rv.alias as { aliasname?: string; colnames?: unknown[] } | undefined
    const relname = rv.relname as string
    if (rv.schemaname === undefined) {
      const cte = scope.ctes.get(relname)
      if (cte) {
        const cols = cte.columns ?? []
        return { alias: alias?.aliasname ?? relname, columns: renameCols(cols, alias?.colnames), opaque: cte.columns === undefined }
      }
    }
    let ref = this.relations.get(rv)
    const known = ref ? this.lookup(ref) : undefined
    // PostgreSQL's own catalogs: no column edges (pg_depend records no dependency on them
    // either); the types of the columns pg-types.ts lists
    if (!known && ref && (ref.schema === 'pg_catalog' || ref.schema === 'information_schema')) {
      const sys = CATALOG_COLUMNS[`${ref.schema}.${ref.name}`]
      if (sys) {
        const cols = Object.entries(sys).map(([name, type]) => new RelationColumn(undefined, name, type))
        return { alias: alias?.aliasname ?? relname, columns: renameCols(cols, alias?.colnames), opaque: true }
      }
      ref = undefined
    }
    const columns: ScopeColumn[] = (known ?? []).map((c) => new RelationColumn(ref, c.name, c.type))
    return {
      alias: alias?.aliasname ?? relname,
      qualified: alias?.aliasname === undefined && ref ? { schema: ref.schema, name: ref.name } : undefined,
      columns: renameCols(columns, alias?.colnames),
      opaque: known === undefined,
      ref: known === undefined ? ref : undefined,
    }
  }

  /** `*` / `t.*` in a SELECT list. */
  private star(fields: Node[], scope: Scope): Output {
    if (fields.length === 1) return scope.items.filter((i) => !i.hidden || true).flatMap((i) => i.columns)
    const it = this.item(
      fields.slice(0, -1).map((f) => str(f)!),
      scope,
    )
    return it?.columns ?? []
  }

  private item(qual: string[], scope: Scope | undefined): Item | undefined {
    for (let s = scope; s; s = s.parent) {
      for (const i of s.items) {
        if (i.hidden) continue
        if (qual.length === 1 && i.alias === qual[0]) return i
        if (qual.length === 2 && i.qualified?.schema === qual[0] && i.qualified?.name === qual[1]) return i
      }
    }
    return undefined
  }

  /** Resolve a column reference; undefined when it names nothing known. */
  private find(fields: Node[], scope: Scope): Val | undefined {
    const names = fields.map((f) => str(f))
    if (names.some((n) => n === undefined)) return undefined
    const col = names[names.length - 1]!
    if (names.length === 1) {
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        let opaque = false
        for (const i of s.items) {
          const c = i.columns.find((x) => x.name === col)
          if (c) return c.val
          if (i.opaque) opaque = true
        }
        if (opaque) {
          // the column may be the unknown relation's; certain only when there is just one such relation
          const ext = s.items.filter((i) => i.opaque)
          if (ext.length === 1 && ext[0]!.ref && !SYSTEM_COLUMNS.has(col)) return { sources: [{ ...ext[0]!.ref, column: col }] }
          return undefined
        }
      }
      return undefined
    }
    const it = this.item(names.slice(-3, -1) as string[], scope) ?? this.item(names.slice(-2, -1) as string[], scope)
    if (!it) return undefined
    const c = it.columns.find((x) => x.name === col)
    if (c) return c.val
    if (it.opaque && it.ref && !SYSTEM_COLUMNS.has(col)) return { sources: [{ ...it.ref, column: col }] }
    return undefined
  }

  private exprs(ns: unknown, scope: Scope): Val[] {
    return ((ns as Node[] | undefined) ?? []).map((n) => this.expr(n, scope))
  }

  /** An expression's type and reads. */
  private expr(n: Node, scope: Scope): Val {
    const [k, b] = kind(n)
    switch (k) {
      case 'ColumnRef': {
        const v = this.find(b.fields as Node[], scope)
        return v ?? { sources: [] }
      }
      case 'A_Const':
        return { type: constType(b), sources: [] }
      case 'TypeCast': {
        const v = this.expr(b.arg as Node, scope)
        const t = typeNameText(b.typeName as Node)
        return { type: t === undefined ? undefined : pgType(t), sources: v.sources }
      }
      case 'CollateClause':
        return this.expr(b.arg as Node, scope)
      case 'A_Expr':
        return this.aExpr(b, scope)
      case 'BoolExpr':
        return { type: T.boolean, sources: merge(this.exprs(b.args, scope)) }
      case 'NullTest':
      case 'BooleanTest':
        return { type: T.boolean, sources: this.expr(b.arg as Node, scope).sources }
      case 'FuncCall':
        return this.func(b, scope)
      case 'SQLValueFunction':
        return { type: svfType(b.op as string, b.typmod as number), sources: [] }
      case 'CaseExpr': {
        const whens = ((b.args as Node[] | undefined) ?? []).map((w) => w.CaseWhen as Node)
        const parts: Val[] = []
        if (b.arg !== undefined) parts.push(this.expr(b.arg as Node, scope))
        const results: Val[] = []
        for (const w of whens) {
          parts.push(this.expr(w.expr as Node, scope))
          results.push(this.expr(w.result as Node, scope))
        }
        results.push(b.defresult !== undefined ? this.expr(b.defresult as Node, scope) : { type: T.null, sources: [] })
        const t = commonType(results.map((r) => r.type))
        return { type: t, sources: merge([...parts, ...results]) }
      }
      case 'CoalesceExpr':
      case 'MinMaxExpr': {
        const args = this.exprs(b.args, scope)
        return { type: commonType(args.map((a) => a.type)), sources: merge(args) }
      }
      case 'SubLink':
        return this.subLink(b, scope)
      case 'A_Indirection': {
        const v = this.expr(b.arg as Node, scope)
        const ind = (b.indirection as Node[] | undefined) ?? []
        const subs = ind.map((i) => i.A_Indices as Node | undefined)
        const sources = [...v.sources]
        for (const s of subs)
          for (const e of [s?.lidx, s?.uidx]) if (e) for (const x of this.expr(e as Node, scope).sources) addColumnRef(sources, x)
        const plain = subs.length === 1 && subs[0] && !subs[0].is_slice && v.type?.base.endsWith('[]')
        return { type: plain ? dropMod(pgType(v.type!.base.slice(0, -2))) : undefined, sources }
      }
      case 'GroupingFunc':
        return { type: T.integer, sources: [] }
      case 'RowExpr':
      case 'A_ArrayExpr':
        return { sources: merge(this.exprs(b.args ?? b.elements, scope)) }
      case 'ParamRef':
        return { sources: [] }
      default: {
        // anything else: its reads still count (XmlExpr, JSON constructors ...), no type
        const sources: ColumnRef[] = []
        this.walkExprs(b, scope, sources)
        return { sources }
      }
    }
  }

  private walkExprs(b: unknown, scope: Scope, out: ColumnRef[]): void {
    if (Array.isArray(b)) {
      for (const x of b) this.walkExprs(x, scope, out)
      return
    }
    if (b === null || typeof b !== 'object') return
    for (const [k, v] of Object.entries(b as Node)) {
      if (v === null || typeof v !== 'object') continue
      if (/^[A-Z]/.test(k) && !Array.isArray(v)) {
        for (const x of this.expr({ [k]: v }, scope).sources) addColumnRef(out, x)
      } else this.walkExprs(v, scope, out)
    }
  }

  private aExpr(b: Node, scope: Scope): Val {
    const l =
      b.lexpr !== undefined
        ? Array.isArray(b.lexpr)
          ? { sources: merge(this.exprs(b.lexpr, scope)) }
          : this.expr(b.lexpr as Node, scope)
        : undefined
    const rList = Array.isArray(b.rexpr) || (b.rexpr as Node | undefined)?.List !== undefined
    const rNodes = Array.isArray(b.rexpr)
      ? (b.rexpr as Node[])
      : ((b.rexpr as Node | undefined)?.List as { items?: Node[] } | undefined)?.items
    const r =
      b.rexpr === undefined ? undefined : rList ? ({ sources: merge(this.exprs(rNodes, scope)) } as Val) : this.expr(b.rexpr as Node, scope)
    const sources = merge([l, r].filter((x): x is Val => x !== undefined))
    const op = (b.name as Node[] | undefined)?.map((x) => str(x)).at(-1) ?? ''
    switch (b.kind as string) {
      case 'AEXPR_OP':
        return { type: operatorType(op, l?.type, r?.type, l !== undefined), sources }
      case 'AEXPR_NULLIF':
        return { type: l?.type && !l.type.lit ? l.type : undefined, sources }
      case 'AEXPR_OP_ANY':
      case 'AEXPR_OP_ALL':
      case 'AEXPR_DISTINCT':
      case 'AEXPR_NOT_DISTINCT':
      case 'AEXPR_IN':
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE':
      case 'AEXPR_SIMILAR':
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
      case 'AEXPR_BETWEEN_SYM':
      case 'AEXPR_NOT_BETWEEN_SYM':
        return { type: T.boolean, sources }
      default:
        return { sources }
    }
  }

  private func(b: Node, scope: Scope): Val {
    const names = (b.funcname as Node[]).map((x) => str(x)!)
    const name = names[names.length - 1]!.toLowerCase()
    const builtin = names.length === 1 || names[0] === 'pg_catalog'
    const args = this.exprs(b.args, scope)
    const parts = [...args]
    if (b.agg_filter !== undefined) parts.push(this.expr(b.agg_filter as Node, scope))
    for (const o of (b.agg_order as Node[] | undefined) ?? []) parts.push(this.expr((o.SortBy as Node).node as Node, scope))
    if (b.over !== undefined) {
      const w = b.over as Node
      this.reads(w.partitionClause ?? [], scope, [])
      this.reads(w.orderClause ?? [], scope, [])
    }
    let type = builtin
      ? functionType(
          name,
          args.map((a) => a.type),
          b.agg_star === true,
        )
      : undefined
    // a function the dump's user could shadow in an earlier search_path schema is still the
    // built-in: pg_dump writes non-built-in functions schema-qualified
    if (name === 'count' && !builtin) type = undefined
    return { type, sources: merge(parts) }
  }

  private subLink(b: Node, scope: Scope): Val {
    const inner: Scope = { items: [], parent: scope, ctes: scope.ctes }
    const out = this.select(b.subselect as Node, inner)
    const test = b.testexpr !== undefined ? this.expr(b.testexpr as Node, scope) : undefined
    switch (b.subLinkType as string) {
      case 'EXISTS_SUBLINK':
        return { type: T.boolean, sources: [] }
      case 'EXPR_SUBLINK':
        return { type: out.length === 1 ? out[0]!.val.type : undefined, sources: out[0]?.val.sources ?? [] }
      case 'ARRAY_SUBLINK': {
        const t = out.length === 1 ? out[0]!.val.type : undefined
        return {
          type: t && !t.lit && !t.base.endsWith('[]') ? pgType(dropMod(t).text + '[]') : undefined,
          sources: out[0]?.val.sources ?? [],
        }
      }
      default:
        return { type: T.boolean, sources: merge([...(test ? [test] : []), ...out.map((c) => c.val)]) }
    }
  }
}

/** A relation's column in scope; its value is built when a reference reaches it. */
class RelationColumn implements ScopeColumn {
  private v: Val | undefined
  constructor(
    private readonly ref: RelationRef | undefined,
    readonly name: string,
    private readonly type: string | undefined,
  ) {}
  get val(): Val {
    this.v ??= {
      type: this.type !== undefined ? pgType(this.type) : undefined,
      sources: this.ref ? [{ ...this.ref, column: this.name }] : [],
    }
    return this.v
  }
}

function setOpType(a: PgType | undefined, b: PgType | undefined): PgType | undefined {
  const t = commonType([a, b])
  // a set operation resolves untyped literals: the branch's column is text from then on
  return t?.lit ? T.text : t
}

function merge(vals: Val[]): ColumnRef[] {
  const out: ColumnRef[] = []
  for (const v of vals) for (const x of v.sources) addColumnRef(out, x)
  return out
}

function renameCols(cols: ScopeColumn[], names: unknown[] | undefined): ScopeColumn[] {
  if (!names || names.length === 0) return cols
  return cols.map((c, i) => ({ name: str(names[i]) ?? c.name, val: c.val }))
}

function visible(items: Item[]): ScopeColumn[] {
  return items.flatMap((i) => i.columns)
}

function lookupIn(items: Item[], name: string): ScopeColumn | undefined {
  for (const i of items) {
    const c = i.columns.find((x) => x.name === name)
    if (c) return c
  }
  return undefined
}

function constType(b: Node): PgType | undefined {
  if (b.isnull) return T.null
  if (b.ival !== undefined) return T.integer
  if (b.boolval !== undefined) return T.boolean
  if (b.sval !== undefined) return T.unknown
  if (b.fval !== undefined) {
    const v = (b.fval as { fval?: string }).fval ?? ''
    if (/^-?\d+$/.test(v)) {
      const n = BigInt(v)
      return n >= -(2n ** 63n) && n < 2n ** 63n ? T.bigint : T.numeric
    }
    return T.numeric
  }
  return undefined
}

function svfType(op: string, typmod: number): PgType | undefined {
  const p = typmod >= 0 ? `(${typmod})` : ''
  switch (op) {
    case 'SVFOP_CURRENT_DATE':
      return T.date
    case 'SVFOP_CURRENT_TIME':
    case 'SVFOP_CURRENT_TIME_N':
      return pgType(`time${p} with time zone`)
    case 'SVFOP_CURRENT_TIMESTAMP':
    case 'SVFOP_CURRENT_TIMESTAMP_N':
      return pgType(`timestamp${p} with time zone`)
    case 'SVFOP_LOCALTIME':
    case 'SVFOP_LOCALTIME_N':
      return pgType(`time${p} without time zone`)
    case 'SVFOP_LOCALTIMESTAMP':
    case 'SVFOP_LOCALTIMESTAMP_N':
      return pgType(`timestamp${p} without time zone`)
    case 'SVFOP_CURRENT_ROLE':
    case 'SVFOP_CURRENT_USER':
    case 'SVFOP_USER':
    case 'SVFOP_SESSION_USER':
    case 'SVFOP_CURRENT_CATALOG':
    case 'SVFOP_CURRENT_SCHEMA':
      return T.name
  }
  return undefined
}

/** A SELECT-list entry's name as PostgreSQL derives it (FigureColname). */
export function exprName(v: Node | undefined): string {
  if (!v) return '?column?'
  const [k, b] = kind(v)
  switch (k) {
    case 'ColumnRef':
      return str((b.fields as Node[]).at(-1)) ?? '?column?'
    case 'TypeCast': {
      const inner = exprName(b.arg as Node)
      if (inner !== '?column?') return inner
      const names = ((b.typeName as Node).names as Node[]).map((x) => str(x)!)
      return names[names.length - 1]!
    }
    case 'FuncCall':
      return str((b.funcname as Node[]).at(-1)) ?? '?column?'
    case 'CaseExpr':
      return exprName(b.defresult as Node | undefined) === '?column?' ? 'case' : exprName(b.defresult as Node)
    case 'CoalesceExpr':
      return 'coalesce'
    case 'MinMaxExpr':
      return b.op === 'IS_GREATEST' ? 'greatest' : 'least'
    case 'A_Indirection': {
      const last = ((b.indirection as Node[] | undefined) ?? []).at(-1)
      const s = str(last)
      return s ?? exprName(b.arg as Node)
    }
    case 'SubLink': {
      if (b.subLinkType === 'EXISTS_SUBLINK') return 'exists'
      if (b.subLinkType === 'ARRAY_SUBLINK') return 'array'
      if (b.subLinkType === 'EXPR_SUBLINK') {
        const t = (((b.subselect as Node).SelectStmt as Node).targetList as Node[] | undefined)?.[0]?.ResTarget as
          | { name?: string; val?: Node }
          | undefined
        return t?.name ?? exprName(t?.val)
      }
      return '?column?'
    }
    case 'A_ArrayExpr':
      return 'array'
    case 'RowExpr':
      return 'row'
    case 'SQLValueFunction': {
      const m: Record<string, string> = {
        SVFOP_CURRENT_DATE: 'current_date',
        SVFOP_CURRENT_TIME: 'current_time',
        SVFOP_CURRENT_TIME_N: 'current_time',
        SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
        SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
        SVFOP_LOCALTIME: 'localtime',
        SVFOP_LOCALTIME_N: 'localtime',
        SVFOP_LOCALTIMESTAMP: 'localtimestamp',
        SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
        SVFOP_CURRENT_ROLE: 'current_role',
        SVFOP_CURRENT_USER: 'current_user',
        SVFOP_USER: 'user',
        SVFOP_SESSION_USER: 'session_user',
        SVFOP_CURRENT_CATALOG: 'current_catalog',
        SVFOP_CURRENT_SCHEMA: 'current_schema',
      }
      return m[b.op as string] ?? '?column?'
    }
    case 'GroupingFunc':
      return 'grouping'
    case 'CollateClause':
      return exprName(b.arg as Node)
  }
  return '?column?'
}
