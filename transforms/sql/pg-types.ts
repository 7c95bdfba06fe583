// PostgreSQL's result types for the expressions a view's SELECT list commonly holds, as
// format_type() writes them (docs/sql.md, "Column lineage": the type rules). A type the
// rules cannot derive for certain is undefined: never a guess.

/** A derived type: `text` as format_type writes it, `base` without type modifiers, `lit` for an untyped literal. */
export interface PgType {
  text: string
  base: string
  /** An untyped literal ('abc', NULL): it takes the type of what it meets, text when alone. */
  lit?: 'unknown' | 'null'
}

// Built-in type names as the parser spells them (pg_catalog.int4) → format_type's name.
const BUILTIN: Record<string, string> = {
  int2: 'smallint',
  smallint: 'smallint',
  int4: 'integer',
  int: 'integer',
  integer: 'integer',
  int8: 'bigint',
  bigint: 'bigint',
  float4: 'real',
  real: 'real',
  float8: 'double precision',
  'double precision': 'double precision',
  numeric: 'numeric',
  decimal: 'numeric',
  bool: 'boolean',
  boolean: 'boolean',
  text: 'text',
  varchar: 'character varying',
  'character varying': 'character varying',
  bpchar: 'character',
  char: 'character',
  character: 'character',
  date: 'date',
  time: 'time without time zone',
  timetz: 'time with time zone',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  interval: 'interval',
  bytea: 'bytea',
  json: 'json',
  jsonb: 'jsonb',
  uuid: 'uuid',
  name: 'name',
  oid: 'oid',
  money: 'money',
  inet: 'inet',
  cidr: 'cidr',
  macaddr: 'macaddr',
  xml: 'xml',
  tsvector: 'tsvector',
  tsquery: 'tsquery',
  bit: 'bit',
  varbit: 'bit varying',
  regclass: 'regclass',
  regtype: 'regtype',
  regproc: 'regproc',
  point: 'point',
  'timestamp without time zone': 'timestamp without time zone',
  'timestamp with time zone': 'timestamp with time zone',
  'time without time zone': 'time without time zone',
  'time with time zone': 'time with time zone',
  'bit varying': 'bit varying',
  serial: 'integer',
  serial4: 'integer',
  bigserial: 'bigint',
  serial8: 'bigint',
  smallserial: 'smallint',
  serial2: 'smallint',
}

const NUMERIC_RANK = ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']
const STRINGS = new Set(['text', 'character varying', 'character', 'name'])

const known = new Map<string, PgType>()

/** A type from its format_type text (a column type as pg_dump writes it); shared, never mutated. */
export function pgType(text: string): PgType {
  let t = known.get(text)
  if (t === undefined) {
    t = { text, base: baseOf(text) }
    if (known.size < 10_000) known.set(text, t)
  }
  return t
}

export const T = {
  text: pgType('text'),
  boolean: pgType('boolean'),
  integer: pgType('integer'),
  bigint: pgType('bigint'),
  smallint: pgType('smallint'),
  numeric: pgType('numeric'),
  double: pgType('double precision'),
  real: pgType('real'),
  date: pgType('date'),
  interval: pgType('interval'),
  timestamptz: pgType('timestamp with time zone'),
  timestamp: pgType('timestamp without time zone'),
  json: pgType('json'),
  jsonb: pgType('jsonb'),
  name: pgType('name'),
  uuid: pgType('uuid'),
  bytea: pgType('bytea'),
  unknown: { text: 'text', base: 'text', lit: 'unknown' } as PgType,
  null: { text: 'text', base: 'text', lit: 'null' } as PgType,
}

/** `character varying(25)` → `character varying`; `timestamp(3) with time zone` → `timestamp with time zone`; aliases (int4, varchar) → format_type names. */
export function baseOf(text: string): string {
  const arr = /(\[\d*\])+$/.exec(text)
  const core = (arr ? text.slice(0, arr.index) : text)
    .replace(/\s*\([^)]*\)/g, '')
    .replace(/\s+/g, ' ')
    .trim()
  const lower = core.toLowerCase()
  const b = BUILTIN[lower] ?? (/^[a-z_][a-z0-9_$]*$/.test(core) || core.includes('"') || core.includes('.') ? core : lower)
  return arr ? b + '[]' : b
}

/** The type without modifiers: what a function or operator result has (typmod -1). */
export function dropMod(t: PgType): PgType {
  if (t.lit) return T.text
  if (t.text === t.base) return t
  // format_type(bpchar, -1) is "bpchar", not "character"
  return pgType(t.base === 'character' ? 'bpchar' : t.base)
}

