// Benchmark: information_schema.columns CSV export → Secoda columns CSV, ours against Python's
// csv module doing the same mapping, measured in the same run (target ≥ 2×, docs/columns.md), plus
// the CSV parsers we considered (csv-parse, papaparse, uDSV) with the same mapping and writer.
// Two Python baselines, same mapping, same output bytes: `python` (csv.reader with header
// indexes → csv.writer: the fastest plain script) and `python-dict` (csv.DictReader → a dict
// per row → csv.DictWriter: how most scripts map columns by name; the 22.8 MB/s reference
// figure of docs/columns.md "Benchmark" lies in its range here). Ratios are printed against both.
// Two export layouts, each with its own Python baseline, because the shape decides the speed:
//   mysql     MySQL 8 `SELECT * FROM information_schema.columns`: 22 columns, column_type
//             holds the full type, ~1 in 3 columns commented.
//   postgres  PostgreSQL `\copy (SELECT * FROM information_schema.columns ...) TO f CSV HEADER`:
//             44 columns, mostly empty; the type is assembled from data_type, udt_name,
//             character_maximum_length, numeric_precision/scale; no comments. Modelled on the
//             rows a PostgreSQL 15 server writes (bench/results-info-schema-csv.md).
//
// Run:   npm run build:bench && node dist-bench/bench/info-schema-csv.js
// Env:   BENCH_LAYOUT=both|mysql|postgres (default both: one table per layout),
//        BENCH_MB=370 (size of each generated export), BENCH_ONLY=ours,python (variants to run;
//        `parsers` for the parsers-alone table), BENCH_REPS=2 (rounds; each variant's best round
//        counts), BENCH_KEEP=1 (keep outputs), BENCH_READ_KB=256 (read size of ours).
// Each variant runs in its own child process (libraries imported only there) so peak RSS is
// its own; rounds interleave the variants so that load from other processes hits all of them
// alike. Every output is checked against Python's (same bytes, by SHA-256). Input and outputs
// live in bench/data/ (git-ignored). Prints MB/s of input per variant and the ratio to Python.

import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs'
import path from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { loadavg } from 'node:os'
import { quoteCsvField } from '../lib/csv-quote.js'
import { CsvScanner } from '../lib/scan/csv.js'
import { InfoSchemaColumns } from '../transforms/info-schema/columns.js'
import type { Resource } from '../lib/records.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, here.includes(`${path.sep}dist-bench${path.sep}`) ? '../..' : '..')
const dataDir = path.join(repo, 'bench', 'data')

/** Export layouts the benchmark generates (see the header comment). */
type Layout = 'mysql' | 'postgres'
const LAYOUTS: readonly Layout[] = ['mysql', 'postgres']
/** The generated export of one layout. */
const inputOf = (layout: Layout): string => path.join(dataDir, `info-schema-columns-${layout}.csv`)
/** Read size of the file streams (the scanner decodes in 64 KiB slices whatever it gets). */
const READ_SIZE = Number(process.env.BENCH_READ_KB ?? 256) * 1024
const HEADER = 'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time\n'

// ------------------------------------------------------------------ input
/** The generators' output: CSV rows gathered in memory and written ~1 MiB at a time. */
class RowFile {
  /** Bytes written so far. */
  size = 0
  private readonly out: WriteStream
  private buf: string
  constructor(file: string, header: string) {
    this.out = createWriteStream(file)
    this.buf = header + '\n'
  }

  add(row: string[]): void {
    this.buf += row.map(quoteCsvField).join(',') + '\n'
  }

  /** Write what has gathered once it is over 1 MiB (call between tables). */
  async flush(): Promise<void> {
    if (this.buf.length <= 1 << 20) return
    this.size += Buffer.byteLength(this.buf)
    const ok = this.out.write(this.buf)
    this.buf = ''
    if (!ok) await once(this.out, 'drain')
  }

  async end(): Promise<void> {
    this.out.end(this.buf)
    await once(this.out, 'finish')
  }
}

const MYSQL_HEADER =
  'TABLE_CATALOG,TABLE_SCHEMA,TABLE_NAME,COLUMN_NAME,ORDINAL_POSITION,COLUMN_DEFAULT,IS_NULLABLE,DATA_TYPE,CHARACTER_MAXIMUM_LENGTH,CHARACTER_OCTET_LENGTH,NUMERIC_PRECISION,NUMERIC_SCALE,DATETIME_PRECISION,CHARACTER_SET_NAME,COLLATION_NAME,COLUMN_TYPE,COLUMN_KEY,EXTRA,PRIVILEGES,COLUMN_COMMENT,GENERATION_EXPRESSION,SRS_ID'

