// Column lineage and view column types (docs/sql.md, "Column lineage"): the PostgreSQL
// resolver over libpg-query's parse tree, the MySQL/MariaDB resolver over the tokenizer,
// --no-column-lineage, and real servers: views using every construct, dumped by pg_dump /
// mysqldump inside the test, converted, and compared with format_type() and pg_depend
// (PostgreSQL) or information_schema.COLUMNS (MariaDB).

import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { SecodaRecord } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { MysqlDumpConverter, type MysqlDumpOptions } from '../transforms/sql/mysql-dump.js'
import { PgDumpConverter, loadPgParser, type PgDumpOptions } from '../transforms/sql/pg-dump.js'
import { mysqlUnavailable, pgUnavailable, run, serverTest } from './helpers/servers.js'
import { convert, repoRoot, samples, summarise, validate } from './helpers/sql-dumps.js'

await loadPgParser()

const quiet = () => new Report({ maxErrors: Infinity })
const pg = (sql: string, opts: Partial<PgDumpOptions> = {}) =>
  convert(() => new PgDumpConverter({ report: quiet(), database: 'd', ...opts }), Buffer.from(sql))
const my = (sql: string, opts: Partial<MysqlDumpOptions> = {}) =>
  convert(() => new MysqlDumpConverter({ report: quiet(), ...opts }), Buffer.from(sql))
/** `column: type` of one relation's columns (null: untyped). */
const types = (rs: SecodaRecord[], rel: string): Record<string, string | null> =>
  Object.fromEntries(
    summarise(rs)
      .relations.get(rel)!
      .columns.map((c) => [c.name, c.type]),
  )
const edgesOf = (rs: SecodaRecord[], rel: string): string[] =>
  summarise(rs)
    .columnEdges.filter((e) => e.startsWith(`${rel}.`))
    .sort()

const PG_BASE = `
CREATE TABLE public.t (id integer, big bigint, small smallint, amount numeric(10,2), name character varying(20), code character(3), note text,
  at timestamp without time zone, atz timestamp with time zone, day date, f double precision, r real, js jsonb, arr integer[]);
CREATE TABLE public.u (id integer, t_id integer, label text);
`

t.test('PostgreSQL: types follow the server rules; untyped where not certain', async (t) => {
  const rs = pg(`${PG_BASE}
CREATE VIEW public.v AS SELECT t.id, t.name AS n, (t.name)::text AS nt, (t.amount)::numeric(5,1) AS a51, t.id::character varying(4) AS vc4,
  count(*) AS cnt, sum(t.id) AS s4, sum(t.big) AS s8, sum(t.small) AS s2, sum(t.amount) AS sn, sum(t.f) AS sf, avg(t.id) AS a4, avg(t.f) AS af,
  max(t.name) AS mx_varchar, min(t.code) AS mn_char, max(t.amount) AS mx_num, (t.name || 'x') AS cat, (t.note || t.id) AS cat_int,
  (t.id = 1) AS eq, (t.id + t.big) AS plus, (t.amount * 2) AS times, (t.f * t.amount) AS fmul, (t.day - t.day) AS ddiff,
  (t.at - t.at) AS tdiff, (t.atz + '1 day'::interval) AS tzplus, now() AS nw, CURRENT_DATE AS cd, (t.js ->> 'k') AS jk, t.arr[1] AS el,
  CASE WHEN t.id > 1 THEN t.name ELSE t.name END AS same_case, CASE WHEN t.id > 1 THEN t.name ELSE NULL END AS null_case,
  CASE WHEN t.id > 1 THEN t.id ELSE t.big END AS promo, COALESCE(t.name, 'x') AS coal, row_number() OVER (ORDER BY t.id) AS rn,
  lag(t.name) OVER (ORDER BY t.id) AS lg, 'lit' AS lit, 1 AS one, 1.5 AS onehalf, NULL AS nul,
  public.f(t.id) AS udf, round(t.id) AS round_int, ('x' || 5) AS cat_lit_int, (t.day + t.id) AS dplus
  FROM public.t GROUP BY t.id;`)
  t.strictSame(types(rs, 'public.v'), {
    id: 'integer',
    n: 'character varying(20)',
    nt: 'text',
    a51: 'numeric(5,1)',
    vc4: 'character varying(4)',
    cnt: 'bigint',
    s4: 'bigint',
    s8: 'numeric',
    s2: 'bigint',
    sn: 'numeric',
    sf: 'double precision',
    a4: 'numeric',
    af: 'double precision',
    mx_varchar: 'text',
    mn_char: 'bpchar',
    mx_num: 'numeric',
    cat: 'text',
    cat_int: 'text',
    eq: 'boolean',
    plus: 'bigint',
    times: 'numeric',
    fmul: 'double precision',
    ddiff: 'integer',
    tdiff: 'interval',
    tzplus: 'timestamp with time zone',
    nw: 'timestamp with time zone',
    cd: 'date',
    jk: 'text',
    el: 'integer',
    same_case: 'character varying(20)',
    null_case: 'character varying',
    promo: 'bigint',
    coal: 'character varying',
    rn: 'bigint',
    lg: 'character varying',
    lit: 'text',
    one: 'integer',
    onehalf: 'numeric',
    nul: 'text',
    // a function from the dump's own schema, round(integer) (float8 or numeric: PostgreSQL's
    // preference rules), 'x' || 5 (the literal's type is open): not derived, never guessed
    udf: null,
    round_int: null,
    cat_lit_int: null,
    dplus: 'date',
  })
})

