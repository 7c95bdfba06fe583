// Column lineage of a MySQL / MariaDB view from the tokens of its SELECT (the same
// tokenizer as mysql-ddl.ts): each output column is resolved to the relation columns its
// expression reads, through aliases, joins (parenthesised too), derived tables, CTEs and
// UNION branches. A column that passes one relation column through takes that column's
// type and comment, as MariaDB reports them; any other expression gets no type (the server's
// result types vary by version). docs/sql.md, "Column lineage".

import {
  addColumnRef,
  type ColumnLookup,
  type ColumnRef,
  type RelationRef,
  type ViewColumn,
  type ViewColumns,
  type ViewResolver,
} from './view-columns.js'

/** The token shape of mysql-ddl.ts's tokenizer. */
interface Tok {
  kind: 'word' | 'ident' | 'string' | 'number' | 'punct'
  value: string
}

/** A SELECT-list or clause expression: the column names it reads and the subqueries in it. */
interface Expr {
  refs: string[][]
  subqueries: Query[]
  /** The whole expression is one column reference (a pass-through). */
  single: boolean
}

interface SelectItem {
  /** The output name: the alias, else a column reference's name. */
  name: string
  expr: Expr
  /** `*` or `t.*`: the qualifier ([] for a bare star). */
  star?: string[]
}

type From =
  | { kind: 'table'; schema?: string; name: string; ref: RelationRef | undefined; alias: string }
  | { kind: 'derived'; query: Query; alias: string; names: string[] }
  | { kind: 'opaque'; alias: string }

interface Select {
  kind: 'select'
  ctes: { name: string; names: string[]; query: Query; recursive: boolean }[]
  items: SelectItem[]
  from: From[]
  /** WHERE, ON, GROUP BY, HAVING, ORDER BY ...: read, not selected. */
  other: Expr[]
}

type Query = Select | { kind: 'union'; ctes: Select['ctes']; branches: Query[]; other: Expr[] }

const CLAUSE = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'LIMIT',
  'WINDOW',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'INTO',
  'FOR',
  'LOCK',
  'PROCEDURE',
  'WITH',
])
const JOIN_WORDS = new Set(['JOIN', 'INNER', 'CROSS', 'LEFT', 'RIGHT', 'OUTER', 'NATURAL', 'STRAIGHT_JOIN', 'FULL'])
/** Bare words that are syntax, never a column (a backticked name always is a name). */
const SYNTAX = new Set([
  'AND',
  'OR',
  'NOT',
  'XOR',
  'NULL',
  'IS',
  'IN',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'AS',
  'DISTINCT',
  'ALL',
  'INTERVAL',
  'LIKE',
  'REGEXP',
  'RLIKE',
  'BETWEEN',
  'EXISTS',
  'TRUE',
  'FALSE',
  'UNKNOWN',
  'SEPARATOR',
  'ASC',
  'DESC',
  'BY',
  'ORDER',
  'DIV',
  'MOD',
  'BINARY',
  'COLLATE',
  'ESCAPE',
  'OVER',
  'PARTITION',
  'ROWS',
  'RANGE',
  'UNBOUNDED',
  'PRECEDING',
  'FOLLOWING',
  'CURRENT',
  'ROW',
  'USING',
  'CHARACTER',
  'SET',
  'CHARSET',
  'SIGNED',
  'UNSIGNED',
  'MICROSECOND',
  'SECOND',
  'MINUTE',
  'HOUR',
  'DAY',
  'WEEK',
  'MONTH',
  'QUARTER',
  'YEAR',
  'SECOND_MICROSECOND',
  'MINUTE_SECOND',
  'HOUR_MINUTE',
  'DAY_HOUR',
  'YEAR_MONTH',
  'DAY_SECOND',
  'DAY_MINUTE',
  'HOUR_SECOND',
  'CURRENT_TIMESTAMP',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'CURRENT_USER',
  'LOCALTIME',
  'LOCALTIMESTAMP',
  'SELECT',
  'FROM',
  'WHERE',
  'ANY',
  'SOME',
  'LEADING',
  'TRAILING',
  'BOTH',
  'FOR',
  'ON',
  'DATE',
  'TIME',
  'TIMESTAMP',
])

/**
 * Parse a view's SELECT (tokens from `start`) now, naming its tables through `toRef` (the
 * database in force at the CREATE VIEW); the returned resolver reads columns at the end of
 * input. Undefined when the statement is not a SELECT this reader follows.
 */
