import t from 'tap'
import { readFileSync, writeFileSync, existsSync, readdirSync, createReadStream } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import {
  InfoSchemaColumns,
  createInfoSchemaColumnsReader,
  readTablesExport,
  type InfoSchemaOptions,
} from '../transforms/info-schema/columns.js'
import { formatColumnType, nativeTableType } from '../transforms/info-schema/rules.js'
import { serializeRecord, recordSource, type Resource } from '../lib/records.js'
import { createIdBuilder } from '../lib/ids.js'
import { Report } from '../lib/report.js'
import { rng, pushed, ended } from './helpers.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const fixtures = path.join(root, 'fixtures', 'info-schema')
// Optional real third-party exports, never copied into the repository: a `shared/samples/`
// folder beside the clone (CI), or one level further up (a git worktree in a subfolder).
const samples =
  [path.resolve(root, '..', 'shared'), path.resolve(root, '..', '..', 'shared')]
    .map((d) => path.join(d, 'samples', 'information-schema'))
    .find((d) => existsSync(d)) ?? ''

/** Convert bytes fed in the given chunk sizes (cycled). */
function convert(input: Uint8Array, options: InfoSchemaOptions, sizes: number[] = [65536]): Resource[] {
  const r = new InfoSchemaColumns(options)
  const out: Resource[] = []
  let k = 0
  for (let i = 0; i < input.length; ) {
    const n = sizes[k++ % sizes.length]!
    out.push(...pushed(r, input.subarray(i, i + n)))
    i += n
  }
  out.push(...ended(r))
  return out
}

async function caseOptions(dir: string): Promise<InfoSchemaOptions> {
  const args = JSON.parse(readFileSync(path.join(dir, 'args.json'), 'utf8')) as { database?: string; schema?: string }
  const opts: InfoSchemaOptions = { ...args, file: 'columns.csv', report: new Report({ maxErrors: 1 }) }
  const tablesFile = path.join(dir, 'tables.csv')
  if (existsSync(tablesFile)) opts.tables = await readTablesExport(createReadStream(tablesFile), { ...args, file: 'tables.csv' })
  return opts
}

for (const name of readdirSync(fixtures).sort()) {
  const dir = path.join(fixtures, name)
  t.test(`fixture ${name}: golden output, chunking invariance`, async (t) => {
    const input = readFileSync(path.join(dir, 'columns.csv'))
    const opts = await caseOptions(dir)
    const records = convert(input, opts)
    const text = records.map(serializeRecord).join('\n') + '\n'
    const golden = path.join(dir, 'expected.jsonl')
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text)
    t.equal(text, readFileSync(golden, 'utf8'), 'matches expected.jsonl')
    t.equal(opts.report!.errors, 0)
    // every record carries the line it came from
    for (const r of records) t.ok(recordSource(r)?.line, `${r.databuilder_id} has a source line`)
    const whole = JSON.stringify(records)
    t.equal(JSON.stringify(convert(input, opts, [1])), whole, 'one byte at a time')
    const r = rng(7 + name.length)
    for (let trial = 0; trial < 20; trial++) {
      const sizes = Array.from({ length: 5 }, () => 1 + Math.floor(r() * 40))
      t.equal(JSON.stringify(convert(input, opts, sizes)), whole, `chunks ${sizes.join(',')}`)
    }
  })
}