t.test('PostgreSQL: edges from SELECT-list reads through aliases, joins, subqueries, CTEs, set operations, LATERAL', async (t) => {
  const report = new Report({ maxErrors: 10 })
  const rs = pg(
    `${PG_BASE}
CREATE VIEW public.j AS SELECT t.id, u.label, (t.amount * t.small) AS total FROM (public.t JOIN public.u ON ((u.t_id = t.id))) WHERE (t.note IS NOT NULL);
CREATE VIEW public.s AS SELECT x.k, x.n FROM (SELECT t.id AS k, t.name AS n FROM public.t) x;
CREATE VIEW public.c AS WITH RECURSIVE r(a, b) AS (SELECT u.id, u.label FROM public.u UNION ALL SELECT r.a, t.note FROM (r JOIN public.t ON (t.id = r.a))) SELECT r.a, r.b FROM r;
CREATE VIEW public.un AS SELECT t.id FROM public.t UNION SELECT u.t_id FROM public.u;
CREATE VIEW public.l AS SELECT t.id, x.lbl FROM public.t, LATERAL (SELECT u.label AS lbl FROM public.u WHERE (u.t_id = t.id)) x;
CREATE VIEW public.vv AS SELECT j.total, s.n FROM (public.j JOIN public.s ON (s.k = j.id));
CREATE VIEW public.ext AS SELECT e.x FROM other.elsewhere e;`,
    { report },
  )
  t.strictSame(edgesOf(rs, 'public.j'), [
    'public.j.id ← public.t.id',
    'public.j.label ← public.u.label',
    'public.j.total ← public.t.amount',
    'public.j.total ← public.t.small',
  ])
  t.strictSame(edgesOf(rs, 'public.s'), ['public.s.k ← public.t.id', 'public.s.n ← public.t.name'])
  t.strictSame(edgesOf(rs, 'public.c'), ['public.c.a ← public.u.id', 'public.c.b ← public.t.note', 'public.c.b ← public.u.label'])
  t.strictSame(edgesOf(rs, 'public.un'), ['public.un.id ← public.t.id', 'public.un.id ← public.u.t_id'])
  t.strictSame(edgesOf(rs, 'public.l'), ['public.l.id ← public.t.id', 'public.l.lbl ← public.u.label'])
  t.strictSame(
    edgesOf(rs, 'public.vv'),
    ['public.vv.n ← public.s.n', 'public.vv.total ← public.j.total'],
    'a view of views reads the views’ columns',
  )
  t.strictSame(edgesOf(rs, 'public.ext'), ['public.ext.x ← [other.elsewhere.x]'], 'a relation outside the dump: external_column')
  t.strictSame(types(rs, 'public.vv'), { total: 'numeric', n: 'character varying(20)' }, 'types through views of views')
  t.strictSame(await validate(rs), [])
  // j: t.id, u.t_id (JOIN), t.note (WHERE) are read outside the SELECT list; t.id is also selected
  t.ok((report.counters['lineage.column_reads_outside_select'] ?? 0) >= 2)
  t.equal(report.counters['lineage.column_edges'], summarise(rs).columnEdges.length)
})