/** A MySQL 8 style export, sorted by schema, table, ordinal; ~1 in 3 columns commented. */
async function generateMysql(file: string, bytes: number): Promise<void> {
  const out = new RowFile(file, MYSQL_HEADER)
  const types = [
    ['int', 'int', '', '', '10', '0'],
    ['bigint', 'bigint unsigned', '', '', '20', '0'],
    ['varchar', 'varchar(255)', '255', '1020', '', ''],
    ['decimal', 'decimal(12,2)', '', '', '12', '2'],
    ['datetime', 'datetime', '', '', '', ''],
    ['text', 'text', '65535', '65535', '', ''],
    ['json', 'json', '', '', '', ''],
    ['enum', "enum('new','paid','shipped')", '7', '28', '', ''],
  ]
  const comments = [
    '',
    '',
    'Surrogate key',
    'Customer e-mail, lower-cased',
    'Amount in EUR (€), "gross"',
    'Free text;\nmay span lines',
    '',
    'Créé le',
  ]
  let s = 0
  for (let t = 0; out.size < bytes; t++) {
    if (t % 500 === 0) s++
    const ncols = 4 + (t % 17)
    for (let c = 1; c <= ncols; c++) {
      const ty = types[(t + c) % types.length]!
      const com = comments[(t * 7 + c) % comments.length]!
      const cs = ty[2] !== '' ? 'utf8mb4' : ''
      const row = [
        'def',
        `schema_${s}`,
        `table_${t}`,
        c === 1 ? 'id' : `column_${c}_of_table_${t}`,
        String(c),
        c === 1 ? '' : 'NULL',
        c === 1 ? 'NO' : 'YES',
        ty[0]!,
        ty[2]!,
        ty[3]!,
        ty[4]!,
        ty[5]!,
        '',
        cs,
        cs ? 'utf8mb4_0900_ai_ci' : '',
        ty[1]!,
        c === 1 ? 'PRI' : '',
        c === 1 ? 'auto_increment' : '',
        'select,insert,update,references',
        com,
        '',
        '',
      ]
      out.add(row)
    }
    await out.flush()
  }
  await out.end()
}

const PG_HEADER =
  'table_catalog,table_schema,table_name,column_name,ordinal_position,column_default,is_nullable,data_type,character_maximum_length,character_octet_length,numeric_precision,numeric_precision_radix,numeric_scale,datetime_precision,interval_type,interval_precision,character_set_catalog,character_set_schema,character_set_name,collation_catalog,collation_schema,collation_name,domain_catalog,domain_schema,domain_name,udt_catalog,udt_schema,udt_name,scope_catalog,scope_schema,scope_name,maximum_cardinality,dtd_identifier,is_self_referencing,is_identity,identity_generation,identity_start,identity_increment,identity_maximum,identity_minimum,identity_cycle,is_generated,generation_expression,is_updatable'

/**
 * PostgreSQL column types as information_schema.columns describes them, copied from the rows
 * a PostgreSQL 15 server wrote for such columns: [column name, data_type,
 * character_maximum_length, character_octet_length, numeric_precision,
 * numeric_precision_radix, numeric_scale, datetime_precision, udt_schema, udt_name, default].
 * Defaults as pg_get_expr writes them; `'a,b'::text` and the jsonb one need CSV quoting.
 */
const PG_TYPES: readonly (readonly string[])[] = [
  ['customer_id', 'bigint', '', '', '64', '2', '0', '', 'pg_catalog', 'int8', ''],
  ['email', 'character varying', '255', '1020', '', '', '', '', 'pg_catalog', 'varchar', ''],
  ['name', 'text', '', '1073741824', '', '', '', '', 'pg_catalog', 'text', ''],
  ['created_at', 'timestamp with time zone', '', '', '', '', '', '6', 'pg_catalog', 'timestamptz', 'now()'],
  ['amount', 'numeric', '', '', '12', '10', '2', '', 'pg_catalog', 'numeric', '0'],
  ['is_active', 'boolean', '', '', '', '', '', '', 'pg_catalog', 'bool', 'true'],
  ['tags', 'ARRAY', '', '', '', '', '', '', 'pg_catalog', '_text', "'{}'::text[]"],
  ['status', 'USER-DEFINED', '', '', '', '', '', '', 'public', 'order_status', "'new'::order_status"],
  ['quantity', 'integer', '', '', '32', '2', '0', '', 'pg_catalog', 'int4', ''],
  ['birthday', 'date', '', '', '', '', '', '0', 'pg_catalog', 'date', ''],
  ['profile', 'jsonb', '', '', '', '', '', '', 'pg_catalog', 'jsonb', ''],
  ['external_id', 'uuid', '', '', '', '', '', '', 'pg_catalog', 'uuid', 'gen_random_uuid()'],
  ['kind', 'text', '', '1073741824', '', '', '', '', 'pg_catalog', 'text', "'a,b'::text"],
  ['placed_at', 'timestamp without time zone', '', '', '', '', '', '6', 'pg_catalog', 'timestamp', ''],
  ['line_numbers', 'ARRAY', '', '', '', '', '', '', 'pg_catalog', '_int4', ''],
  ['code', 'character varying', '', '1073741824', '', '', '', '', 'pg_catalog', 'varchar', ''],
  ['weight', 'double precision', '', '', '53', '2', '', '', 'pg_catalog', 'float8', ''],
  ['total', 'numeric', '', '', '', '10', '', '', 'pg_catalog', 'numeric', ''],
  ['country', 'character', '2', '8', '', '', '', '', 'pg_catalog', 'bpchar', ''],
  ['settings', 'jsonb', '', '', '', '', '', '', 'pg_catalog', 'jsonb', '\'{"theme": "dark", "beta": false}\'::jsonb'],
  ['qty', 'smallint', '', '', '16', '2', '0', '', 'pg_catalog', 'int2', ''],
]