t.test('vendor specifics seen through the fixtures', async (t) => {
  const get = async (name: string): Promise<Map<string, Resource>> => {
    const dir = path.join(fixtures, name)
    return new Map(convert(readFileSync(path.join(dir, 'columns.csv')), await caseOptions(dir)).map((r) => [r.databuilder_id, r]))
  }
  const pg = await get('postgres')
  t.equal(pg.get('shop.public.customers.email')?.type, 'character varying(255)')
  t.equal(pg.get('shop.public.customers.status')?.type, 'customer_status', 'USER-DEFINED → udt_name')
  t.equal(pg.get('shop.public.customers.tags')?.type, 'text[]', 'ARRAY → element[]')
  t.equal(pg.get('shop.public.customers.balance')?.type, 'numeric(12,2)')
  t.equal(pg.get('shop.public.customers.id')?.is_pk, undefined, 'PostgreSQL exports carry no key column')
  t.equal(pg.get('shop.public.order_totals')?.native_type, 'view')
  t.equal(pg.get('shop.public.empty_table')?.entity_type, 'table', 'tables export adds tables without column rows')
  t.equal(
    pg.get(createIdBuilder().column('shop', 'Sales Data', 'Q1 "Report"', 'Région'))?.type,
    'character(2)',
    'names with spaces, quotes, non-ASCII',
  )
  const my = await get('mysql')
  t.equal(my.get('warehouse.inventory.products')?.database, 'warehouse', '--database names the Secoda database')
  t.equal(my.get('warehouse.inventory.products')?.schema, 'inventory', 'MySQL database → schema')
  t.equal(my.get('warehouse.inventory.products.product_id')?.is_pk, true)
  t.equal(my.get('warehouse.inventory.products.sku')?.is_pk, false, 'UNI is not PRI')
  t.equal(my.get('warehouse.inventory.product_tags.tag')?.is_pk, true, 'composite key')
  t.equal(my.get('warehouse.inventory.products.description')?.description, 'Multi-line\ndescription, with commas')
  t.equal(my.get('warehouse.inventory.v_prices')?.native_type, 'view')
  t.equal(my.get('warehouse.inventory.v_prices')?.description, undefined, "MySQL's VIEW placeholder comment dropped")
  t.equal(my.get('warehouse.inventory.products')?.description, 'Everything we sell; "products" in the UI')
  const sf = await get('snowflake')
  t.equal(sf.get('analytics.marts.fct_orders.amount')?.type, 'NUMBER(12,2)')
  t.equal(sf.get('analytics.marts.dim_customer.name')?.description, 'Full name')
  const ss = await get('sqlserver')
  t.equal(ss.get('adventureworks.sales.customer.notes')?.type, 'nvarchar(max)')
  t.equal(ss.get('adventureworks.sales.customer.creditlimit')?.type, 'decimal(19,4)')
  const bq = await get('bigquery')
  t.equal(bq.get('my-project-123.web_events.sessions.pages')?.type, 'ARRAY<STRUCT<url STRING, seconds INT64>>')
  const rs = await get('redshift')
  t.equal(rs.get('dev.public.users.city')?.description, 'Home city', 'remarks → description')
  const pd = await get('pandas-mysql')
  t.equal(pd.get('bank.bank.accounts.account_id')?.is_pk, true, 'no table_schema: --schema, database defaults to it')
})

t.test('sorted input streams table by table; unsorted input is regrouped', async (t) => {
  const head = 'table_schema,table_name,column_name,ordinal_position\n'
  const sorted = new InfoSchemaColumns({ database: 'db' })
  const first = pushed(sorted, head + 's,a,x,1\ns,a,y,2\ns,b,x,1\n')
  t.same(
    first.map((r) => r.databuilder_id),
    ['db.s.a', 'db.s.a.x', 'db.s.a.y'],
    'table a is out as soon as b starts',
  )
  t.same(
    ended(sorted).map((r) => r.databuilder_id),
    ['db.s.b', 'db.s.b.x'],
  )

  const report = new Report()
  const r = new InfoSchemaColumns({ database: 'db', report })
  const out = [...pushed(r, head + 's,a,y,2\ns,b,x,1\ns,a,x,1\ns,c,z,1\ns,b,w,2\n'), ...ended(r)]
  t.same(
    out.map((x) => x.databuilder_id),
    ['db.s.a', 'db.s.a.y', 'db.s.b', 'db.s.b.x', 'db.s.b.w', 'db.s.a.x', 'db.s.c', 'db.s.c.z'],
  )
  t.equal(report.counters['columns.unsorted_rows'], 3)
  t.equal(new Set(out.map((x) => x.databuilder_id)).size, out.length, 'no table emitted twice')

  const cols = pushed(new InfoSchemaColumns({ database: 'db' }), head + 's,a,y,2\ns,a,x,1\n')
  t.same(cols, [], 'nothing out before the table is complete')
})

t.test('names: def catalog, --database override, missing names are errors with a line', async (t) => {
  const ids = (text: string, o: InfoSchemaOptions = {}): string[] => {
    const r = new InfoSchemaColumns(o)
    return [...pushed(r, text), ...ended(r)].map((x) => x.databuilder_id)
  }
  t.same(
    ids('TABLE_CATALOG,TABLE_SCHEMA,TABLE_NAME,COLUMN_NAME\ndef,app,t,c\n'),
    ['app.app.t', 'app.app.t.c'],
    "'def' catalog: database defaults to the schema",
  )
  t.same(
    ids('table_catalog,table_schema,table_name,column_name\ncat,app,t,c\n', { database: 'Other' }),
    ['other.app.t', 'other.app.t.c'],
    '--database overrides the catalog',
  )
  t.same(
    ids('table_catalog,table_schema,table_name,column_name\ncat,app,t,c\n', { ids: createIdBuilder({ prefix: 'X', keepCase: true }) }),
    ['X.cat.app.t', 'X.cat.app.t.c'],
  )
  t.throws(
    () => ids('table_schema,table_name,column_name\n\napp,t,c\n'),
    { code: 'COLUMNS_NAME_MISSING', line: 3 },
    'no catalog, not MySQL, no --database',
  )
  t.throws(() => ids('table_name,column_name,column_key\nt,c,PRI\n'), { code: 'COLUMNS_NAME_MISSING', line: 2, message: /--schema/ })
  t.same(ids('table_name,column_name,column_key\nt,c,PRI\n', { schema: 'S' }), ['s.s.t', 's.s.t.c'])
  t.throws(() => ids('table_catalog,table_schema,table_name,column_name\ncat,,t,c\n'), {
    code: 'COLUMNS_NAME_MISSING',
    message: /table_schema is empty/,
  })
})