const quoteIdent = (s: string): string => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : '"' + s.replaceAll('"', '""') + '"')

/**
 * A TypeName node of the parse tree (a cast's target) → format_type's text, or undefined
 * for forms not rendered here (interval fields, %TYPE, unusual modifiers).
 */
export function typeNameText(tn: {
  names?: unknown[]
  typmods?: unknown[]
  arrayBounds?: unknown[]
  pct_type?: boolean
  setof?: boolean
}): string | undefined {
  if (tn.pct_type || tn.setof) return undefined
  const names = (tn.names ?? []).map((n) => (n as { String?: { sval?: string } }).String?.sval ?? '')
  const mods: number[] = []
  for (const m of tn.typmods ?? []) {
    const v = (m as { A_Const?: { ival?: { ival?: number } } }).A_Const?.ival
    if (v === undefined) return undefined
    mods.push(v.ival ?? 0)
  }
  let out: string | undefined
  const last = names[names.length - 1]!
  const builtin = names.length === 1 || names[0] === 'pg_catalog' ? BUILTIN[last] : undefined
  if (builtin !== undefined) {
    if (mods.length === 0) out = last === 'bpchar' && names.length === 1 ? 'bpchar' : builtin
    else if (builtin === 'character varying' || builtin === 'character' || builtin === 'bit' || builtin === 'bit varying')
      out = mods.length === 1 ? `${builtin}(${mods[0]})` : undefined
    else if (builtin === 'numeric')
      out = mods.length === 1 ? `numeric(${mods[0]},0)` : mods.length === 2 ? `numeric(${mods[0]},${mods[1]})` : undefined
    else if (/^time/.test(builtin) && mods.length === 1) out = builtin.replace(/^(timestamp|time)/, `$1(${mods[0]})`)
    else out = undefined
  } else if (mods.length > 0) {
    out = undefined
  } else if (names[0] === 'pg_catalog') {
    out = last
  } else {
    out = names.map(quoteIdent).join('.')
  }
  if (out === undefined) return undefined
  return tn.arrayBounds !== undefined && tn.arrayBounds.length > 0 ? out + '[]' : out
}

const isNum = (t: PgType): boolean => NUMERIC_RANK.includes(t.base)
const isStr = (t: PgType): boolean => STRINGS.has(t.base) || t.lit !== undefined

/**
 * The common type of CASE results, COALESCE / GREATEST / LEAST arguments and set-operation
 * branches (PostgreSQL's select_common_type for the cases handled): identical types keep
 * their modifiers; numbers promote along smallint < integer < bigint < numeric < real <
 * double precision; untyped literals take the other type; only literals → text.
 */
export function commonType(ts: (PgType | undefined)[]): PgType | undefined {
  if (ts.some((t) => t === undefined)) return undefined
  const all = ts as PgType[]
  const typed = all.filter((t) => !t.lit)
  if (typed.length === 0) return T.text
  const first = typed[0]!
  if (typed.every((t) => t.text === first.text)) return typed.length === all.length ? first : dropMod(first)
  if (typed.every((t) => t.base === first.base)) return dropMod(first)
  if (typed.every(isNum)) return pgType(NUMERIC_RANK[Math.max(...typed.map((t) => NUMERIC_RANK.indexOf(t.base)))]!)
  if (typed.every((t) => STRINGS.has(t.base)) && typed.some((t) => t.base === 'text')) return T.text
  return undefined
}

const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>='])
const TEXT_MATCH = new Set(['~~', '!~~', '~~*', '!~~*', '~', '!~', '~*', '!~*'])
const DATETIME = new Set([
  'timestamp without time zone',
  'timestamp with time zone',
  'date',
  'interval',
  'time without time zone',
  'time with time zone',
])

