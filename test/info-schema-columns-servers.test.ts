// information_schema exports made by REAL servers (PostgreSQL via psql \copy ... csv header,
// MariaDB via mysql --batch), converted and compared with what each server's catalog reports
// through another interface (pg_catalog; SHOW FULL COLUMNS / SHOW TABLE STATUS as XML).
// Servers: .ci/setup-databases.sh. Skipped when a server is unreachable, unless CI is set,
// where an unreachable server fails the test (CI must prove these ran).

import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { InfoSchemaColumns, readTablesExport, type InfoSchemaOptions } from '../transforms/info-schema/columns.js'
import { parseCsv } from '../lib/scan/csv.js'
import { createIdBuilder } from '../lib/ids.js'
import { Report } from '../lib/report.js'
import type { Resource } from '../lib/records.js'
import { pushed, ended } from './helpers.js'
import { Readable } from 'node:stream'

const DB = `secoda_columns_${process.pid}`
const ids = createIdBuilder()

function run(cmd: string, args: string[], input?: string): { ok: boolean; out: Buffer; err: string } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20, env: { ...process.env, PGCONNECT_TIMEOUT: '5' } })
  return { ok: r.status === 0, out: r.stdout ?? Buffer.alloc(0), err: `${r.error?.message ?? ''}${r.stderr?.toString() ?? ''}` }
}

/** Skip (locally) or fail (CI) when a server is unreachable. Returns true when usable. */
function requireServer(t: Test, name: string, probe: () => boolean): boolean {
  if (probe()) return true
  if (process.env.CI) t.fail(`${name} is unreachable but CI is set: run .ci/setup-databases.sh first`)
  else t.skip(`${name} unreachable (run .ci/setup-databases.sh as root)`)
  return false
}

function convert(bytes: Buffer, opts: InfoSchemaOptions): Resource[] {
  const r = new InfoSchemaColumns(opts)
  return [...pushed(r, bytes), ...ended(r)]
}

// ------------------------------------------------------------------ PostgreSQL
const psql = (db: string, ...args: string[]): ReturnType<typeof run> =>
  run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, ...args])

const PG_SCHEMA = `
CREATE TYPE public.mood AS ENUM ('ok', 'meh');
CREATE SCHEMA shop;
CREATE SCHEMA "Odd ""Schema""";
CREATE TABLE shop.customers (
  id serial PRIMARY KEY,
  email varchar(255) NOT NULL,
  balance numeric(12,2),
  tags text[],
  mood public.mood,
  created timestamptz DEFAULT now(),
  "Größe" char(2),
  score double precision,
  plain_numeric numeric
);
COMMENT ON COLUMN shop.customers.email IS 'E-mail, "quoted",
with a newline — and ümlauts';
COMMENT ON COLUMN shop.customers."Größe" IS 'Größe in cm';
CREATE TABLE shop.orders (order_id bigint, customer_id int, amount numeric(10,2), note text, PRIMARY KEY (order_id)) PARTITION BY RANGE (order_id);
CREATE TABLE shop.orders_p1 PARTITION OF shop.orders FOR VALUES FROM (0) TO (1000);
CREATE VIEW shop.big_orders AS SELECT order_id, amount FROM shop.orders WHERE amount > 100;
CREATE MATERIALIZED VIEW shop.order_stats AS SELECT count(*) AS n FROM shop.orders;
CREATE TABLE "Odd ""Schema"""."Mixed.Case" ("Col,1" int, two varchar);
`
const PG_WHERE = `table_schema IN ('shop', 'Odd "Schema"')`