/**
 * A PostgreSQL export of a database `analytics`, sorted by schema, table, ordinal (as the
 * ORDER BY of the \copy writes it). Column 1 is the key: `bigint` with a sequence default, or
 * (every 3rd table) an identity column. Every 10th table is a view (is_updatable NO, no
 * defaults); every 13th lost its 3rd column to DROP COLUMN (ordinals skip, as PostgreSQL's do).
 */
async function generatePostgres(file: string, bytes: number): Promise<void> {
  const out = new RowFile(file, PG_HEADER)
  const db = 'analytics'
  let s = 0
  for (let t = 0; out.size < bytes; t++) {
    if (t % 500 === 0) s++
    const schema = `schema_${s}`
    const table = `table_${t}`
    const view = t % 10 === 9
    const identity = !view && t % 3 === 0
    const ncols = 4 + (t % 17)
    const used = new Set<string>()
    for (let c = 1, ord = 1; c <= ncols; c++, ord++) {
      if (c === 3 && t % 13 === 0) ord++
      let row: string[]
      if (c === 1) {
        used.add('id')
        const idType = identity ? ['integer', '32', 'int4'] : ['bigint', '64', 'int8']
        const def = view || identity ? '' : `nextval('${table}_id_seq'::regclass)`
        const ident = identity ? ['YES', 'ALWAYS', '1', '1', '2147483647', '1', 'NO'] : ['NO', '', '', '', '', '', 'NO']
        row = [
          db,
          schema,
          table,
          'id',
          String(ord),
          def,
          view ? 'YES' : 'NO',
          idType[0]!,
          '',
          '',
          idType[1]!,
          '2',
          '0',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          db,
          'pg_catalog',
          idType[2]!,
          '',
          '',
          '',
          '',
          String(ord),
          'NO',
          ...ident,
          'NEVER',
          '',
          view ? 'NO' : 'YES',
        ]
      } else {
        const ty = PG_TYPES[(t * 5 + c) % PG_TYPES.length]!
        const name = used.has(ty[0]!) ? `${ty[0]}_${c}` : ty[0]!
        used.add(name)
        const nullable = view || (t + c) % 3 !== 0
        row = [
          db,
          schema,
          table,
          name,
          String(ord),
          view ? '' : ty[10]!,
          nullable ? 'YES' : 'NO',
          ty[1]!,
          ty[2]!,
          ty[3]!,
          ty[4]!,
          ty[5]!,
          ty[6]!,
          ty[7]!,
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          db,
          ty[8]!,
          ty[9]!,
          '',
          '',
          '',
          '',
          String(ord),
          'NO',
          'NO',
          '',
          '',
          '',
          '',
          '',
          'NO',
          'NEVER',
          '',
          view ? 'NO' : 'YES',
        ]
      }
      out.add(row)
    }
    await out.flush()
  }
  await out.end()
}

/** Generate the export of a layout, about `bytes` long. */
async function generate(layout: Layout, bytes: number): Promise<void> {
  mkdirSync(dataDir, { recursive: true })
  await (layout === 'mysql' ? generateMysql : generatePostgres)(inputOf(layout), bytes)
}

// ------------------------------------------------------------------ the Python baselines
/** What every Python baseline starts with: imports, the clock, the type rules. */
const PY_PRELUDE = String.raw`
import csv, re, sys, time, resource
src, dst = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
ru0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = ru0.ru_utime + ru0.ru_stime
rows = 0
CHAR = {'character varying', 'varchar', 'character', 'char', 'nvarchar', 'nchar', 'varbinary', 'binary', 'bit varying', 'bit', 'varchar2', 'nvarchar2'}
DEC = {'numeric', 'decimal', 'number'}
INT = re.compile(r'-?[0-9]+\Z')
def int_of(s):
    return int(s) if s and INT.match(s) else None
# the type as our reader's formatColumnType assembles it (transforms/info-schema/columns.ts)
def format_type(d, udt, ln, pr, sc):
    if not d: return ''
    if d == 'USER-DEFINED' and udt: return udt
    if d == 'ARRAY' and udt: return (udt[1:] if udt.startswith('_') else udt) + '[]'
    if '(' in d or '<' in d: return d
    lower = d.lower()
    if lower in CHAR:
        n = int_of(ln)
        if n == -1: return d + '(max)'
        if n is not None and n > 0: return '%s(%d)' % (d, n)
    if lower in DEC:
        p = int_of(pr)
        if p is not None:
            s = int_of(sc)
            return '%s(%d,%d)' % (d, p, 0 if s is None else s)
    return d
OUT = ['col_name','col_description','col_type','col_sort_order','database','schema','name','description','is_view','last_updated_time']
`

