// The MySQL DDL statement reader of the mysqldump source: one statement's text → tokens →
// what it declares (schemas, tables with columns, types, comments and primary keys, views
// with their output columns and the tables they read), handed to a {@link MysqlDdlTarget}.
// A focused reader over a real tokenizer, not a grammar (docs/sql.md says why). Names stay
// as the statement writes them: the target (transforms/sql/mysql-dump.ts) qualifies them.

import type { SqlStatement } from '../../lib/scan/sql-splitter.js'
import { type ColumnState, type RelationKind, type RelationRef, type RelationState, sqlDefinition } from './catalog.js'
import type { ViewResolver } from './view-columns.js'

/**
 * Statements worth reading (by their first 300 characters): CREATE TABLE/VIEW/DATABASE/SCHEMA
 * (not a trigger, procedure, function or event whose body creates one), USE, and ALTER TABLE
 * adding a primary key. The rest of a dump is skipped unread.
 */
export function isMysqlDdl(head: string): boolean {
  return /^(?:create\b(?:(?!\b(?:trigger|procedure|function|event)\b)[\s\S])*?\b(?:table|view|database|schema)\b|use\b|alter\s+table\b[\s\S]*\bprimary\b)/i.test(
    head,
  )
}

/** Where the reader's declarations go: the mysqldump stage, which names and keeps them. */
export interface MysqlDdlTarget {
  /** `USE name`. */
  use(name: string): void
  /** `CREATE DATABASE|SCHEMA name`. */
  createDatabase(name: string, s: SqlStatement): void
  /** A table or view name as written (`t` or `db`.`t`) → its qualified name; may throw SQL_NO_DATABASE. */
  ref(s: SqlStatement, name: { schema?: string; name: string }): RelationRef
  /** A table or view, complete. */
  addRelation(rel: RelationState): void
  /**
   * A view's column resolver (column types, column lineage) from its SELECT, `tokens` from
   * `start`; undefined with column lineage off or for a SELECT the resolver does not follow.
   */
  viewResolver(tokens: readonly Token[], start: number, s: SqlStatement): ViewResolver | undefined
  /** `ALTER TABLE ... ADD PRIMARY KEY (keys)`. */
  setPrimaryKey(ref: RelationRef, keys: string[]): void
  /** Count something (mysql_dump.tables, mysql_dump.views, mysql_dump.skipped.*). */
  bump(counter: string): void
}

// ---------------------------------------------------------------- tokenizer

/** Token kinds: bare word, `quoted` identifier, 'string', number, punctuation/operator. */
export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'punct'

/** One token; `value` is unquoted/unescaped, `start`/`end` index the statement text. */
export interface Token {
  kind: TokenKind
  value: string
  start: number
  end: number
}

const ESC: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a', '\\': '\\', "'": "'", '"': '"' }

/** Tokenize one MySQL statement (comments dropped; backslash escapes and doubled quotes decoded). */
export function tokenizeMysql(sql: string): Token[] {
  const out: Token[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
      i++
      continue
    }
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || sql.charCodeAt(i + 2) <= 32))) {
      const e = sql.indexOf('\n', i)
      i = e === -1 ? n : e + 1
      continue
    }
    if (c === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2)
      i = e === -1 ? n : e + 2
      continue
    }
    const start = i
    if (c === '`') {
      let v = ''
      i++
      for (;;) {
        const e = sql.indexOf('`', i)
        if (e === -1) {
          v += sql.slice(i)
          i = n
          break
        }
        v += sql.slice(i, e)
        if (sql[e + 1] === '`') {
          v += '`'
          i = e + 2
          continue
        }
        i = e + 1
        break
      }
      out.push({ kind: 'ident', value: v, start, end: i })
      continue
    }
    if (c === "'" || c === '"') {
      let v = ''
      i++
      while (i < n) {
        const d = sql[i]!
        if (d === '\\' && i + 1 < n) {
          const x = sql[i + 1]!
          v += ESC[x] ?? (x === '%' || x === '_' ? '\\' + x : x)
          i += 2
          continue
        }
        if (d === c) {
          if (sql[i + 1] === c) {
            v += c
            i += 2
            continue
          }
          i++
          break
        }
        v += d
        i++
      }
      // adjacent literals concatenate: 'a' 'b' = 'ab'
      const prev = out[out.length - 1]
      if (prev && prev.kind === 'string' && /^\s+$/.test(sql.slice(prev.end, start))) {
        prev.value += v
        prev.end = i
      } else out.push({ kind: 'string', value: v, start, end: i })
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|^[0-9]+\.?/.exec(sql.slice(i, i + 64))!
      i += m[0].length
      out.push({ kind: 'number', value: m[0], start, end: i })
      continue
    }
    if (/[A-Za-z_$\u0080-\uffff@]/.test(c)) {
      i++
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff@]/.test(sql[i]!)) i++
      const w = sql.slice(start, i)
      // charset introducer: _utf8mb4'text' is the string 'text'
      if (w[0] === '_' && (sql[i] === "'" || sql[i] === '"')) continue
      out.push({ kind: 'word', value: w, start, end: i })
      continue
    }
    i++
    out.push({ kind: 'punct', value: c, start, end: i })
  }
  return out
}