t.test('PostgreSQL: \\copy information_schema.columns → records match pg_catalog', async (t) => {
  if (!requireServer(t, 'PostgreSQL', () => psql('postgres', '-c', 'SELECT 1').ok)) return
  const setup = psql('postgres', '-c', `DROP DATABASE IF EXISTS ${DB}`, '-c', `CREATE DATABASE ${DB} ENCODING 'UTF8' TEMPLATE template0`)
  t.ok(setup.ok, setup.err)
  const ddl = run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', DB], PG_SCHEMA)
  t.ok(ddl.ok, ddl.err)
  t.teardown(() => {
    psql('postgres', '-c', `DROP DATABASE IF EXISTS ${DB}`)
  })

  // How users export: \copy with a header, comments joined in as a remarks column.
  // Primary keys: PostgreSQL's information_schema.columns has none, so the documented query
  // adds MySQL's column_key ('PRI') from table_constraints + key_column_usage.
  const exportSql = (order: string): string =>
    `\\copy (SELECT c.*, col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position::int) AS remarks, CASE WHEN EXISTS (SELECT 1 FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name WHERE tc.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = c.column_name) THEN 'PRI' ELSE '' END AS column_key FROM information_schema.columns c WHERE ${PG_WHERE} ORDER BY ${order}) TO STDOUT WITH (FORMAT csv, HEADER)`
  const sorted = psql(DB, '-c', exportSql('table_schema, table_name, ordinal_position'))
  t.ok(sorted.ok, sorted.err)
  const unsorted = psql(DB, '-c', exportSql('column_name DESC'))
  t.ok(unsorted.ok, unsorted.err)
  const tablesCsv = psql(DB, '-c', `\\copy (SELECT * FROM information_schema.tables WHERE ${PG_WHERE}) TO STDOUT WITH (FORMAT csv, HEADER)`)
  t.ok(tablesCsv.ok, tablesCsv.err)

  const tables = await readTablesExport(Readable.from([tablesCsv.out]), { file: 'tables.csv' })
  const report = new Report({ maxErrors: 1 })
  const records = convert(sorted.out, { file: 'columns.csv', tables, report })
  t.equal(report.errors, 0)
  const byId = new Map(records.map((r) => [r.databuilder_id, r]))
  t.equal(byId.size, records.length, 'ids unique')

  // The catalog's own view, through pg_catalog (format_type is how psql \d prints types).
  const truth = psql(
    DB,
    '--csv',
    '-c',
    `SELECT n.nspname, c.relname, c.relkind, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod) AS type, col_description(c.oid, a.attnum) AS comment,
      EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('shop', 'Odd "Schema"') AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'f')`,
  )
  t.ok(truth.ok, truth.err)
  const rows = parseCsv(truth.out)
    .slice(1)
    .map((r) => r.fields)
  t.ok(rows.length >= 20, `${rows.length} catalog columns`)
  const columns = records.filter((r) => r.entity_type === 'column')
  t.equal(columns.length, rows.length, 'one column resource per catalog column')
  for (const [schema, table, relkind, col, attnum, type, comment, pk] of rows as string[][]) {
    const id = ids.column(DB, schema!, table!, col!)
    const c = byId.get(id)
    if (!c) {
      t.fail(`missing ${id}`)
      continue
    }
    t.same(
      [c.type, c.sort_order, c.description, c.is_pk, c.parent_databuilder_id],
      [type, Number(attnum), comment === '' ? undefined : comment, pk === 't', ids.table(DB, schema!, table!)],
      id,
    )
    const tbl = byId.get(ids.table(DB, schema!, table!))!
    t.same(
      [tbl.native_type, tbl.database, tbl.schema, tbl.title],
      [relkind === 'v' ? 'view' : 'table', DB, schema, table],
      `table of ${id}`,
    )
  }
  t.equal(byId.get(ids.column(DB, 'shop', 'customers', 'email'))?.description, 'E-mail, "quoted",\nwith a newline — and ümlauts')
  t.equal(byId.get(ids.column(DB, 'shop', 'customers', 'id'))?.is_pk, true)
  t.equal(byId.get(ids.column(DB, 'shop', 'orders_p1', 'order_id'))?.is_pk, true, 'a partition has the key of its parent')
  t.equal(byId.get(ids.table(DB, 'shop', 'order_stats')), undefined, 'PostgreSQL leaves materialized views out of information_schema')

  // Same export in another order: same records (the reader regroups), counter says so.
  const report2 = new Report({ maxErrors: 1 })
  const again = convert(unsorted.out, { file: 'columns.csv', tables, report: report2 })
  const key = (rs: Resource[]): string[] => rs.map((r) => JSON.stringify(r)).sort()
  t.same(key(again), key(records), 'order of the export does not matter')
  t.ok((report2.counters['columns.unsorted_rows'] ?? 0) > 0, 'unsorted input was noticed')
})

// ------------------------------------------------------------------ MariaDB / MySQL
const mysql = (...args: string[]): ReturnType<typeof run> => run('mysql', ['--default-character-set=utf8mb4', ...args])

