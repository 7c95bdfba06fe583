import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { serializeRecord, type SecodaRecord } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { PgDumpConverter, connectTarget, loadPgParser, type PgDumpOptions } from '../transforms/sql/pg-dump.js'
import { CHUNKINGS } from './helpers/chunking.js'
import { pgUnavailable, run, serverTest } from './helpers/servers.js'
import { convert, fixtureCases, repoRoot, samples, summarise, validate } from './helpers/sql-dumps.js'

await loadPgParser()

const pg =
  (opts: Partial<PgDumpOptions> = {}) =>
  () =>
    new PgDumpConverter({ report: new Report({ maxErrors: Infinity }), ...opts })
const conv = (sql: string, opts: Partial<PgDumpOptions> = {}) => convert(pg(opts), Buffer.from(sql))
const jsonl = (rs: SecodaRecord[]) => rs.map(serializeRecord).join('\n') + '\n'

t.test('connectTarget reads every \\connect form pg_dump and pg_dumpall write', async (t) => {
  t.equal(connectTarget('mydb'), 'mydb')
  t.equal(connectTarget('"My DB"'), 'My DB')
  t.equal(connectTarget(`-reuse-previous=on "dbname='app'"`), 'app')
  t.equal(connectTarget(`-reuse-previous=on "dbname='it\\'s'"`), "it's")
  t.equal(connectTarget('-reuse-previous=on'), undefined)
})

t.test('database name: --database, \\connect, CREATE DATABASE; otherwise SQL_NO_DATABASE at the first object', async (t) => {
  const body = 'CREATE TABLE public.t (id integer);\n'
  t.equal(summarise(conv(body, { database: 'given' })).databases[0]!.title, 'given')
  t.equal(summarise(conv('\\connect fromdump\n' + body)).databases[0]!.title, 'fromdump')
  t.equal(summarise(conv('\\connect fromdump\n' + body, { database: 'given' })).databases[0]!.title, 'given', '--database wins')
  t.equal(summarise(conv("CREATE DATABASE created WITH TEMPLATE = template0 ENCODING = 'UTF8';\n" + body)).databases[0]!.title, 'created')
  t.throws(() => conv('SET x = 1;\n\n' + body), { code: 'SQL_NO_DATABASE', line: 3 })
})

t.test('unqualified names resolve through SET search_path (old dumps)', async (t) => {
  const sql = [
    'SET search_path = sales, pg_catalog;',
    'CREATE TABLE t (id integer, v text);',
    'ALTER TABLE ONLY t ADD CONSTRAINT t_pkey PRIMARY KEY (id);',
    "COMMENT ON TABLE t IS 'in sales';",
    'SET search_path = public, pg_catalog;',
    'CREATE TABLE u (x integer);',
    'CREATE VIEW v AS SELECT t.id FROM sales.t JOIN u ON true JOIN missing ON true;',
    "SELECT pg_catalog.set_config('search_path', '', false);",
    "COMMENT ON COLUMN sales.t.v IS 'col';",
  ].join('\n')
  const s = summarise(conv(sql, { database: 'd' }))
  t.strictSame([...s.relations.keys()], ['sales.t', 'public.u', 'public.v'])
  t.equal(s.relations.get('sales.t')!.description, 'in sales')
  t.strictSame(s.relations.get('sales.t')!.columns, [
    { name: 'id', type: 'integer', description: null, pk: true },
    { name: 'v', type: 'text', description: 'col', pk: false },
  ])
  t.strictSame(s.relations.get('public.v')!.reads, ['public.missing', 'public.u', 'sales.t'])
})

t.test('PostgreSQL 10/11 partitions (PARTITION OF without columns) take the parent columns', async (t) => {
  const sql = [
    'CREATE TABLE public.m (id integer NOT NULL, at date) PARTITION BY RANGE (at);',
    "CREATE TABLE public.m_2024 PARTITION OF public.m (PRIMARY KEY (id)) FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    "COMMENT ON COLUMN public.m_2024.at IS 'inherited, commented';",
  ].join('\n')
  const s = summarise(conv(sql, { database: 'd' }))
  t.equal(s.relations.get('public.m')!.kind, 'partitioned table')
  t.strictSame(s.relations.get('public.m_2024')!.columns, [
    { name: 'id', type: 'integer', description: null, pk: true },
    { name: 'at', type: 'date', description: 'inherited, commented', pk: false },
  ])
})