/** A binary operator's result type (`l` undefined: prefix operator). */
export function operatorType(op: string, l: PgType | undefined, r: PgType | undefined, hasLeft: boolean): PgType | undefined {
  if (COMPARISON.has(op)) return T.boolean
  if (TEXT_MATCH.has(op)) return l && r && isStr(l) && isStr(r) ? T.boolean : undefined
  if (!hasLeft) {
    if (op === '-' && r && !r.lit && (isNum(r) || r.base === 'interval')) return dropMod(r)
    return undefined
  }
  if (!l || !r) return undefined
  if (op === '||') {
    const arrayish = (t: PgType) =>
      t.base.endsWith('[]') || ['json', 'jsonb', 'tsvector', 'tsquery', 'bytea', 'bit', 'bit varying'].includes(t.base)
    if (
      (isStr(l) || isStr(r)) &&
      !arrayish(l) &&
      !arrayish(r) &&
      (BUILTIN[l.base] !== undefined || l.lit) &&
      (BUILTIN[r.base] !== undefined || r.lit)
    ) {
      // text || text, text || anynonarray, anynonarray || text
      if ((STRINGS.has(l.base) || l.lit) && (STRINGS.has(r.base) || r.lit)) return T.text
      if (l.lit || r.lit) return undefined // 'x' || 5: the literal could be read as another type
      return T.text
    }
    if (l.base === 'jsonb' && r.base === 'jsonb') return T.jsonb
    return undefined
  }
  if (op === '->' || op === '#>') return l.base === 'json' || l.base === 'jsonb' ? pgType(l.base) : undefined
  if (op === '->>' || op === '#>>') return l.base === 'json' || l.base === 'jsonb' ? T.text : undefined
  if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') {
    const lt = l.lit ? (r.lit ? undefined : r) : l
    const rt = r.lit ? l : r
    if (!lt || !rt || lt.lit || rt.lit) return undefined
    if (isNum(lt) && isNum(rt)) {
      const t = NUMERIC_RANK[Math.max(NUMERIC_RANK.indexOf(lt.base), NUMERIC_RANK.indexOf(rt.base))]!
      if (op === '%' && (t === 'real' || t === 'double precision')) return undefined
      return pgType(t)
    }
    if (DATETIME.has(lt.base) || DATETIME.has(rt.base)) return dateArith(op, lt.base, rt.base)
  }
  return undefined
}

function dateArith(op: string, l: string, r: string): PgType | undefined {
  const ints = ['smallint', 'integer', 'bigint']
  const ts = ['timestamp without time zone', 'timestamp with time zone']
  if (l === 'date' && r === 'date' && op === '-') return T.integer
  if (l === 'date' && r === 'integer' && (op === '+' || op === '-')) return T.date
  if (l === 'integer' && r === 'date' && op === '+') return T.date
  if (l === 'date' && r === 'interval' && (op === '+' || op === '-')) return T.timestamp
  if (l === 'interval' && r === 'date' && op === '+') return T.timestamp
  if (ts.includes(l) && r === 'interval' && (op === '+' || op === '-')) return pgType(l)
  if (l === 'interval' && ts.includes(r) && op === '+') return pgType(r)
  if (ts.includes(l) && l === r && op === '-') return T.interval
  if (l === 'interval' && r === 'interval' && (op === '+' || op === '-')) return T.interval
  if (l === 'interval' && (ints.includes(r) || r === 'double precision' || r === 'numeric') && (op === '*' || op === '/')) return T.interval
  if (r === 'interval' && (ints.includes(l) || l === 'double precision') && op === '*') return T.interval
  return undefined
}

const TEXT_FUNCS = new Set([
  'upper',
  'lower',
  'initcap',
  'btrim',
  'ltrim',
  'rtrim',
  'replace',
  'translate',
  'repeat',
  'reverse',
  'left',
  'right',
  'lpad',
  'rpad',
  'split_part',
  'md5',
  'concat',
  'concat_ws',
  'format',
  'to_char',
  'quote_ident',
  'quote_literal',
  'quote_nullable',
  'regexp_replace',
  'chr',
  'array_to_string',
  'timeofday',
  'to_hex',
  'string_agg_text',
])
const INT_FUNCS = new Set([
  'length',
  'char_length',
  'character_length',
  'octet_length',
  'bit_length',
  'strpos',
  'position',
  'ascii',
  'array_length',
  'cardinality',
  'ntile',
  'array_ndims',
  'grouping',
])
const MINMAX = new Set([
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'date',
  'time without time zone',
  'time with time zone',
  'timestamp without time zone',
  'timestamp with time zone',
  'interval',
  'text',
  'money',
  'oid',
  'inet',
])