// ---------------------------------------------------------------- parser helpers

class Cursor {
  i = 0
  constructor(readonly t: Token[]) {}
  peek(k = 0): Token | undefined {
    return this.t[this.i + k]
  }
  is(word: string, k = 0): boolean {
    const x = this.t[this.i + k]
    return x !== undefined && x.kind === 'word' && x.value.toUpperCase() === word
  }
  isPunct(p: string, k = 0): boolean {
    const x = this.t[this.i + k]
    return x !== undefined && x.kind === 'punct' && x.value === p
  }
  accept(word: string): boolean {
    if (this.is(word)) {
      this.i++
      return true
    }
    return false
  }
  acceptPunct(p: string): boolean {
    if (this.isPunct(p)) {
      this.i++
      return true
    }
    return false
  }
  next(): Token | undefined {
    return this.t[this.i++]
  }
  done(): boolean {
    return this.i >= this.t.length
  }
  /** An identifier: `quoted` or a bare word. */
  name(): string {
    const x = this.next()
    if (!x || (x.kind !== 'ident' && x.kind !== 'word' && x.kind !== 'string'))
      throw new Error(`expected a name, got ${x ? JSON.stringify(x.value) : 'end of statement'}`)
    return x.value
  }
  /** `name` or `db`.`name`. */
  qualified(): { schema?: string; name: string } {
    const a = this.name()
    if (this.acceptPunct('.')) return { schema: a, name: this.name() }
    return { name: a }
  }
  /** Skip a balanced parenthesised group starting at '('. */
  skipGroup(): void {
    let depth = 0
    do {
      const x = this.next()
      if (!x) return
      if (x.kind === 'punct' && x.value === '(') depth++
      else if (x.kind === 'punct' && x.value === ')') depth--
    } while (depth > 0)
  }
}

/**
 * Words that end a column's type in a column definition (`BINARY` as the first word is the
 * binary(n) type; after it, the old collation attribute).
 */
const TYPE_END = new Set([
  'CHARACTER',
  'CHARSET',
  'COLLATE',
  'NOT',
  'NULL',
  'DEFAULT',
  'AUTO_INCREMENT',
  'COMMENT',
  'PRIMARY',
  'KEY',
  'UNIQUE',
  'GENERATED',
  'AS',
  'ON',
  'INVISIBLE',
  'VISIBLE',
  'CHECK',
  'REFERENCES',
  'COLUMN_FORMAT',
  'STORAGE',
  'SRID',
  'WITH',
  'WITHOUT',
  'CONSTRAINT',
  'VIRTUAL',
  'STORED',
  'PERSISTENT',
  'ENGINE_ATTRIBUTE',
  'SECONDARY_ENGINE_ATTRIBUTE',
  'COMPRESSED',
  'BINARY',
])
/** Words that start a table-level definition rather than a column. */
const TABLE_ELEMENT = new Set(['PRIMARY', 'KEY', 'INDEX', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'CONSTRAINT', 'FOREIGN', 'CHECK', 'PERIOD'])

const SELECT_END = new Set([
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
])

/**
 * Tables a SELECT reads: names after FROM, JOIN and commas of a FROM list (at any
 * nesting), minus WITH names. `defaultSchema` qualifies bare names.
 */