t.test('a statement the grammar cannot read: SQL_UNPARSED warning with line and first words, conversion goes on', async (t) => {
  const report = new Report({ maxErrors: 10 })
  const rs = conv('CREATE TABLE public.ok (a integer);\n\nCREATE TABLE public.bad (a integer,, b);\nCREATE TABLE public.ok2 (b text);\n', {
    database: 'd',
    report,
    file: 'x.sql',
  })
  t.strictSame([...summarise(rs).relations.keys()], ['public.ok', 'public.ok2'])
  t.equal(report.warnings, 1)
  t.match(report.diagnostics[0], {
    code: 'SQL_UNPARSED',
    severity: 'warning',
    line: 3,
    file: 'x.sql',
    message: /CREATE TABLE public\.bad \(a integer,,/,
  })
})

t.test('pg_dump < 16 circular views: CREATE TABLE then CREATE RULE "_RETURN" make one view', async (t) => {
  const sql = [
    'CREATE TABLE public.base (id integer);',
    'CREATE TABLE public.v (id integer, n bigint);',
    'CREATE RULE "_RETURN" AS ON SELECT TO public.v DO INSTEAD SELECT base.id, count(*) AS n FROM public.base GROUP BY base.id;',
    "COMMENT ON VIEW public.v IS 'was a table first';",
  ].join('\n')
  const s = summarise(conv(sql, { database: 'd' }))
  t.strictSame(s.relations.get('public.v'), {
    kind: 'view',
    description: 'was a table first',
    reads: ['public.base'],
    columns: [
      { name: 'id', type: 'integer', description: null, pk: false },
      { name: 'n', type: 'bigint', description: null, pk: false },
    ],
  })
})

t.test('pg_dump 16+ circular views: dummy CREATE VIEW, comments, then CREATE OR REPLACE VIEW', async (t) => {
  const sql = [
    'CREATE TABLE public.base (id integer);',
    'CREATE VIEW public.v AS SELECT NULL::integer AS id;',
    "COMMENT ON VIEW public.v IS 'kept';",
    "COMMENT ON COLUMN public.v.id IS 'kept too';",
    'CREATE OR REPLACE VIEW public.v AS SELECT base.id FROM public.base;',
  ].join('\n')
  const s = summarise(conv(sql, { database: 'd' }))
  t.strictSame(s.relations.get('public.v'), {
    kind: 'view',
    description: 'kept',
    reads: ['public.base'],
    columns: [{ name: 'id', type: 'integer', description: 'kept too', pk: false }],
  })
})

t.test('view definitions are fenced SQL; reads skip CTE names', async (t) => {
  const rs = conv('CREATE VIEW public.v AS WITH w AS (SELECT 1 AS a FROM public.src) SELECT a FROM w;', { database: 'd' })
  const v = rs.find((r) => 'entity_type' in r && r.entity_type === 'table') as { definition: string; native_type: string }
  t.equal(v.native_type, 'view')
  t.match(v.definition, /^```sql\nCREATE VIEW public\.v AS WITH w AS .*;\n```$/s)
  t.strictSame(summarise(rs).relations.get('public.v')!.reads, ['public.src'])
})

// ---------------------------------------------------------------- fixtures and samples

for (const fx of fixtureCases('pg-dump')) {
  t.test(`fixture ${fx.name}: golden output, identical in every chunking`, async (t) => {
    const make = pg({ ...fx.options, file: 'input.sql' })
    const want = convert(make, fx.input)
    const golden = path.join(fx.dir, 'expected.jsonl')
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, jsonl(want))
    t.equal(jsonl(want), readFileSync(golden, 'utf8'), 'matches expected.jsonl')
    t.strictSame(await validate(want), [], 'the records pass the validator')
    for (const how of CHUNKINGS) {
      if (how === 'one' && fx.input.length > 200_000) continue
      t.equal(jsonl(convert(make, fx.input, how)), jsonl(want), `same records in chunking ${JSON.stringify(how)}`)
    }
  })
}