t.test('--no-column-lineage (columnLineage: false): table edges only, view columns untyped', async (t) => {
  const sql = `${PG_BASE}CREATE VIEW public.v AS SELECT t.id FROM public.t;`
  const on = summarise(pg(sql))
  const off = summarise(pg(sql, { columnLineage: false }))
  t.strictSame(on.columnEdges, ['public.v.id ← public.t.id'])
  t.strictSame(off.columnEdges, [])
  t.strictSame(off.relations.get('public.v'), {
    ...on.relations.get('public.v')!,
    columns: [{ name: 'id', type: null, description: null, pk: false }],
  })
  const mysql = 'USE s;\nCREATE TABLE a (id int COMMENT "k");\nCREATE VIEW v AS select `a`.`id` AS `id` from `a`;\n'
  t.strictSame(summarise(my(mysql)).columnEdges, ['s.v.id ← s.a.id'])
  t.strictSame(summarise(my(mysql, { columnLineage: false })).columnEdges, [])
  t.strictSame(summarise(my(mysql, { columnLineage: false })).relations.get('s.v')!.columns, [
    { name: 'id', type: null, description: null, pk: false },
  ])
})

t.test('MySQL: pass-through columns keep type and comment (derived tables, CTEs, views); UNION only when branches agree', async (t) => {
  const rs = my(`USE s;
CREATE TABLE a (id int unsigned NOT NULL COMMENT 'key', name varchar(20) COMMENT 'the name', n bigint);
CREATE TABLE b (id int unsigned NOT NULL, a_id int unsigned, label varchar(20) COMMENT 'label');
CREATE VIEW v1 AS select \`x\`.\`id\` AS \`id\`,concat(\`x\`.\`name\`,'!') AS \`shout\`,\`y\`.\`label\` AS \`label\` from (\`a\` \`x\` join \`b\` \`y\` on(\`y\`.\`a_id\` = \`x\`.\`id\`)) where \`x\`.\`n\` > 0;
CREATE VIEW v2 AS select \`d\`.\`k\` AS \`k\`,\`d\`.\`total\` AS \`total\` from (select \`a\`.\`id\` AS \`k\`,sum(\`a\`.\`n\`) AS \`total\` from \`a\` group by \`a\`.\`id\`) \`d\`;
CREATE VIEW v3 AS with c as (select \`a\`.\`name\` AS \`nm\` from \`a\`)select \`c\`.\`nm\` AS \`nm\` from \`c\`;
CREATE VIEW v4 AS select \`a\`.\`name\` AS \`u\` from \`a\` union select \`b\`.\`label\` AS \`label\` from \`b\`;
CREATE VIEW v5 AS select \`a\`.\`name\` AS \`u\` from \`a\` union select \`a\`.\`n\` AS \`n\` from \`a\`;
CREATE VIEW v6 AS select \`v1\`.\`label\` AS \`label\` from \`v1\`;
CREATE VIEW v7 AS SELECT cu.name full_name, cu.id + 1 AS next_id FROM a AS cu JOIN b ON b.a_id = cu.id;`)
  const s = summarise(rs)
  const cols = (v: string) => s.relations.get(`s.${v}`)!.columns.map((c) => [c.name, c.type, c.description])
  t.strictSame(cols('v1'), [
    ['id', 'int unsigned', 'key'],
    ['shout', null, null],
    ['label', 'varchar(20)', 'label'],
  ])
  t.strictSame(cols('v2'), [
    ['k', 'int unsigned', 'key'],
    ['total', null, null],
  ])
  t.strictSame(cols('v3'), [['nm', 'varchar(20)', 'the name']])
  t.strictSame(cols('v4'), [['u', 'varchar(20)', null]], 'a UNION keeps an agreed type, never a comment')
  t.strictSame(cols('v5'), [['u', null, null]], 'branches disagree: no type')
  t.strictSame(cols('v6'), [['label', 'varchar(20)', 'label']], 'through a view')
  t.strictSame(
    cols('v7'),
    [
      ['full_name', 'varchar(20)', 'the name'],
      ['next_id', null, null],
    ],
    'hand-written SQL, alias without AS',
  )
  t.strictSame(edgesOf(rs, 's.v1'), ['s.v1.id ← s.a.id', 's.v1.label ← s.b.label', 's.v1.shout ← s.a.name'])
  t.strictSame(edgesOf(rs, 's.v2'), ['s.v2.k ← s.a.id', 's.v2.total ← s.a.n'])
  t.strictSame(edgesOf(rs, 's.v6'), ['s.v6.label ← s.v1.label'])
  t.strictSame(edgesOf(rs, 's.v7'), ['s.v7.full_name ← s.a.name', 's.v7.next_id ← s.a.id'])
  t.strictSame(await validate(rs), [])
})