/** ... and end with: the figures the driver reads. */
const PY_EPILOGUE = `
ru = resource.getrusage(resource.RUSAGE_SELF)
print('{"seconds": %f, "cpuSeconds": %f, "rows": %d, "maxRssKiB": %d}' % (time.perf_counter() - t0, ru.ru_utime + ru.ru_stime - cpu0, rows, ru.ru_maxrss))
`

/**
 * A csv.reader baseline: header indexes, then per row the mapping with the layout's own
 * `typeExpr` and `commentExpr` (Python expressions over `row` and the indexes bound by
 * `indexes`), so each layout's script does no per-row work the other layout needs.
 */
function csvReaderScript(indexes: string, typeExpr: string, commentExpr: string): string {
  return (
    PY_PRELUDE +
    String.raw`
with open(src, newline='', encoding='utf-8-sig') as f, open(dst, 'w', newline='', encoding='utf-8') as o:
    r = csv.reader(f)
    h = [x.strip().lower() for x in next(r)]
    ix = {n: i for i, n in enumerate(h)}
    cat, sch, tab, col, pos = ix.get('table_catalog'), ix['table_schema'], ix['table_name'], ix['column_name'], ix.get('ordinal_position')
    ${indexes}
    w = csv.writer(o, lineterminator='\n')
    w.writerow(OUT)
    for row in r:
        if not row: continue
        rows += 1
        catalog = row[cat] if cat is not None else ''
        schema = row[sch]
        database = schema if catalog in ('', 'def') else catalog
        w.writerow([row[col], ${commentExpr}, ${typeExpr}, row[pos] if pos is not None else '', database, schema, row[tab], '', '', ''])
` +
    PY_EPILOGUE
  )
}

/** MySQL layout: column_type holds the type, column_comment the description. */
const PYTHON_MYSQL = csvReaderScript(
  "ct, dt, com = ix.get('column_type'), ix.get('data_type'), ix.get('column_comment')",
  "(row[ct] if ct is not None else '') or (row[dt] if dt is not None else '')",
  "row[com] if com is not None else ''",
)

/**
 * PostgreSQL layout (and any export without column_type): the type assembled as our reader's
 * formatColumnType does it: USER-DEFINED → udt_name, ARRAY → udt_name less its leading `_`
 * plus `[]`, a data_type with `(` or `<` as is, character types with their length,
 * numeric/decimal with precision and scale. No comments.
 */
const PYTHON_POSTGRES = csvReaderScript(
  "dt, udt, ln, pr, sc = ix['data_type'], ix['udt_name'], ix['character_maximum_length'], ix['numeric_precision'], ix['numeric_scale']",
  'format_type(row[dt], row[udt], row[ln], row[pr], row[sc])',
  "''",
)

/**
 * The same mapping written the way most Python scripts map CSV by header name: csv.DictReader
 * → a dict per output row → csv.DictWriter, for either layout. A second baseline: the outside
 * reference figure (Python 22.8 MB/s on a 371 MB export) is in this script's range here, not
 * in the csv.reader one's (see bench/results-info-schema-csv.md). Output identical to both.
 */
const PYTHON_DICT =
  PY_PRELUDE +
  String.raw`
with open(src, newline='', encoding='utf-8-sig') as f, open(dst, 'w', newline='', encoding='utf-8') as o:
    names = [x.strip().lower() for x in next(csv.reader(f))]
    w = csv.DictWriter(o, fieldnames=OUT, lineterminator='\n')
    w.writeheader()
    for row in csv.DictReader(f, fieldnames=names):
        rows += 1
        catalog = row.get('table_catalog') or ''
        schema = row['table_schema']
        typ = row.get('column_type') or format_type(row.get('data_type') or '', row.get('udt_name') or '', row.get('character_maximum_length'), row.get('numeric_precision'), row.get('numeric_scale'))
        w.writerow({'col_name': row['column_name'], 'col_description': row.get('column_comment') or '', 'col_type': typ,
                    'col_sort_order': row.get('ordinal_position') or '', 'database': schema if catalog in ('', 'def') else catalog,
                    'schema': schema, 'name': row['table_name'], 'description': '', 'is_view': '', 'last_updated_time': ''})
` +
  PY_EPILOGUE

// ------------------------------------------------------------------ shared writer side
/**
 * Writes text with backpressure. Pieces stay under 64 KiB (V8 builds larger strings in its
 * large-object space, measured much slower) and go out corked, 1 MiB at a time, so the
 * file stream issues one writev instead of a syscall per piece.
 */
class Out {
  private buf = ''
  private pieces = 0
  constructor(private readonly ws: WriteStream) {}
  async add(s: string): Promise<void> {
    this.buf += s
    if (this.buf.length < 1 << 15) return
    if (this.pieces === 0) this.ws.cork()
    const ok = this.ws.write(this.buf)
    this.buf = ''
    if (++this.pieces >= 32) {
      this.pieces = 0
      this.ws.uncork()
    }
    if (!ok) {
      if (this.pieces !== 0) {
        this.pieces = 0
        this.ws.uncork()
      }
      await once(this.ws, 'drain')
    }
  }
  async end(): Promise<void> {
    if (this.pieces !== 0) this.ws.uncork()
    this.ws.end(this.buf)
    await once(this.ws, 'finish')
  }
}