export function mysqlViewResolver(
  tokens: readonly Tok[],
  start: number,
  toRef: (q: { schema?: string; name: string }) => RelationRef,
): ViewResolver | undefined {
  const p = new Parser(tokens, start, toRef)
  let q: Query
  try {
    q = p.query()
  } catch {
    // a SELECT this reader cannot follow: the view keeps its table-level lineage and the
    // converter counts it (mysql_dump.views_not_resolved)
    return undefined
  }
  return (lookup) => new Resolver(lookup).view(q)
}

class Parser {
  constructor(
    private readonly t: readonly Tok[],
    private i: number,
    private readonly toRef: (q: { schema?: string; name: string }) => RelationRef,
  ) {}

  private word(k = 0): string {
    const x = this.t[this.i + k]
    return x?.kind === 'word' ? x.value.toUpperCase() : ''
  }
  private punct(p: string, k = 0): boolean {
    const x = this.t[this.i + k]
    return x?.kind === 'punct' && x.value === p
  }
  private atEnd(): boolean {
    return this.i >= this.t.length || this.punct(')') || this.punct(';')
  }
  private name(): string {
    const x = this.t[this.i++]
    if (!x || (x.kind !== 'ident' && x.kind !== 'word')) throw new Error(`expected a name at ${this.i - 1}: ${JSON.stringify(x)}`)
    return x.value
  }

  /** [WITH ...] select [UNION select ...] [ORDER BY ...] [LIMIT ...] */
  query(): Query {
    const ctes: Select['ctes'] = []
    if (this.word() === 'WITH') {
      this.i++
      const recursive = this.word() === 'RECURSIVE'
      if (recursive) this.i++
      for (;;) {
        const name = this.name()
        const names = this.punct('(') ? this.nameList() : []
        if (this.word() !== 'AS') throw new Error('expected AS')
        this.i++
        if (!this.punct('(')) throw new Error('expected (')
        this.i++
        const query = this.query()
        this.expect(')')
        ctes.push({ name, names, query, recursive })
        if (!this.punct(',')) break
        this.i++
      }
    }
    const branches: Query[] = [this.term()]
    while (this.word() === 'UNION' || this.word() === 'EXCEPT' || this.word() === 'INTERSECT') {
      this.i++
      if (this.word() === 'ALL' || this.word() === 'DISTINCT') this.i++
      branches.push(this.term())
    }
    const other: Expr[] = []
    this.tail(other)
    if (branches.length === 1 && branches[0]!.kind === 'select') {
      const s = branches[0] as Select
      s.ctes.unshift(...ctes)
      s.other.push(...other)
      return s
    }
    return { kind: 'union', ctes, branches, other }
  }

  /** ORDER BY / LIMIT and anything else up to the end of this query: reads only. */
  private tail(other: Expr[]): void {
    while (!this.atEnd() && !['UNION', 'EXCEPT', 'INTERSECT'].includes(this.word())) {
      if (this.word() === 'WITH' && (this.word(1) === 'CASCADED' || this.word(1) === 'LOCAL' || this.word(1) === 'CHECK')) {
        this.i = this.t.length // WITH [CASCADED|LOCAL] CHECK OPTION ends the view
        return
      }
      if (CLAUSE.has(this.word()) || this.word() === 'BY') {
        this.i++
        continue
      }
      const at = this.i
      other.push(this.expr())
      if (this.punct(',') || this.i === at) this.i++ // ASC, DESC, a stray word: move on
    }
  }

  private term(): Query {
    if (this.punct('(')) {
      this.i++
      const q = this.query()
      this.expect(')')
      return q
    }
    if (this.word() !== 'SELECT') throw new Error('expected SELECT')
    this.i++
    while (
      [
        'DISTINCT',
        'ALL',
        'DISTINCTROW',
        'STRAIGHT_JOIN',
        'SQL_NO_CACHE',
        'SQL_CACHE',
        'SQL_CALC_FOUND_ROWS',
        'HIGH_PRIORITY',
        'SQL_SMALL_RESULT',
        'SQL_BIG_RESULT',
        'SQL_BUFFER_RESULT',
      ].includes(this.word())
    )
      this.i++
    const s: Select = { kind: 'select', ctes: [], items: [], from: [], other: [] }
    for (;;) {
      s.items.push(this.selectItem())
      if (!this.punct(',')) break
      this.i++
    }
    if (this.word() === 'FROM') {
      this.i++
      this.fromList(s)
    }
    // WHERE / GROUP BY / HAVING / WINDOW (ORDER BY and LIMIT of the last branch are read by query())
    while (!this.atEnd() && ['WHERE', 'GROUP', 'HAVING', 'WINDOW'].includes(this.word())) {
      this.i++
      if (this.word() === 'BY') this.i++
      for (;;) {
        s.other.push(this.expr())
        if (!this.punct(',')) break
        this.i++
      }
      if (this.word() === 'WITH' && this.word(1) === 'ROLLUP') this.i += 2
    }
    return s
  }