for (const file of samples('postgres')) {
  t.test(`sample ${path.basename(file)} converts without errors or warnings`, async (t) => {
    const report = new Report({ maxErrors: 1 })
    const rs = convert(pg({ database: 'sample', report, file }), readFileSync(file), { seed: 7, max: 65536 })
    t.equal(report.errors, 0)
    t.strictSame(report.diagnostics, [])
    t.strictSame(await validate(rs), [], 'the records pass the validator')
    const s = summarise(rs)
    t.ok(s.relations.size > 0, `${s.relations.size} relations`)
    for (const [k, r] of s.relations)
      if (r.kind !== 'view' && r.kind !== 'materialized view')
        t.ok(
          r.columns.every((c) => c.type),
          `${k}: every column has a type`,
        )
  })
}

// ---------------------------------------------------------------- real server

interface PgCatalog {
  database_description: string | null
  schemas: { name: string; description: string | null }[]
  relations: {
    schema: string
    name: string
    kind: string
    description: string | null
    columns: { name: string; type: string; description: string | null; pk: boolean }[]
    reads: string[] | null
    column_reads: string[] | null
  }[]
}

const CATALOG_SQL = `
SELECT json_build_object(
 'database_description', shobj_description((SELECT oid FROM pg_database WHERE datname = current_database()), 'pg_database'),
 'schemas', (SELECT json_agg(json_build_object('name', nspname, 'description', obj_description(oid, 'pg_namespace')))
             FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'),
 'relations', (SELECT json_agg(json_build_object(
     'schema', n.nspname, 'name', c.relname, 'kind', c.relkind, 'description', obj_description(c.oid, 'pg_class'),
     'columns', (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                   'description', col_description(c.oid, a.attnum),
                   'pk', EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)))
                 ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
     'reads', (SELECT json_agg(DISTINCT rn.nspname || '.' || rc.relname)
               FROM pg_rewrite r
               JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
               JOIN pg_class rc ON rc.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
               WHERE r.ev_class = c.oid AND d.refobjid <> c.oid),
     'column_reads', (SELECT json_agg(DISTINCT rn.nspname || '.' || rc.relname || '.' || a.attname)
               FROM pg_rewrite r
               JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
               JOIN pg_class rc ON rc.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
               JOIN pg_attribute a ON a.attrelid = rc.oid AND a.attnum = d.refobjsubid
               WHERE r.ev_class = c.oid AND d.refobjid <> c.oid)))
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'))`

const KIND: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' }

serverTest(t, 'real PostgreSQL: pg_dump output converts to what pg_catalog reports', 'PostgreSQL', pgUnavailable(), async (t: Tap.Test) => {
  const db = `secoda_it_${process.pid}`
  const psql = (...args: string[]) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args])
  psql('-d', 'postgres', '-c', `DROP DATABASE IF EXISTS ${db}`, '-c', `CREATE DATABASE ${db}`)
  t.teardown(() => {
    psql('-d', 'postgres', '-c', `DROP DATABASE IF EXISTS ${db}`)
  })
  psql('-d', db, '-f', path.join(repoRoot, 'fixtures', 'pg-dump', 'server-schema.sql'))
  psql('-d', db, '-c', `COMMENT ON DATABASE ${db} IS 'database comment: ünïcödé'`)
  const cat = JSON.parse(run('psql', ['-X', '-At', '-d', db, '-c', CATALOG_SQL])) as PgCatalog
  t.ok(cat.relations.length >= 10, 'the scratch database has its relations')

  const variants: [string, string[], Partial<PgDumpOptions>][] = [
    ['schema-only', ['--schema-only'], { database: db }],
    ['full (COPY data)', [], { database: db }],
    ['--create (name from the dump)', ['--create'], {}],
    ['--inserts --create', ['--inserts', '--create'], {}],
  ]
  for (const [label, args, opts] of variants) {
    t.test(label, async (t) => {
      const dump = Buffer.from(run('pg_dump', [...args, '-d', db]))
      const report = new Report({ maxErrors: 1 })
      const rs = convert(pg({ ...opts, report }), dump, { seed: 11, max: 997 })
      const s = summarise(rs)
      t.strictSame(report.diagnostics, [], 'no diagnostics')
      t.strictSame(await validate(rs), [], 'the records pass the validator')
      t.strictSame(
        s.databases.map((d) => d.title),
        [db],
      )
      if (args.includes('--create')) t.equal(s.databases[0]!.description, cat.database_description, 'database comment')
      for (const sc of cat.schemas) {
        if (sc.name === 'public') continue // its default comment is not dumped
        t.equal(s.schemas.get(sc.name)?.description ?? null, sc.description, `schema ${sc.name} comment`)
      }
      t.strictSame([...s.relations.keys()].sort(), cat.relations.map((r) => `${r.schema}.${r.name}`).sort(), 'same relations')
      for (const r of cat.relations) {
        const key = `${r.schema}.${r.name}`
        const got = s.relations.get(key)
        if (!got) continue
        t.equal(got.kind, KIND[r.kind], `${key} kind`)
        t.equal(got.description, r.description, `${key} comment`)
        const view = r.kind === 'v' || r.kind === 'm'
        // a view column the resolver cannot type for certain has none; every type given is the server's
        t.strictSame(
          got.columns,
          r.columns.map((c, i) => ({
            name: c.name,
            type: view && got.columns[i]?.type === null ? null : c.type,
            description: c.description,
            pk: c.pk,
          })),
          `${key} columns, types, comments, primary key`,
        )
        if (view) {
          t.strictSame(got.reads, (r.reads ?? []).sort(), `${key} lineage = pg_depend`)
          const edges = s.columnEdges.filter((e) => e.startsWith(`${key}.`))
          const allowed = new Set(r.column_reads ?? [])
          t.strictSame(
            edges.filter((e) => !allowed.has(e.split(' ← ')[1]!)),
            [],
            `${key}: every column edge's source is a column pg_depend records`,
          )
        } else t.strictSame(got.reads, [], `${key} has no lineage`)
      }
    })
  }
})