const CHAR_TYPES = new Set([
  'character varying',
  'varchar',
  'character',
  'char',
  'nvarchar',
  'nchar',
  'varbinary',
  'binary',
  'bit varying',
  'bit',
  'varchar2',
  'nvarchar2',
])
const DECIMAL_TYPES = new Set(['numeric', 'decimal', 'number'])
const intOf = (s: string): number | undefined => (/^-?[0-9]+$/.test(s) ? Number(s) : undefined)

/**
 * The column type the Python baselines write, from a parsed row: column_type when the export
 * has one (MySQL), else data_type formatted as PYTHON_POSTGRES does. Written here rather than
 * imported from the reader, so that the parser variants check the reader's output on their own.
 */
function typeResolver(h: string[]): (row: string[]) => string {
  const ix = (n: string): number => h.indexOf(n)
  const ct = ix('column_type'),
    dt = ix('data_type'),
    udt = ix('udt_name'),
    len = ix('character_maximum_length'),
    prec = ix('numeric_precision'),
    scale = ix('numeric_scale')
  if (ct !== -1) return (row) => row[ct]! || (dt === -1 ? '' : row[dt]!)
  return (row) => {
    const d = dt === -1 ? '' : row[dt]!
    if (d === '') return ''
    const u = udt === -1 ? '' : row[udt]!
    if (d === 'USER-DEFINED' && u !== '') return u
    if (d === 'ARRAY' && u !== '') return (u.startsWith('_') ? u.slice(1) : u) + '[]'
    if (d.includes('(') || d.includes('<')) return d
    const lower = d.toLowerCase()
    if (CHAR_TYPES.has(lower)) {
      const n = len === -1 ? undefined : intOf(row[len]!)
      if (n === -1) return `${d}(max)`
      if (n !== undefined && n > 0) return `${d}(${n})`
    }
    if (DECIMAL_TYPES.has(lower)) {
      const p = prec === -1 ? undefined : intOf(row[prec]!)
      if (p !== undefined) return `${d}(${p},${(scale === -1 ? undefined : intOf(row[scale]!)) ?? 0})`
    }
    return d
  }
}

/** The mapping the Python baselines do, on a parsed row (for the parser comparison). */
function mapper(header: string[]): (row: string[]) => string {
  const h = header.map((x) => x.trim().toLowerCase())
  const ix = (n: string): number => h.indexOf(n)
  const cat = ix('table_catalog'),
    sch = ix('table_schema'),
    tab = ix('table_name'),
    col = ix('column_name'),
    pos = ix('ordinal_position')
  const com = ix('column_comment')
  const typeOf = typeResolver(h)
  return (row) => {
    const catalog = cat === -1 ? '' : row[cat]!
    const schema = row[sch]!
    const database = catalog === '' || catalog === 'def' ? schema : catalog
    return (
      quoteCsvField(row[col]!) +
      ',' +
      quoteCsvField(com === -1 ? '' : row[com]!) +
      ',' +
      quoteCsvField(typeOf(row)) +
      ',' +
      (pos === -1 ? '' : row[pos]!) +
      ',' +
      quoteCsvField(database) +
      ',' +
      quoteCsvField(schema) +
      ',' +
      quoteCsvField(row[tab]!) +
      ',,,\n'
    )
  }
}

// ------------------------------------------------------------------ variants (run in a child)
/** Converts the export src to the Secoda CSV dst; returns the rows written. */
type Variant = (src: string, dst: string) => Promise<number>