  private selectItem(): SelectItem {
    if (this.punct('*')) {
      this.i++
      return { name: '*', expr: { refs: [], subqueries: [], single: false }, star: [] }
    }
    // t.* / db.t.*
    const q: string[] = []
    let k = 0
    while (this.t[this.i + k] && (this.t[this.i + k]!.kind === 'ident' || this.t[this.i + k]!.kind === 'word') && this.punct('.', k + 1)) {
      q.push(this.t[this.i + k]!.value)
      k += 2
      if (this.punct('*', k)) {
        this.i += k + 1
        return { name: '*', expr: { refs: [], subqueries: [], single: false }, star: q }
      }
    }
    const expr = this.expr()
    const name = expr.single ? expr.refs[0]![expr.refs[0]!.length - 1]! : ''
    if (this.word() === 'AS') this.i++
    const a = this.t[this.i]
    if (a && (a.kind === 'ident' || a.kind === 'string' || (a.kind === 'word' && !CLAUSE.has(a.value.toUpperCase())))) {
      this.i++
      return { name: a.value, expr }
    }
    return { name, expr }
  }

  /** FROM list: table factors joined by commas and JOINs. */
  private fromList(s: Select): void {
    this.tableRef(s)
    for (;;) {
      if (this.punct(',')) {
        this.i++
        this.tableRef(s)
      } else if (JOIN_WORDS.has(this.word())) {
        while (JOIN_WORDS.has(this.word())) this.i++
        this.tableRef(s)
      } else if (this.word() === 'ON' || this.word() === 'USING') {
        this.joinSpec(s)
      } else return
    }
  }

  private joinSpec(s: Select): void {
    if (this.word() === 'ON') {
      this.i++
      s.other.push(this.expr())
    } else if (this.word() === 'USING') {
      this.i++
      const names = this.nameList()
      s.other.push({ refs: names.map((n) => [n]), subqueries: [], single: false })
    }
  }

  private tableRef(s: Select): void {
    if (this.word() === 'LATERAL') this.i++
    if (this.punct('(')) {
      const w = this.t[this.i + 1]
      if (w?.kind === 'word' && /^(SELECT|WITH)$/i.test(w.value)) {
        this.i++
        const query = this.query()
        this.expect(')')
        const alias = this.alias()
        const names = this.punct('(') ? this.nameList() : []
        s.from.push({ kind: 'derived', query, alias: alias ?? '', names })
        return
      }
      // a parenthesised join list
      this.i++
      this.fromList(s)
      this.expect(')')
      return
    }
    const first = this.name()
    if (this.punct('(')) {
      // JSON_TABLE(...) and other table functions
      this.skipGroup()
      s.from.push({ kind: 'opaque', alias: this.alias() ?? '' })
      return
    }
    let schema: string | undefined
    let name = first
    if (this.punct('.')) {
      this.i++
      schema = first
      name = this.name()
    }
    if (this.word() === 'PARTITION') {
      this.i++
      this.skipGroup()
    }
    const alias = this.alias()
    // index hints: USE/FORCE/IGNORE INDEX (...)
    while (['USE', 'FORCE', 'IGNORE'].includes(this.word())) {
      while (!this.atEnd() && !this.punct('(')) this.i++
      this.skipGroup()
    }
    s.from.push({ kind: 'table', schema, name, ref: this.toRef(schema === undefined ? { name } : { schema, name }), alias: alias ?? name })
  }

  private alias(): string | undefined {
    if (this.word() === 'AS') this.i++
    const a = this.t[this.i]
    if (!a) return undefined
    if (a.kind === 'ident' || a.kind === 'string') {
      this.i++
      return a.value
    }
    if (
      a.kind === 'word' &&
      !CLAUSE.has(a.value.toUpperCase()) &&
      !JOIN_WORDS.has(a.value.toUpperCase()) &&
      !['ON', 'USING', 'USE', 'FORCE', 'IGNORE', 'PARTITION'].includes(a.value.toUpperCase())
    ) {
      this.i++
      return a.value
    }
    return undefined
  }

  private nameList(): string[] {
    this.expect('(')
    const out: string[] = []
    while (!this.punct(')')) {
      out.push(this.name())
      if (this.punct(',')) this.i++
      else break
    }
    this.expect(')')
    return out
  }