export function mysqlReads(tokens: Token[]): { schema?: string; name: string }[] {
  const out: { schema?: string; name: string }[] = []
  const ctes = new Set<string>()
  // WITH [RECURSIVE] a AS (...), b (cols) AS (...)
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'ident' && t.kind !== 'word') continue
    const prev = tokens[i - 1]
    const afterWith =
      prev && ((prev.kind === 'word' && /^(WITH|RECURSIVE)$/i.test(prev.value)) || (prev.kind === 'punct' && prev.value === ','))
    if (!afterWith) continue
    let j = i + 1
    if (tokens[j]?.kind === 'punct' && tokens[j]!.value === '(') {
      let d = 0
      for (; j < tokens.length; j++) {
        if (tokens[j]!.value === '(' && tokens[j]!.kind === 'punct') d++
        else if (tokens[j]!.value === ')' && tokens[j]!.kind === 'punct' && --d === 0) {
          j++
          break
        }
      }
    }
    if (tokens[j]?.kind === 'word' && tokens[j]!.value.toUpperCase() === 'AS' && tokens[j + 1]?.value === '(') ctes.add(t.value)
  }
  const inFrom: boolean[] = [false]
  let expectTable = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    const d = inFrom.length - 1
    const up = t.kind === 'word' ? t.value.toUpperCase() : ''
    if (t.kind === 'punct') {
      if (t.value === '(') {
        const nxt = tokens[i + 1]
        const sub = nxt?.kind === 'word' && /^(SELECT|WITH|VALUES|TABLE)$/i.test(nxt.value)
        inFrom.push(expectTable && !sub)
        // expectTable stays true for a parenthesised join list
        if (sub) expectTable = false
        continue
      }
      if (t.value === ')') {
        if (inFrom.length > 1) inFrom.pop()
        expectTable = false
        continue
      }
      if (t.value === ',' && inFrom[d]) {
        expectTable = true
        continue
      }
      expectTable = false
      continue
    }
    if (up === 'SELECT') {
      inFrom[d] = false
      expectTable = false
      continue
    }
    if (up === 'FROM') {
      inFrom[d] = true
      expectTable = true
      continue
    }
    if (up === 'JOIN' || up === 'STRAIGHT_JOIN') {
      inFrom[d] = true
      expectTable = true
      continue
    }
    if (SELECT_END.has(up)) {
      inFrom[d] = false
      expectTable = false
      continue
    }
    if (expectTable && up === 'LATERAL') continue
    if (expectTable && (t.kind === 'ident' || t.kind === 'word')) {
      let name = t.value
      let schema: string | undefined
      if (tokens[i + 1]?.kind === 'punct' && tokens[i + 1]!.value === '.' && tokens[i + 2]) {
        schema = name
        name = tokens[i + 2]!.value
        i += 2
      }
      expectTable = false
      if (tokens[i + 1]?.kind === 'punct' && tokens[i + 1]!.value === '(') continue // JSON_TABLE(...) and other table functions
      if (schema === undefined && ctes.has(name)) continue
      out.push(schema === undefined ? { name } : { schema, name })
      continue
    }
    expectTable = false
  }
  return out
}

/** Output column names of a view's SELECT: the alias after AS, else the last name of the expression. */
function selectNames(tokens: Token[], from: number): string[] {
  const c = new Cursor(tokens)
  c.i = from
  while (!c.done() && !c.is('SELECT')) {
    if (c.isPunct('(')) c.skipGroup()
    else c.i++
  }
  c.i++
  while (
    c.is('DISTINCT') ||
    c.is('ALL') ||
    c.is('DISTINCTROW') ||
    c.is('STRAIGHT_JOIN') ||
    c.is('SQL_NO_CACHE') ||
    c.is('SQL_CALC_FOUND_ROWS') ||
    c.is('HIGH_PRIORITY')
  )
    c.i++
  const names: string[] = []
  let last: Token | undefined
  let alias: string | undefined
  let afterAs = false
  const flush = () => {
    names.push(alias ?? (last && last.kind !== 'punct' ? last.value : '?column?'))
    last = undefined
    alias = undefined
  }
  while (!c.done()) {
    const x = c.peek()!
    if (x.kind === 'punct' && x.value === '(') {
      c.skipGroup()
      last = { ...x, kind: 'punct' }
      continue
    }
    if (x.kind === 'word' && (x.value.toUpperCase() === 'FROM' || SELECT_END.has(x.value.toUpperCase()))) break
    c.i++
    if (x.kind === 'punct' && x.value === ',') {
      flush()
      continue
    }
    if (x.kind === 'word' && x.value.toUpperCase() === 'AS') {
      afterAs = true
      continue
    }
    if (afterAs) {
      alias = x.value
      afterAs = false
      continue
    }
    last = x
  }
  if (last !== undefined || alias !== undefined) flush()
  return names
}