// ---------------------------------------------------------------- samples

for (const file of [...samples('postgres'), ...samples('mysql')]) {
  t.test(`sample ${path.basename(file)}: column lineage on, output validates`, async (t) => {
    const report = new Report({ maxErrors: 1 })
    const make = file.includes(`${path.sep}postgres${path.sep}`)
      ? () => new PgDumpConverter({ database: 'sample', report, file })
      : () => new MysqlDumpConverter({ report, file })
    const rs = convert(make, readFileSync(file), { seed: 3, max: 65536 })
    t.strictSame(report.diagnostics, [])
    t.strictSame(await validate(rs), [], 'the records pass the validator')
  })
}

// ---------------------------------------------------------------- real servers

serverTest(
  t,
  'real PostgreSQL: view column types = format_type(), column edges ⊆ pg_depend',
  'PostgreSQL',
  pgUnavailable(),
  async (t: Tap.Test) => {
    const db = `secoda_vc_${process.pid}`
    const psql = (...args: string[]) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args])
    psql('-d', 'postgres', '-c', `DROP DATABASE IF EXISTS ${db}`, '-c', `CREATE DATABASE ${db}`)
    t.teardown(() => {
      psql('-d', 'postgres', '-c', `DROP DATABASE IF EXISTS ${db}`)
    })
    psql('-d', db, '-f', path.join(repoRoot, 'fixtures', 'pg-dump', 'view-columns.sql'))
    // types as a dump writes them: schema-qualified unless in pg_catalog (search_path '')
    const typeRows = run('psql', [
      '-X',
      '-At',
      '-F',
      '\t',
      '-d',
      db,
      '-c',
      `SET search_path = ''; SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'shop' AND c.relkind IN ('v', 'm') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum`,
    ])
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => l.split('\t'))
    const deps = new Set(
      run('psql', [
        '-X',
        '-At',
        '-d',
        db,
        '-c',
        `SELECT v.relname || ' ← ' || rn.nspname || '.' || rc.relname || '.' || a.attname
    FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
    JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
    JOIN pg_class rc ON rc.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    JOIN pg_attribute a ON a.attrelid = rc.oid AND a.attnum = d.refobjsubid
    WHERE d.refobjid <> v.oid AND v.relnamespace = 'shop'::regnamespace`,
      ])
        .split('\n')
        .filter(Boolean),
    )
    t.ok(typeRows.length >= 100 && deps.size >= 50, `${typeRows.length} view columns, ${deps.size} column dependencies`)

    const dump = Buffer.from(run('pg_dump', ['--schema-only', '-d', db]))
    const report = new Report({ maxErrors: 1 })
    const rs = convert(() => new PgDumpConverter({ database: db, report }), dump, { seed: 17, max: 4093 })
    t.strictSame(report.diagnostics, [])
    t.strictSame(await validate(rs), [], 'the records pass the validator')
    const s = summarise(rs)
    const got = typeRows.map(([rel, col]) => [rel, col, s.relations.get(`shop.${rel}`)?.columns.find((c) => c.name === col)?.type ?? null])
    t.strictSame(got, typeRows, 'every view column typed, each as format_type() reports it')
    const edges = s.columnEdges.map((e) => e.replace(/^shop\.([^.]+)\.[^ ]+ ← /, '$1 ← '))
    t.strictSame(
      edges.filter((e) => !deps.has(e)),
      [],
      'every column edge’s source is a column the view’s rule depends on (pg_depend)',
    )
    // every view column that reads a column has an edge from each column its SELECT-list expression reads
    const selected = new Set(edges)
    const counted = report.counters['lineage.column_reads_outside_select'] ?? 0
    t.ok(
      selected.size + counted >= deps.size * 0.95,
      `${selected.size} edge sources + ${counted} other reads cover pg_depend's ${deps.size}`,
    )
    t.equal(report.counters['view_columns.untyped'] ?? 0, 0)
  },
)