/** A function call's result type from its (lower-case, unqualified) name and argument types. */
export function functionType(name: string, args: (PgType | undefined)[], star: boolean): PgType | undefined {
  const a = args[0]
  const ab = a?.lit ? undefined : a?.base
  switch (name) {
    case 'count':
      return T.bigint
    case 'row_number':
    case 'rank':
    case 'dense_rank':
      return T.bigint
    case 'percent_rank':
    case 'cume_dist':
    case 'random':
    case 'date_part':
      return T.double
    case 'extract':
    case 'to_number':
      return T.numeric
    case 'now':
    case 'transaction_timestamp':
    case 'statement_timestamp':
    case 'clock_timestamp':
      return T.timestamptz
    case 'bool_and':
    case 'bool_or':
    case 'every':
      return T.boolean
    case 'json_agg':
    case 'json_object_agg':
    case 'json_build_object':
    case 'json_build_array':
    case 'to_json':
    case 'row_to_json':
    case 'array_to_json':
      return T.json
    case 'jsonb_agg':
    case 'jsonb_object_agg':
    case 'jsonb_build_object':
    case 'jsonb_build_array':
    case 'to_jsonb':
      return T.jsonb
    case 'to_date':
      return T.date
    case 'to_timestamp':
      return T.timestamptz
    case 'gen_random_uuid':
      return T.uuid
    case 'age':
      return args.every((x) => x && !x.lit && /^timestamp/.test(x.base)) ? T.interval : undefined
    case 'sum':
      if (ab === 'smallint' || ab === 'integer') return T.bigint
      if (ab === 'bigint' || ab === 'numeric') return T.numeric
      if (ab === 'real' || ab === 'double precision' || ab === 'interval' || ab === 'money') return pgType(ab)
      return undefined
    case 'avg':
      if (ab === 'smallint' || ab === 'integer' || ab === 'bigint' || ab === 'numeric') return T.numeric
      if (ab === 'real' || ab === 'double precision') return T.double
      if (ab === 'interval') return T.interval
      return undefined
    case 'stddev':
    case 'stddev_samp':
    case 'stddev_pop':
    case 'variance':
    case 'var_samp':
    case 'var_pop':
      if (ab === 'smallint' || ab === 'integer' || ab === 'bigint' || ab === 'numeric') return T.numeric
      if (ab === 'real' || ab === 'double precision') return T.double
      return undefined
    case 'min':
    case 'max':
      if (ab === 'character varying') return T.text // there is no max(varchar): max(text) is used
      if (ab === 'character') return pgType('bpchar')
      return ab !== undefined && MINMAX.has(ab) ? pgType(ab) : undefined
    case 'lag':
    case 'lead':
    case 'first_value':
    case 'last_value':
    case 'nth_value':
      return a && !a.lit && (BUILTIN[a.base] !== undefined || a.base.endsWith('[]')) ? dropMod(a) : undefined
    case 'string_agg':
      return ab === 'bytea' ? T.bytea : a && isStr(a) ? T.text : undefined
    case 'array_agg':
      return a && !a.lit && !a.base.endsWith('[]') && BUILTIN[a.base] !== undefined ? pgType(dropMod(a).text + '[]') : undefined
    case 'abs':
      return ab !== undefined && isNum(a!) ? pgType(ab) : undefined
    case 'ceil':
    case 'ceiling':
    case 'floor':
    case 'round':
    case 'trunc':
    case 'sign':
      return ab === 'numeric' || ab === 'double precision' ? pgType(ab) : undefined
    case 'date_trunc': {
      const b = args[1]
      return b && !b.lit && (/^timestamp/.test(b.base) || b.base === 'interval') ? pgType(b.base) : undefined
    }
    case 'substring':
    case 'substr':
    case 'overlay':
      return a && (STRINGS.has(a.base) || a.lit) ? T.text : undefined
  }
  if (TEXT_FUNCS.has(name)) return T.text
  if (INT_FUNCS.has(name)) return T.integer
  void star
  return undefined
}

/**
 * Columns of the system catalogs views read most, with the types format_type() gives them in
 * PostgreSQL 12 to 18 (unchanged across those versions; columns added later are left out and
 * stay untyped). A dump never declares these relations.
 */
export const CATALOG_COLUMNS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'pg_catalog.pg_class': {
    oid: 'oid',
    relname: 'name',
    relnamespace: 'oid',
    reltype: 'oid',
    reloftype: 'oid',
    relowner: 'oid',
    relam: 'oid',
    relfilenode: 'oid',
    reltablespace: 'oid',
    relpages: 'integer',
    reltuples: 'real',
    relallvisible: 'integer',
    reltoastrelid: 'oid',
    relhasindex: 'boolean',
    relisshared: 'boolean',
    relpersistence: '"char"',
    relkind: '"char"',
    relnatts: 'smallint',
    relchecks: 'smallint',
    relhasrules: 'boolean',
    relhastriggers: 'boolean',
    relhassubclass: 'boolean',
    relrowsecurity: 'boolean',
    relforcerowsecurity: 'boolean',
    relispopulated: 'boolean',
    relreplident: '"char"',
    relispartition: 'boolean',
    relrewrite: 'oid',
    relfrozenxid: 'xid',
    relminmxid: 'xid',
    relacl: 'aclitem[]',
    reloptions: 'text[]',
    relpartbound: 'pg_node_tree',
  },
  'pg_catalog.pg_namespace': { oid: 'oid', nspname: 'name', nspowner: 'oid', nspacl: 'aclitem[]' },
}