const MY_SCHEMA = `
DROP DATABASE IF EXISTS ${DB};
CREATE DATABASE ${DB} CHARACTER SET utf8mb4;
USE ${DB};
CREATE TABLE customers (
  id int unsigned NOT NULL AUTO_INCREMENT COMMENT 'Surrogate key',
  email varchar(255) NOT NULL COMMENT 'E-mail, "quoted",\\nwith a newline, a\\ttab and a \\\\ — ümlaut',
  balance decimal(12,2) COMMENT 'Prix en €',
  status enum('new','paid') DEFAULT 'new',
  PRIMARY KEY (id)
) COMMENT='Our customers; "all" of them';
CREATE TABLE order_items (
  order_id bigint NOT NULL,
  line smallint NOT NULL,
  sku varchar(32) COMMENT 'Stock keeping unit',
  PRIMARY KEY (order_id, line)
) PARTITION BY HASH (order_id) PARTITIONS 2;
CREATE VIEW big_customers AS SELECT id, balance FROM customers WHERE balance > 100;
`

/** Rows of `mysql --xml` output as name → value maps (independent of the batch reader). */
function xmlRows(xml: string): Record<string, string | undefined>[] {
  const ent = (s: string): string =>
    s.replace(
      /&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi,
      (_m, e: string) =>
        (({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }) as Record<string, string>)[e] ??
        String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
    )
  return [...xml.matchAll(/<row>([\s\S]*?)<\/row>/g)].map((m) => {
    const row: Record<string, string | undefined> = {}
    for (const f of m[1]!.matchAll(/<field name="([^"]+)"(\s+xsi:nil="true")?\s*(?:\/>|>([\s\S]*?)<\/field>)/g))
      row[f[1]!] = f[2] ? undefined : ent(f[3] ?? '')
    return row
  })
}

t.test('MariaDB: mysql --batch information_schema.COLUMNS → records match SHOW FULL COLUMNS', async (t) => {
  if (!requireServer(t, 'MariaDB', () => mysql('-e', 'SELECT 1').ok)) return
  const ddl = run('mysql', ['--default-character-set=utf8mb4'], MY_SCHEMA)
  t.ok(ddl.ok, ddl.err)
  t.teardown(() => {
    mysql('-e', `DROP DATABASE IF EXISTS ${DB}`)
  })

  const cols = mysql(
    '--batch',
    '-e',
    `SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${DB}' ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  )
  t.ok(cols.ok, cols.err)
  const tbls = mysql('--batch', '-e', `SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}'`)
  t.ok(tbls.ok, tbls.err)
  const tables = await readTablesExport(Readable.from([tbls.out]), { file: 'tables.tsv' })
  const report = new Report({ maxErrors: 1 })
  const records = convert(cols.out, { file: 'columns.tsv', tables, report })
  t.equal(report.errors, 0)
  const byId = new Map(records.map((r) => [r.databuilder_id, r]))

  const status = xmlRows(mysql('--xml', DB, '-e', 'SHOW TABLE STATUS').out.toString('utf8'))
  t.equal(status.length, 3, 'three tables and views')
  let n = 0
  for (const st of status) {
    const name = st.Name!
    const tid = ids.table(DB, DB, name)
    const tbl = byId.get(tid)
    const isView = st.Comment === 'VIEW' && st.Engine === undefined
    t.same(
      [tbl?.native_type, tbl?.database, tbl?.schema, tbl?.description],
      [isView ? 'view' : 'table', DB, DB, isView || st.Comment === '' ? undefined : st.Comment],
      `table ${name}`,
    )
    const full = xmlRows(mysql('--xml', DB, '-e', `SHOW FULL COLUMNS FROM \`${name}\``).out.toString('utf8'))
    full.forEach((f, i) => {
      n++
      const c = byId.get(ids.column(DB, DB, name, f.Field!))
      t.same(
        [c?.type, c?.sort_order, c?.is_pk, c?.description],
        [f.Type, i + 1, f.Key === 'PRI', f.Comment === '' ? undefined : f.Comment],
        `${name}.${f.Field}`,
      )
    })
  }
  t.equal(records.filter((r) => r.entity_type === 'column').length, n, 'one column resource per catalog column')
  t.equal(byId.get(ids.column(DB, DB, 'customers', 'email'))?.description, 'E-mail, "quoted",\nwith a newline, a\ttab and a \\ — ümlaut')
  t.equal(byId.get(ids.column(DB, DB, 'order_items', 'line'))?.is_pk, true, 'composite primary key')

  // --database renames the Secoda database; the MySQL database stays the schema.
  const renamed = convert(cols.out, { database: 'Warehouse' })
  t.ok(renamed.some((r) => r.databuilder_id === `warehouse.${DB}.customers.id`))
})