serverTest(
  t,
  'real MariaDB: pass-through view columns = information_schema.COLUMNS type and comment',
  'MariaDB',
  mysqlUnavailable(),
  async (t: Tap.Test) => {
    const db = `secoda_vc_${process.pid}`
    run('mysql', ['-e', `DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db} CHARACTER SET utf8mb4`])
    t.teardown(() => {
      run('mysql', ['-e', `DROP DATABASE IF EXISTS ${db}`])
    })
    run(
      'mysql',
      ['--default-character-set=utf8mb4', db],
      readFileSync(path.join(repoRoot, 'fixtures', 'mysql-dump', 'view-columns.sql'), 'utf8'),
    )
    const rows = run('mysql', [
      '--default-character-set=utf8mb4',
      '-N',
      '-B',
      '-r',
      '-e',
      `SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.COLUMN_COMMENT
    FROM information_schema.COLUMNS c JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = c.TABLE_SCHEMA AND v.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = '${db}' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    ])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
    t.ok(rows.length >= 40, `${rows.length} view columns`)
    const dump = Buffer.from(run('mysqldump', ['--default-character-set=utf8mb4', '--no-data', db]))
    const report = new Report({ maxErrors: 1 })
    const rs = convert(() => new MysqlDumpConverter({ report }), dump, { seed: 19, max: 2039 })
    t.strictSame(report.diagnostics, [])
    t.strictSame(await validate(rs), [], 'the records pass the validator')
    const s = summarise(rs)
    let typed = 0
    for (const [rel, col, type, comment] of rows as string[][]) {
      const c = s.relations.get(`${db}.${rel}`)?.columns.find((x) => x.name === col)
      if (c?.type) typed++
      t.strictSame(
        [c?.type ?? type, c?.description ?? null],
        [type, comment === '' ? null : comment],
        `${rel}.${col}: type (when given) and comment`,
      )
    }
    // the fixture's pass-through columns (direct, through joins, derived tables, CTEs, views, agreeing UNIONs)
    t.ok(typed >= 30, `${typed} of ${rows.length} view columns typed`)
    // each edge's source column is named in the view's definition as the server stores it
    const defs = new Map(
      run('mysql', [
        '-N',
        '-B',
        '-r',
        '-e',
        `SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '${db}'`,
      ])
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t') as [string, string]),
    )
    const stray = s.columnEdges.filter((e) => {
      const [to, from] = e.split(' ← ') as [string, string]
      const view = to.split('.')[1]!
      return !defs.get(view)?.includes(`\`${from.split('.').pop()}\``)
    })
    t.strictSame(stray, [], 'every column edge’s source column appears in its view’s definition')
  },
)

t.test('PostgreSQL catalogs: pg_class columns typed, no column edges (pg_depend records none)', async (t) => {
  const rs = pg('CREATE VIEW public.c AS SELECT pg_class.relname, pg_class.relpages, pg_class.relallfrozen FROM pg_catalog.pg_class;')
  t.strictSame(types(rs, 'public.c'), { relname: 'name', relpages: 'integer', relallfrozen: null })
  t.strictSame(summarise(rs).columnEdges, [])
})

t.test('CLI: --no-column-lineage and --column-lineage on pg-dump and mysql-dump', async (t) => {
  const { runCli } = await import('./helpers.js')
  const pgIn = 'CREATE TABLE public.t (id integer);\nCREATE VIEW public.v AS SELECT t.id FROM public.t;\n'
  const on = await runCli(['pg-dump', '-', '--database', 'd', '--column-lineage'], { stdin: pgIn })
  t.equal(on.code, 0, on.stderr)
  t.match(
    on.stdout,
    /"from_identifier":\{"type":"internal_resource","databuilder_id":"d\.public\.t\.id"\},"to_identifier":\{"type":"internal_resource","databuilder_id":"d\.public\.v\.id"\}/,
  )
  t.match(on.stderr, /lineage\.column_edges: 1/)
  const off = await runCli(['pg-dump', '-', '--database', 'd', '--no-column-lineage'], { stdin: pgIn })
  t.equal(off.code, 0, off.stderr)
  t.notMatch(off.stdout, /d\.public\.t\.id"\},"to_identifier/)
  t.match(off.stdout, /"databuilder_id":"d\.public\.v\.id".*"sort_order":1,"is_pk":false/)
  const myIn = 'USE s;\nCREATE TABLE a (id int COMMENT "k");\nCREATE VIEW v AS select `a`.`id` AS `id` from `a`;\n'
  const myOn = await runCli(['mysql-dump', '-'], { stdin: myIn })
  t.match(myOn.stdout, /"databuilder_id":"s\.s\.v\.id".*"description":"k".*"type":"int"/)
  const myOff = await runCli(['mysql-dump', '-', '--no-column-lineage'], { stdin: myIn })
  t.notMatch(myOff.stdout, /"databuilder_id":"s\.s\.v\.id"[^\n]*"type"/)
})