const variants: Record<string, Variant> = {
  /** The library's record path: export bytes → InfoSchemaColumns records → main's CsvWriter core (no validation). */
  async ours(src, dst) {
    const { CsvWriter } = await import('../transforms/to-csv.js')
    const reader = new InfoSchemaColumns({ file: src })
    const writer = new CsvWriter()
    const out = new Out(createWriteStream(dst, { highWaterMark: 1 << 20 }))
    let s = ''
    const text = (t: string): void => {
      s += t
    }
    const emit = async (records: Resource[]): Promise<void> => {
      for (const r of records) {
        writer.push(r, text)
        if (s.length > 1 << 15) {
          await out.add(s)
          s = ''
        }
      }
      await out.add(s)
      s = ''
    }
    let records: Resource[] = []
    const take = (r: Resource): void => {
      records.push(r)
    }
    for await (const chunk of createReadStream(src, { highWaterMark: READ_SIZE })) {
      reader.push(chunk as Buffer, take)
      await emit(records)
      records = []
    }
    reader.end(take)
    await emit(records)
    writer.end(text)
    await out.add(s)
    await out.end()
    return writer.info.recordsOut
  },
  /**
   * The library's direct converter (transforms/info-schema/direct-csv.ts): export bytes → Secoda
   * CSV bytes with the record path's checks, no record per column.
   */
  async direct(src, dst) {
    const { createInfoSchemaCsvConverter } = await import('../transforms/info-schema/direct-csv.js')
    const { Report } = await import('../lib/report.js')
    const { pipeline } = await import('node:stream/promises')
    const report = new Report()
    await pipeline(
      createReadStream(src, { highWaterMark: READ_SIZE }),
      createInfoSchemaCsvConverter({ report, file: src }),
      createWriteStream(dst, { highWaterMark: 1 << 20 }),
    )
    return report.resources.column
  },
  /** The whole CLI, in-process: `secoda-convert columns FILE --to csv -o OUT` (adds validation, atomic output). */
  async cli(src, dst) {
    const { main } = await import('../lib/cli/main.js')
    const { PassThrough } = await import('node:stream')
    const err = new PassThrough()
    let stderr = ''
    err.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    rmSync(dst, { force: true })
    const code = await main(['columns', src, '--to', 'csv', '-o', dst], {
      stdin: process.stdin,
      stdout: new PassThrough(),
      stderr: err,
      env: process.env,
    })
    if (code !== 0) throw new Error(`cli exited ${code}: ${stderr}`)
    const m = /(\d+) columns/.exec(stderr)
    return m ? Number(m[1]) : -1
  },
  /** The scanner alone with the baseline's row mapping (no record objects). */
  async scanner(src, dst) {
    const sc = new CsvScanner()
    const out = new Out(createWriteStream(dst, { highWaterMark: 1 << 20 }))
    await out.add(HEADER)
    let map: ((row: string[]) => string) | undefined
    let rows = 0
    const each = async (rs: { fields: string[] }[]): Promise<void> => {
      let s = ''
      for (const r of rs) {
        if (map === undefined) {
          map = mapper(r.fields)
          continue
        }
        rows++
        s += map(r.fields)
      }
      await out.add(s)
    }
    for await (const chunk of createReadStream(src, { highWaterMark: 64 * 1024 })) await each(sc.push(chunk as Buffer))
    await each(sc.end())
    await out.end()
    return rows
  },
  /** csv-parse → map → csv-stringify: the obvious Node pipeline. */
  async 'csv-parse'(src, dst) {
    const { parse: csvParse } = await import('csv-parse')
    const { stringify: csvStringify } = await import('csv-stringify')
    let map: string[] | undefined
    let typeOf: ((row: string[]) => string) | undefined
    let rows = 0
    const parser = createReadStream(src).pipe(csvParse({ bom: true, relax_column_count: false }))
    const str = csvStringify({ record_delimiter: 'unix' })
    const ws = createWriteStream(dst)
    str.pipe(ws)
    str.write(HEADER.trim().split(','))
    for await (const row of parser as AsyncIterable<string[]>) {
      if (map === undefined) {
        map = row.map((x) => x.trim().toLowerCase())
        typeOf = typeResolver(map)
        continue
      }
      const g = (n: string): string => {
        const i = map!.indexOf(n)
        return i === -1 ? '' : row[i]!
      }
      const catalog = g('table_catalog'),
        schema = g('table_schema')
      rows++
      if (
        !str.write([
          g('column_name'),
          g('column_comment'),
          typeOf!(row),
          g('ordinal_position'),
          catalog === '' || catalog === 'def' ? schema : catalog,
          schema,
          g('table_name'),
          '',
          '',
          '',
        ])
      )
        await once(str, 'drain')
    }
    str.end()
    await once(ws, 'finish')
    return rows
  },
  /** papaparse (streaming via its chunk callback on decoded text) → map → our quoter. */
  async papaparse(src, dst) {
    const Papa = (await import('papaparse')).default
    const out = new Out(createWriteStream(dst, { highWaterMark: 1 << 20 }))
    await out.add(HEADER)
    let map: ((row: string[]) => string) | undefined
    let rows = 0
    let pending = ''
    await new Promise<void>((resolve, reject) => {
      Papa.parse<string[]>(createReadStream(src, { encoding: 'utf8' }) as unknown as File, {
        chunk(results, parser) {
          for (const r of results.data) {
            if (r.length === 1 && r[0] === '') continue
            if (map === undefined) {
              map = mapper(r.map((x) => x.replace(/^\uFEFF/, '')))
              continue
            }
            rows++
            pending += map(r)
          }
          if (pending.length > 1 << 16) {
            parser.pause()
            const s = pending
            pending = ''
            out.add(s).then(() => parser.resume(), reject)
          }
        },
        complete: () => resolve(),
        error: (e: Error) => reject(e),
      })
    })
    await out.add(pending)
    await out.end()
    return rows
  },
  /** uDSV's incremental API (string tuples, our own row callback) → map → our quoter. */
  async udsv(src, dst) {
    const { inferSchema, initParser } = await import('udsv')
    const out = new Out(createWriteStream(dst, { highWaterMark: 1 << 20 }))
    await out.add(HEADER)
    const dec = new StringDecoder('utf8')
    let parser: ReturnType<typeof initParser> | undefined
    let map: ((row: string[]) => string) | undefined
    let rows = 0
    let pending = ''
    const onRow = (r: string[]): void => {
      rows++
      pending += map!(r)
    }
    for await (const chunk of createReadStream(src, { highWaterMark: 64 * 1024 })) {
      const s = dec.write(chunk as Buffer)
      if (parser === undefined) {
        const schema = inferSchema(s, { col: ',', row: '\n', encl: '"' })
        parser = initParser(schema)
        map = mapper(schema.cols.map((c) => c.name))
      }
      parser.chunk<string[]>(s, parser.stringArrs, onRow)
      await out.add(pending)
      pending = ''
    }
    parser!.end()
    await out.add(pending)
    await out.end()
    return rows
  },
}