t.test('layout and row errors carry code and line', async (t) => {
  const run = (text: string, o: InfoSchemaOptions = {}): Resource[] => {
    const r = new InfoSchemaColumns({ database: 'd', schema: 's', ...o })
    return [...pushed(r, text), ...ended(r)]
  }
  t.throws(() => run('name,type\nx,int\n'), {
    code: 'COLUMNS_LAYOUT',
    line: 1,
    message: /lacks table_name; expected table_name and column_name.*got "name", "type"/,
  })
  t.throws(() => run('table_name,type\nx,int\n'), { code: 'COLUMNS_LAYOUT', message: /lacks column_name/ })
  t.throws(() => run(''), { code: 'COLUMNS_LAYOUT', message: /empty/ })
  t.throws(() => run('table_name,column_name\nt,c\nt\n'), { code: 'CSV_SYNTAX', line: 3 })
  t.throws(() => run('table_name,column_name,ordinal_position\nt,c,first\n'), { code: 'CSV_VALUE', line: 2 })
  t.throws(() => run('table_name,column_name\nt,\n'), { code: 'FIELD_REQUIRED', line: 2 })
  t.throws(() => run('table_name,column_name\nt,"c\n'), { code: 'CSV_SYNTAX', line: 2, message: /begins on line 2/ })
  // with a report, row errors are collected and the run goes on
  const report = new Report({ maxErrors: 10 })
  const out = run('table_name,column_name,ordinal_position\nt,c,x\nt,d,2\nt\n', { report })
  t.equal(report.errors, 2)
  t.same(
    report.diagnostics.map((d) => [d.code, d.line]),
    [
      ['CSV_VALUE', 2],
      ['CSV_SYNTAX', 4],
    ],
  )
  t.same(
    out.map((r) => r.databuilder_id),
    ['d.s.t', 'd.s.t.d', 'd.s.t.c'],
    'a column without a valid ordinal goes after the others',
  )
  const shuffled = run('table_name,column_name,ordinal_position\nt,c,3\nt,a,1\nt,b,2\nu,z,1\nu,y,2\n')
  t.same(
    shuffled.map((r) => r.databuilder_id),
    ['d.s.t', 'd.s.t.a', 'd.s.t.b', 'd.s.t.c', 'd.s.u', 'd.s.u.z', 'd.s.u.y'],
    'columns in ordinal order within each table',
  )
})

t.test('tables export errors', async (t) => {
  await t.rejects(readTablesExport(Readable.from(['table_schema,table_name\ns,t\n']), { database: 'd' }), {
    code: 'COLUMNS_LAYOUT',
    message: /lacks table_type/,
  })
  await t.rejects(readTablesExport(Readable.from(['']), { database: 'd' }), { code: 'COLUMNS_LAYOUT' })
  await t.rejects(readTablesExport(Readable.from(['table_schema,table_name,table_type\ns,t,VIEW\ns,T,VIEW\n']), { database: 'd' }), {
    code: 'ID_DUPLICATE',
    line: 3,
  })
  await t.rejects(readTablesExport(Readable.from(['table_schema,table_name,table_type\ns,t\n']), { database: 'd' }), {
    code: 'CSV_SYNTAX',
    line: 2,
  })
})

t.test('type formatting and table types', async (t) => {
  t.equal(formatColumnType({ dataType: 'varchar', charLength: 'NULL' }), 'varchar', "SSMS's NULL is no length")
  t.equal(formatColumnType({ dataType: 'numeric' }), 'numeric')
  t.equal(formatColumnType({}), undefined)
  t.equal(formatColumnType({ columnType: "enum('a','b')", dataType: 'enum' }), "enum('a','b')")
  t.equal(formatColumnType({ dataType: 'NVARCHAR', charLength: '-1' }), 'NVARCHAR(max)', 'upper-case names and -1 (SQL Server max)')
  t.equal(formatColumnType({ dataType: 'character varying', charLength: '0' }), 'character varying')
  t.equal(formatColumnType({ dataType: 'character varying', charLength: '-' }), 'character varying')
  t.equal(formatColumnType({ dataType: 'DECIMAL', precision: '12', scale: '-2' }), 'DECIMAL(12,-2)')
  t.equal(formatColumnType({ dataType: 'numeric', precision: '12x', scale: '2' }), 'numeric')
  t.equal(formatColumnType({ dataType: 'ARRAY<INT64>', charLength: '5' }), 'ARRAY<INT64>', 'a full type as written')
  t.equal(
    formatColumnType({ dataType: 'numeric', precision: '10' }),
    'numeric(10,0)',
    'kinds are remembered per data_type: same answers twice',
  )
  t.equal(nativeTableType('BASE TABLE'), 'table')
  t.equal(nativeTableType('MATERIALIZED VIEW'), 'materialized view')
  t.equal(nativeTableType('FOREIGN'), 'foreign table')
  t.equal(nativeTableType(''), undefined)
})