  private expect(p: string): void {
    if (!this.punct(p)) throw new Error(`expected ${p}`)
    this.i++
  }

  private skipGroup(): void {
    let depth = 0
    do {
      const x = this.t[this.i++]
      if (!x) return
      if (x.kind === 'punct' && x.value === '(') depth++
      else if (x.kind === 'punct' && x.value === ')') depth--
    } while (depth > 0)
  }

  /** An expression up to a top-level comma, alias, clause word or closing parenthesis. */
  private expr(): Expr {
    const e: Expr = { refs: [], subqueries: [], single: false }
    let depth = 0
    let parts = 0
    let caseDepth = 0
    // the last token ended an operand: a name or string right after it is an alias without AS
    let operand = false
    while (this.i < this.t.length) {
      const x = this.t[this.i]!
      const wasOperand = operand
      operand = false
      if (x.kind === 'punct') {
        if (x.value === '(') {
          const w = this.t[this.i + 1]
          if (w?.kind === 'word' && /^(SELECT|WITH)$/i.test(w.value)) {
            this.i++
            e.subqueries.push(this.query())
            this.expect(')')
            parts += 2
            operand = depth === 0
            continue
          }
          depth++
        } else if (x.value === ')') {
          if (depth === 0) break
          depth--
          operand = depth === 0
        } else if ((x.value === ',' || x.value === ';') && depth === 0) break
        this.i++
        parts++
        continue
      }
      const up = x.kind === 'word' ? x.value.toUpperCase() : ''
      if (
        depth === 0 &&
        caseDepth === 0 &&
        x.kind === 'word' &&
        (up === 'AS' || CLAUSE.has(up) || JOIN_WORDS.has(up) || up === 'ON' || up === 'USING' || up === 'ASC' || up === 'DESC')
      )
        break
      if (
        depth === 0 &&
        caseDepth === 0 &&
        wasOperand &&
        (x.kind === 'ident' || x.kind === 'string' || (x.kind === 'word' && !SYNTAX.has(up)))
      )
        break
      if (up === 'CASE') caseDepth++
      else if (up === 'END' && caseDepth > 0) caseDepth--
      if ((x.kind === 'ident' || (x.kind === 'word' && !SYNTAX.has(up))) && !this.punct('.', -1)) {
        // a name chain a.b.c; a name followed by ( is a function
        const chain = [x.value]
        let k = 1
        while (
          this.punct('.', k) &&
          this.t[this.i + k + 1] &&
          (this.t[this.i + k + 1]!.kind === 'ident' || this.t[this.i + k + 1]!.kind === 'word')
        ) {
          chain.push(this.t[this.i + k + 1]!.value)
          k += 2
        }
        if (!this.punct('(', k) && !(x.kind === 'word' && this.t[this.i + k]?.kind === 'string')) {
          e.refs.push(chain)
          this.i += k
          parts++
          operand = depth === 0
          continue
        }
      }
      this.i++
      parts++
      operand = depth === 0 && (x.kind === 'number' || x.kind === 'string' || ['NULL', 'TRUE', 'FALSE', 'END'].includes(up))
    }
    e.single = parts === 1 && e.refs.length === 1
    return e
  }
}

interface Col {
  name: string
  sources: ColumnRef[]
  /** Set for a pass-through of one relation column: its type and comment. */
  type?: string
  description?: string
}

interface Item {
  alias: string
  table?: string
  columns: Col[]
  opaque: boolean
  ref?: RelationRef
}

interface Scope {
  items: Item[]
  parent?: Scope
  ctes: Map<string, Col[] | undefined>
}

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

class Resolver {
  private readonly other: ColumnRef[] = []

  constructor(private readonly lookup: ColumnLookup) {}

  view(q: Query): ViewColumns {
    const cols = this.query(q, { items: [], ctes: new Map() })
    const columns: ViewColumn[] = cols.map((c) => {
      const v: ViewColumn = { sources: c.sources }
      if (c.type !== undefined) v.type = c.type
      if (c.description !== undefined) v.description = c.description
      return v
    })
    return { columns, otherReads: this.other }
  }