// ------------------------------------------------------------------ parsers alone
/**
 * Parse only (no mapping, no output), in memory, on the first 60 MB, best of 3 passes per
 * parser (warm JIT), MB per CPU-second: isolates the parser from the rest of the pipeline.
 */
async function parsersAlone(input: string): Promise<Record<string, number>> {
  const { readFileSync: read } = await import('node:fs')
  const buf = read(input).subarray(0, 60e6)
  const n = buf.length
  const { inferSchema, initParser } = await import('udsv')
  const Papa = (await import('papaparse')).default
  const { parse: csvParseSync } = await import('csv-parse/sync')
  const best: Record<string, number> = {}
  /** f returns the bytes it parsed. */
  const measure = (name: string, f: () => number): void => {
    const c0 = process.cpuUsage()
    const bytes = f()
    const c = process.cpuUsage(c0)
    best[name] = Math.max(best[name] ?? 0, bytes / 1e6 / ((c.user + c.system) / 1e6))
  }
  const parsers: Record<string, () => number> = {
    'ours (CsvScanner)': () => {
      const sc = new CsvScanner()
      let k = 0
      for (let i = 0; i < n; i += 65536) k += sc.push(buf.subarray(i, i + 65536)).length
      k += sc.end().length
      return k > 0 ? n : 0
    },
    udsv: () => {
      const d = new StringDecoder('utf8')
      let p: ReturnType<typeof initParser> | undefined
      let k = 0
      const on = (): void => {
        k++
      }
      for (let i = 0; i < n; i += 65536) {
        const s = d.write(buf.subarray(i, i + 65536))
        p ??= initParser(inferSchema(s, { col: ',', row: '\n', encl: '"' }))
        p.chunk<string[]>(s, p.stringArrs, on)
      }
      p!.end()
      return k > 0 ? n : 0
    },
    papaparse: () => {
      let k = 0
      Papa.parse<string[]>(buf.toString('utf8'), {
        step: () => {
          k++
        },
      })
      return k > 0 ? n : 0
    },
    'csv-parse (sync)': () => {
      const part = buf.subarray(0, buf.lastIndexOf(10, 20e6) + 1)
      return csvParseSync(part).length > 0 ? part.length : 0
    },
  }
  for (let rep = 0; rep < 3; rep++) for (const [name, f] of Object.entries(parsers)) measure(name, f)
  return best
}

// ------------------------------------------------------------------ driver
/** seconds: wall clock; cpuSeconds: user + system CPU of the process (all its threads). */
interface Result {
  seconds: number
  cpuSeconds: number
  rows: number
  maxRssKiB: number
}

function sha256(file: string): string {
  // Read in pieces: a child inherits its parent's peak RSS across exec on Linux (getrusage's
  // maxrss), so a parent that had read a whole output would inflate every later child's figure.
  const h = createHash('sha256')
  const fd = openSync(file, 'r')
  const buf = Buffer.allocUnsafe(1 << 20)
  try {
    for (let n: number; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

async function child(name: string, layout: Layout): Promise<void> {
  const dst = path.join(dataDir, `out-${layout}-${name}.csv`)
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  const rows = await variants[name]!(inputOf(layout), dst)
  const seconds = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  process.stdout.write(
    JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6, rows, maxRssKiB: process.resourceUsage().maxRSS }) + '\n',
  )
}

function run(cmd: string, args: string[]): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result
}

/** What one layout's run leaves for the summary. */
interface LayoutRun {
  size: number
  results: Record<string, Result>
  failed: boolean
}