// ---------------------------------------------------------------- CLI

t.test('CLI pg-dump: file and stdin, gzip, validated output; SQL_NO_DATABASE with file:line and exit 2', async (t) => {
  const { runCli } = await import('./helpers.js')
  const { gzipSync } = await import('node:zlib')
  const input = path.join(repoRoot, 'fixtures', 'pg-dump', 'pg18-restrict-dumpall', 'input.sql')
  const r = await runCli(['pg-dump', input])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, readFileSync(path.join(path.dirname(input), 'expected.jsonl'), 'utf8'), 'stdout = the golden records, validated')
  t.match(r.stderr, /2 databases, 2 schemas, 4 tables, .*3 lineage edges; 0 errors, 0 warnings.*lineage\.column_edges: 1/s)
  const z = await runCli(['pg-dump', '-', '--database', 'given'], { stdin: gzipSync('CREATE TABLE public.t (id integer PRIMARY KEY);\n') })
  t.equal(z.code, 0, z.stderr)
  t.match(z.stdout, /"databuilder_id":"given\.public\.t\.id".*"is_pk":true/)
  const e = await runCli(['pg-dump', '-'], { stdin: '-- no name\nCREATE TABLE public.t (id integer);\n' })
  t.equal(e.code, 2)
  t.match(e.stderr, /^<stdin>:2: error SQL_NO_DATABASE .*pass --database NAME$/m)
  const u = await runCli(['pg-dump', '-', '--database', 'd'], { stdin: "SELECT 1;\nCOMMENT ON TABLE t IS 'open\n" })
  t.equal(u.code, 1)
  t.match(u.stderr, /^<stdin>:2: error SQL_UNTERMINATED unterminated quoted string/m)
})

t.test('createPgDumpTransform: bytes in, the same records out as the core', async (t) => {
  const { createPgDumpTransform } = await import('../transforms/sql/pg-dump.js')
  const { Readable } = await import('node:stream')
  const { pipeline } = await import('node:stream/promises')
  const fx = fixtureCases('pg-dump').find((f) => f.name === 'pg9-search-path')!
  const got: SecodaRecord[] = []
  await pipeline(
    Readable.from([fx.input.subarray(0, 100), fx.input.subarray(100)]),
    createPgDumpTransform({ report: new Report(), file: 'x.sql' }),
    async function* (src) {
      for await (const r of src) got.push(r as SecodaRecord)
      yield* []
    },
  )
  t.equal(jsonl(got), readFileSync(path.join(fx.dir, 'expected.jsonl'), 'utf8'))
  await t.rejects(
    pipeline(Readable.from([Buffer.from("SELECT 'x")]), createPgDumpTransform({ report: new Report() }), async function* (src) {
      for await (const _ of src) void _
      yield* []
    }),
    { code: 'SQL_UNTERMINATED', line: 1 },
  )
})