// ---------------------------------------------------------------- statement reader

/**
 * Reads DDL statements for one dump: {@link MysqlDdlReader.read} per statement (its
 * tokens, from {@link tokenizeMysql}); declarations go to the target as they are read.
 */
export class MysqlDdlReader {
  constructor(private readonly target: MysqlDdlTarget) {}

  /** Read one statement's tokens (see {@link isMysqlDdl}); a syntax problem throws a plain Error. */
  read(tokens: Token[], s: SqlStatement): void {
    const c = new Cursor(tokens)
    if (c.accept('USE')) {
      this.target.use(c.name())
      return
    }
    if (c.accept('ALTER')) return this.alterTable(c, s)
    c.accept('CREATE')
    if (c.accept('OR')) c.accept('REPLACE')
    if (c.is('DATABASE') || c.is('SCHEMA')) {
      c.i++
      if (c.accept('IF')) {
        c.accept('NOT')
        c.accept('EXISTS')
      }
      this.target.createDatabase(c.name(), s)
      return
    }
    c.accept('TEMPORARY')
    if (c.accept('TABLE')) return this.createTable(c, s)
    // CREATE [ALGORITHM=..] [DEFINER=..] [SQL SECURITY ..] VIEW
    while (!c.done() && !c.is('VIEW')) c.i++
    if (c.accept('VIEW')) return this.createView(c, tokens, s)
  }

  private createTable(c: Cursor, s: SqlStatement): void {
    if (c.accept('IF')) {
      c.accept('NOT')
      c.accept('EXISTS')
    }
    const ref = this.target.ref(s, c.qualified())
    if (!c.acceptPunct('(')) {
      if (c.is('LIKE') || c.is('AS') || c.is('SELECT')) {
        this.target.bump('mysql_dump.skipped.create_table_like_or_select')
        return
      }
      throw new Error('expected ( after the table name')
    }
    const columns: ColumnState[] = []
    const text = s.text
    let pk: string[] = []
    for (;;) {
      if (c.done()) throw new Error('unterminated column list')
      if (c.isPunct(')')) {
        c.i++
        break
      }
      const first = c.peek()!
      if (first.kind === 'word' && TABLE_ELEMENT.has(first.value.toUpperCase())) {
        const up = first.value.toUpperCase()
        let isPk = up === 'PRIMARY'
        if (up === 'CONSTRAINT') {
          // CONSTRAINT [name] PRIMARY KEY (...)
          const k = c.is('PRIMARY', 1) ? 1 : c.is('PRIMARY', 2) ? 2 : 0
          isPk = k > 0
          if (isPk) c.i += k
        }
        if (isPk) {
          c.i++ // PRIMARY
          c.accept('KEY')
          while (!c.done() && !c.isPunct('(')) c.i++ // USING BTREE before the list
          pk = this.keyColumns(c)
        }
        this.skipElement(c)
        continue
      }
      const name = c.name()
      const typeStart = c.peek()
      let typeEnd = typeStart
      while (!c.done() && !c.isPunct(',') && !c.isPunct(')')) {
        const x = c.peek()!
        if (x.kind === 'word' && TYPE_END.has(x.value.toUpperCase()) && x !== typeStart) break
        if (x.kind === 'punct' && x.value === '(') {
          c.skipGroup()
          typeEnd = c.t[c.i - 1]!
          continue
        }
        typeEnd = x
        c.i++
      }
      const col: ColumnState = { name, pk: false }
      if (typeStart && typeEnd) col.type = text.slice(typeStart.start, typeEnd.end).replace(/\s+/g, ' ')
      // attributes up to the next top-level comma
      while (!c.done() && !c.isPunct(',') && !c.isPunct(')')) {
        if (c.isPunct('(')) {
          c.skipGroup()
          continue
        }
        if (c.is('COMMENT')) {
          c.i++
          const x = c.next()
          if (x?.kind === 'string') col.description = x.value
          continue
        }
        if (c.is('PRIMARY') && c.is('KEY', 1) && c.t[c.i - 1]?.value.toUpperCase() !== 'DROP') {
          col.pk = true
          c.i += 2
          continue
        }
        c.i++
      }
      columns.push(col)
      c.acceptPunct(',')
    }
    // table options: COMMENT [=] 'text', PARTITION BY ...
    let description: string | undefined
    let kind: RelationKind = 'table'
    while (!c.done()) {
      if (c.is('COMMENT')) {
        c.i++
        c.acceptPunct('=')
        const x = c.next()
        if (x?.kind === 'string') description = x.value
        continue
      }
      if (c.is('PARTITION') && c.is('BY', 1)) kind = 'partitioned table'
      c.i++
    }
    for (const col of columns) if (pk.includes(col.name)) col.pk = true
    const rel = { ...ref, kind, columns, reads: [], parents: [], line: s.line } as RelationState
    if (description !== undefined && description !== '') rel.description = description
    this.target.addRelation(rel)
    this.target.bump('mysql_dump.tables')
  }