/** Generate (when missing or of another size), run every variant, print the layout's table. */
async function benchLayout(layout: Layout, mb: number, reps: number, names: string[]): Promise<LayoutRun> {
  const input = inputOf(layout)
  const want = Math.round(mb * 1e6)
  if (!existsSync(input) || Math.abs(statSync(input).size - want) > 2e6) {
    process.stderr.write(`generating ${mb} MB ${layout} export at ${input}\n`)
    await generate(layout, want)
  }
  const size = statSync(input).size
  const results: Record<string, Result> = {}
  const script = path.join(dataDir, `baseline-${layout}.py`)
  writeFileSync(script, layout === 'mysql' ? PYTHON_MYSQL : PYTHON_POSTGRES)
  const dictScript = path.join(dataDir, 'baseline-dict.py')
  writeFileSync(dictScript, PYTHON_DICT)
  const outOf = (n: string): string => path.join(dataDir, `out-${layout}-${n}.csv`)
  for (let rep = 1; rep <= reps; rep++) {
    for (const n of names) {
      process.stderr.write(`${layout} round ${rep}: ${n} ...\n`)
      const r =
        n === 'python' || n === 'python-dict'
          ? run('python3', [n === 'python' ? script : dictScript, input, outOf(n)])
          : run(process.execPath, [fileURLToPath(import.meta.url), '--child', n, layout])
      const best = results[n]
      results[n] =
        best === undefined
          ? r
          : {
              seconds: Math.min(r.seconds, best.seconds),
              cpuSeconds: Math.min(r.cpuSeconds, best.cpuSeconds),
              rows: r.rows,
              maxRssKiB: Math.max(r.maxRssKiB, best.maxRssKiB),
            }
    }
  }
  const ref = sha256(outOf('python'))
  const py = results.python!
  const mbs = (r: Result): number => size / 1e6 / r.seconds
  const cpuMbs = (r: Result): number => size / 1e6 / r.cpuSeconds
  const lines = [
    `${layout} layout: information_schema CSV → Secoda CSV, ${(size / 1e6).toFixed(0)} MB export, ${py.rows} rows (${(size / py.rows).toFixed(0)} bytes per row), best of ${reps} interleaved rounds (node ${process.version}, load average ${loadavg()[0]!.toFixed(1)})`,
    "| variant | MB/s (wall) | × Python | MB per CPU-second | × Python | peak RSS MiB | output = Python's |",
    '|---|---|---|---|---|---|---|',
  ]
  let failed = false
  for (const n of names) {
    const r = results[n]!
    const out = outOf(n)
    const same = n === 'python' || sha256(out) === ref
    if (!same || r.rows !== py.rows) failed = true
    lines.push(
      `| ${n} | ${mbs(r).toFixed(1)} | ${(mbs(r) / mbs(py)).toFixed(2)} | ${cpuMbs(r).toFixed(1)} | ${(cpuMbs(r) / cpuMbs(py)).toFixed(2)} | ${(r.maxRssKiB / 1024).toFixed(0)} | ${same ? 'yes' : 'NO'}${r.rows !== py.rows ? ` (rows ${r.rows})` : ''} |`,
    )
    if (!process.env.BENCH_KEEP && n !== 'python') rmSync(out, { force: true })
  }
  if (!process.env.BENCH_KEEP) rmSync(outOf('python'), { force: true })
  process.stdout.write('\n' + lines.join('\n') + '\n')
  if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY.includes('parsers')) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--parsers', layout], { encoding: 'utf8', maxBuffer: 1 << 20 })
    if (r.status === 0) {
      const best = JSON.parse(r.stdout.trim()) as Record<string, number>
      process.stdout.write(
        `\n${layout} layout, parsers alone (60 MB in memory, best of 3, MB per CPU-second; csv-parse on 20 MB):\n| parser | MB/CPU-s |\n|---|---|\n` +
          Object.entries(best)
            .map(([k, v]) => `| ${k} | ${v.toFixed(0)} |`)
            .join('\n') +
          '\n',
      )
    } else process.stderr.write(`parsers-alone run failed: ${r.stderr}\n`)
  }
  return { size, results, failed }
}

async function main(): Promise<void> {
  const mb = Number(process.env.BENCH_MB ?? 370)
  const reps = Math.max(1, Number(process.env.BENCH_REPS ?? 2))
  const which = process.env.BENCH_LAYOUT ?? 'both'
  const layouts = which === 'both' ? LAYOUTS : LAYOUTS.filter((l) => l === which)
  if (layouts.length === 0) throw new Error(`BENCH_LAYOUT must be mysql, postgres or both; got ${JSON.stringify(which)}`)
  const only = process.env.BENCH_ONLY?.split(',')
  const names = ['python', 'python-dict', 'ours', 'direct', 'cli', 'scanner', 'csv-parse', 'papaparse', 'udsv'].filter(
    (n) => !only || only.includes(n) || n === 'python',
  )
  const summary: string[] = []
  let failed = false
  for (const layout of layouts) {
    const { size, results, failed: f } = await benchLayout(layout, mb, reps, names)
    failed ||= f
    const py = results.python!
    const ratio = (n: string, base: string): string => {
      const r = results[n]
      const b = results[base]
      return r === undefined || b === undefined
        ? ''
        : `${n} / ${base} = ${(b.seconds / r.seconds).toFixed(2)} wall, ${(b.cpuSeconds / r.cpuSeconds).toFixed(2)} CPU`
    }
    const pd = results['python-dict']
    summary.push(
      `${layout} (python ${(size / 1e6 / py.seconds).toFixed(1)} MB/s${pd ? `, python-dict ${(size / 1e6 / pd.seconds).toFixed(1)} MB/s` : ''}): ` +
        [ratio('ours', 'python'), ratio('direct', 'python'), ratio('cli', 'python'), ratio('cli', 'python-dict')]
          .filter(Boolean)
          .join('; ') +
        ' (target ≥ 2)',
    )
  }
  process.stdout.write('\n' + summary.join('\n') + '\n')
  if (failed) {
    process.stderr.write('FAIL: an output differs from the Python baseline\n')
    process.exitCode = 1
  }
}

if (process.argv[2] === '--parsers') process.stdout.write(JSON.stringify(await parsersAlone(inputOf(process.argv[3] as Layout))) + '\n')
else if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4] as Layout)
else await main()