  private query(q: Query, outer: Scope): Col[] {
    const ctes = new Map(outer.ctes)
    const scope: Scope = { items: outer.items, parent: outer.parent, ctes }
    for (const c of q.ctes) {
      if (c.recursive && c.query.kind === 'union') {
        const first = this.query(c.query.branches[0]!, scope)
        const named = first.map((x, i) => ({ ...x, name: c.names[i] ?? x.name }))
        ctes.set(c.name, named)
        for (const b of c.query.branches.slice(1)) {
          const more = this.query(b, scope)
          named.forEach((x, i) => {
            for (const s of more[i]?.sources ?? []) addColumnRef(x.sources, s)
            if (more[i]?.type !== x.type) delete x.type
            delete x.description
          })
        }
        continue
      }
      const cols = this.query(c.query, scope)
      ctes.set(
        c.name,
        cols.map((x, i) => ({ ...x, name: c.names[i] ?? x.name })),
      )
    }
    if (q.kind === 'union') {
      const branches = q.branches.map((b) => this.query(b, scope))
      for (const e of q.other) this.reads(e, { items: [], parent: scope, ctes })
      return branches[0]!.map((c, i) => {
        const sources = [...c.sources]
        let same = true
        for (const b of branches.slice(1)) {
          for (const s of b[i]?.sources ?? []) addColumnRef(sources, s)
          if (b[i]?.type === undefined || b[i]!.type !== c.type) same = false
        }
        // a UNION column has the branches' type only when they all agree; comments do not pass through a UNION
        const col: Col = { name: c.name, sources }
        if (same && c.type !== undefined) col.type = c.type
        return col
      })
    }
    const inner: Scope = { items: [], parent: outer.items.length > 0 || outer.parent ? outer : undefined, ctes }
    for (const f of q.from) inner.items.push(this.fromItem(f, inner))
    const out: Col[] = []
    for (const it of q.items) {
      if (it.star) {
        for (const i of inner.items) if (it.star.length === 0 || eq(i.alias, it.star[it.star.length - 1]!)) out.push(...i.columns)
        continue
      }
      out.push({ ...this.expr(it.expr, inner), name: it.name })
    }
    for (const e of q.other) this.reads(e, inner)
    return out
  }

  private fromItem(f: From, scope: Scope): Item {
    if (f.kind === 'opaque') return { alias: f.alias, columns: [], opaque: true }
    if (f.kind === 'derived') {
      const cols = this.query(f.query, { items: [], parent: scope, ctes: scope.ctes })
      return { alias: f.alias, columns: cols.map((c, i) => ({ ...c, name: f.names[i] ?? c.name })), opaque: false }
    }
    if (f.schema === undefined) {
      const cte = [...scope.ctes.entries()].find(([k]) => eq(k, f.name))
      if (cte) return { alias: f.alias, columns: cte[1] ?? [], opaque: cte[1] === undefined }
    }
    const known = f.ref ? this.lookup(f.ref) : undefined
    const ref = f.ref
    return {
      alias: f.alias,
      table: f.name,
      opaque: known === undefined,
      ref,
      columns: (known ?? []).map((c) => {
        const col: Col = { name: c.name, sources: ref ? [{ ...ref, column: c.name }] : [] }
        if (c.type !== undefined) col.type = c.type
        if (c.description !== undefined) col.description = c.description
        return col
      }),
    }
  }

  private find(chain: string[], scope: Scope): Col | undefined {
    const col = chain[chain.length - 1]!
    const qual = chain.slice(0, -1)
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      let opaque = 0
      for (const i of s.items) {
        if (
          qual.length > 0 &&
          !(eq(i.alias, qual[qual.length - 1]!) && (qual.length === 1 || (i.ref !== undefined && i.ref.schema === qual[0])))
        )
          continue
        const c = i.columns.find((x) => eq(x.name, col))
        if (c) return c
        if (i.opaque) opaque++
        if (qual.length > 0 && i.opaque && i.ref) return { name: col, sources: [{ ...i.ref, column: col }] }
      }
      if (opaque > 0) return undefined
    }
    return undefined
  }

  private expr(e: Expr, scope: Scope): Col {
    const sources: ColumnRef[] = []
    let single: Col | undefined
    for (const r of e.refs) {
      const c = this.find(r, scope)
      if (!c) continue
      if (e.single) single = c
      for (const s of c.sources) addColumnRef(sources, s)
    }
    for (const q of e.subqueries) {
      const cols = this.query(q, { items: [], parent: scope, ctes: scope.ctes })
      for (const s of cols[0]?.sources ?? []) addColumnRef(sources, s)
    }
    const col: Col = { name: '', sources }
    if (single?.type !== undefined) col.type = single.type
    if (single?.description !== undefined) col.description = single.description
    return col
  }

  private reads(e: Expr, scope: Scope): void {
    for (const s of this.expr(e, scope).sources) addColumnRef(this.other, s)
  }
}