  private keyColumns(c: Cursor): string[] {
    if (!c.acceptPunct('(')) return []
    const out: string[] = []
    let depth = 1
    let expectName = true
    while (!c.done() && depth > 0) {
      const x = c.next()!
      if (x.kind === 'punct' && x.value === '(') depth++
      else if (x.kind === 'punct' && x.value === ')') depth--
      else if (x.kind === 'punct' && x.value === ',' && depth === 1) expectName = true
      else if (expectName && depth === 1) {
        out.push(x.value)
        expectName = false
      }
    }
    return out
  }

  private skipElement(c: Cursor): void {
    while (!c.done() && !c.isPunct(',') && !c.isPunct(')')) {
      if (c.isPunct('(')) c.skipGroup()
      else c.i++
    }
    c.acceptPunct(',')
  }

  private createView(c: Cursor, tokens: Token[], s: SqlStatement): void {
    if (c.accept('IF')) {
      c.accept('NOT')
      c.accept('EXISTS')
    }
    const ref = this.target.ref(s, c.qualified())
    let aliases: string[] = []
    if (c.isPunct('(')) aliases = this.keyColumns(c)
    if (!c.accept('AS')) throw new Error('expected AS after the view name')
    const body = tokens.slice(c.i)
    const names = selectNames(tokens, c.i)
    aliases.forEach((a, i) => {
      names[i] = a
    })
    // no column types from the dump: mysqldump's stand-in tables carry placeholder types (MySQL
    // 5.7 writes every column as tinyint); the resolver derives pass-through columns' types
    const columns: ColumnState[] = names.map((name) => ({ name, pk: false }))
    const reads = mysqlReads(body).map((r) => this.target.ref(s, r))
    const resolver = this.target.viewResolver(tokens, c.i, s)
    this.target.addRelation({
      ...ref,
      kind: 'view',
      columns,
      reads,
      parents: [],
      definition: sqlDefinition(s.text + ';'),
      line: s.line,
      resolver,
    })
    this.target.bump('mysql_dump.views')
  }

  private alterTable(c: Cursor, s: SqlStatement): void {
    c.accept('IGNORE')
    if (!c.accept('TABLE')) return
    const ref = this.target.ref(s, c.qualified())
    // ADD PRIMARY KEY [USING ...] (cols) or ADD CONSTRAINT [name] PRIMARY KEY (cols)
    while (!c.done()) {
      if (c.is('PRIMARY') && c.is('KEY', 1) && c.t[c.i - 1]?.value.toUpperCase() !== 'DROP') {
        c.i += 2
        while (!c.done() && !c.isPunct('(')) c.i++
        const keys = this.keyColumns(c)
        this.target.setPrimaryKey(ref, keys)
        continue
      }
      c.i++
    }
  }
}