t.test('stream factory', async (t) => {
  const got: Resource[] = []
  await pipeline(
    Readable.from([Buffer.from('table_name,column_name\nt,c\n')]),
    createInfoSchemaColumnsReader({ database: 'd', schema: 's' }),
    async (src) => {
      for await (const r of src) got.push(r as Resource)
    },
  )
  t.same(
    got.map((r) => r.databuilder_id),
    ['d.s.t', 'd.s.t.c'],
  )
  await t.rejects(
    pipeline(Readable.from([Buffer.from('nope\n')]), createInfoSchemaColumnsReader({}), async (src) => {
      for await (const _ of src) void _
    }),
    { code: 'COLUMNS_LAYOUT' },
  )
  await t.rejects(
    pipeline(
      Readable.from([Buffer.from('table_name,column_name\nt,"c')]),
      createInfoSchemaColumnsReader({ database: 'd', schema: 's' }),
      async (src) => {
        for await (const _ of src) void _
      },
    ),
    { code: 'CSV_SYNTAX', line: 2 },
  )
})

t.test(
  'real third-party sample (skipped when the samples folder is absent)',
  { skip: samples === '' && 'no shared samples' },
  async (t) => {
    for (const f of readdirSync(samples).filter((x) => x.endsWith('.csv'))) {
      const report = new Report({ maxErrors: 1 })
      const records = convert(readFileSync(path.join(samples, f)), { file: f, report, schema: 'agents_research' })
      t.equal(report.errors, 0, `${f}: no errors`)
      const tables = records.filter((r) => r.entity_type === 'table')
      const columns = records.filter((r) => r.entity_type === 'column')
      const lines = readFileSync(path.join(samples, f), 'utf8').trim().split('\n').length
      t.equal(columns.length, lines - 1, `${f}: one column per row`)
      t.ok(tables.length > 1, `${f}: ${tables.length} tables`)
      t.equal(new Set(records.map((r) => r.databuilder_id)).size, records.length, 'ids unique')
      for (const c of columns) {
        t.ok(
          tables.some((x) => x.databuilder_id === c.parent_databuilder_id),
          `${c.databuilder_id} has its table`,
        )
        t.ok(Number.isInteger(c.sort_order) && c.sort_order! > 0)
      }
      t.ok(columns.some((c) => c.is_pk === true))
    }
  },
)

t.test('mysql --batch text: detected from the header, chunking-invariant; format can be forced', async (t) => {
  const text = Buffer.from(
    'TABLE_CATALOG\tTABLE_SCHEMA\tTABLE_NAME\tCOLUMN_NAME\tORDINAL_POSITION\tCOLUMN_TYPE\tCOLUMN_KEY\tCOLUMN_COMMENT\ndef\tshop\torders\tid\t1\tint\tPRI\tKey, "the" one\ndef\tshop\torders\tnote\t2\ttext\t\tTwo\\nlines é\n',
  )
  const whole = convert(text, {})
  t.same(
    whole.map((r) => [r.databuilder_id, r.description]),
    [
      ['shop.shop.orders', undefined],
      ['shop.shop.orders.id', 'Key, "the" one'],
      ['shop.shop.orders.note', 'Two\nlines é'],
    ],
  )
  t.equal(JSON.stringify(convert(text, {}, [1])), JSON.stringify(whole), 'one byte at a time')
  t.equal(JSON.stringify(convert(text, {}, [3, 7, 2])), JSON.stringify(whole), 'random chunks')
  t.throws(() => convert(text, { format: 'csv' }), { code: 'COLUMNS_LAYOUT' }, 'forced CSV sees one unknown column')
  t.same(
    convert(Buffer.from('table_name\tcolumn_name\nt\tc'), { format: 'mysql-batch', database: 'd', schema: 's' }).map(
      (r) => r.databuilder_id,
    ),
    ['d.s.t', 'd.s.t.c'],
  )
  t.same(
    convert(Buffer.from('table_name;column_name\nt;c\n'), { delimiter: ';', database: 'd', schema: 's' }).map((r) => r.databuilder_id),
    ['d.s.t', 'd.s.t.c'],
    '--delimiter',
  )
})
