import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { serializeRecord, type SecodaRecord } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { MysqlDumpConverter, mysqlReads, tokenizeMysql, type MysqlDumpOptions } from '../transforms/sql/mysql-dump.js'
import { CHUNKINGS } from './helpers/chunking.js'
import { mysqlUnavailable, run, serverTest } from './helpers/servers.js'
import { convert, fixtureCases, repoRoot, samples, summarise, validate } from './helpers/sql-dumps.js'

const my =
  (opts: Partial<MysqlDumpOptions> = {}) =>
  () =>
    new MysqlDumpConverter({ report: new Report({ maxErrors: Infinity }), ...opts })
const conv = (sql: string, opts: Partial<MysqlDumpOptions> = {}) => convert(my(opts), Buffer.from(sql))
const jsonl = (rs: SecodaRecord[]) => rs.map(serializeRecord).join('\n') + '\n'

t.test('tokenizer: backticks, escapes, doubled quotes, charset introducers, adjacent literals, comments', async (t) => {
  const toks = tokenizeMysql("`a``b`, 'it\\'s', 'x''y', _utf8mb4'z' 'p', \"q\\n\" -- c\n# h\n/* b */ 1.5e3 db.t")
  t.strictSame(
    toks.filter((x) => x.value !== ',').map((x) => [x.kind, x.value]),
    [
      ['ident', 'a`b'],
      ['string', "it's"],
      ['string', "x'y"],
      ['string', 'zp'],
      ['string', 'q\n'],
      ['number', '1.5e3'],
      ['word', 'db'],
      ['punct', '.'],
      ['word', 't'],
    ],
  )
})

t.test('view reads: FROM lists, joins, parenthesised joins, subqueries, CTEs, table functions', async (t) => {
  const reads = (sql: string) => mysqlReads(tokenizeMysql(sql)).map((r) => (r.schema ? `${r.schema}.${r.name}` : r.name))
  t.strictSame(
    reads('select a.x from (`db`.`a` join `b` on(`a`.`id` = `b`.`id`)) left join c using (id), d where x in (select y from e)'),
    ['db.a', 'b', 'c', 'd', 'e'],
  )
  t.strictSame(reads('with w as (select 1 from src) select * from w join other'), ['src', 'other'])
  t.strictSame(reads("select * from json_table('[]', '$[*]' columns (a int path '$')) jt, real_t"), ['real_t'])
  t.strictSame(reads('select (select max(z) from inner_t) as m from outer_t'), ['inner_t', 'outer_t'])
})

t.test('naming: USE, CREATE DATABASE, the dump header, --schema and --database; SQL_NO_DATABASE otherwise', async (t) => {
  const table = 'CREATE TABLE `t` (`id` int NOT NULL, PRIMARY KEY (`id`));\n'
  const names = (sql: string, o: Partial<MysqlDumpOptions> = {}) => {
    const r = conv(sql, o).find((x) => 'entity_type' in x && x.entity_type === 'table') as { database: string; schema: string }
    return `${r.database}/${r.schema}`
  }
  t.equal(names('USE `app`;\n' + table), 'app/app')
  t.equal(names('CREATE DATABASE /*!32312 IF NOT EXISTS*/ `made`;\n' + table), 'made/made')
  t.equal(names('-- MySQL dump 10.13\n--\n-- Host: localhost    Database: hdr\n-- ---\n' + table), 'hdr/hdr')
  t.equal(names('USE `app`;\n' + table, { schema: 'renamed' }), 'renamed/renamed')
  t.equal(names('USE `app`;\n' + table, { database: 'warehouse' }), 'warehouse/app')
  t.throws(() => conv('SET NAMES utf8mb4;\n' + table), { code: 'SQL_NO_DATABASE', line: 2 })
})

t.test('a CREATE TABLE it cannot read: SQL_UNPARSED warning with line, conversion goes on', async (t) => {
  const report = new Report({ maxErrors: 10 })
  const rs = conv('USE d;\nCREATE TABLE ok (a int);\nCREATE TABLE bad;\nCREATE TABLE ok2 (b int);\n', { report, file: 'x.sql' })
  t.strictSame([...summarise(rs).relations.keys()], ['d.ok', 'd.ok2'])
  t.match(report.diagnostics, [{ code: 'SQL_UNPARSED', severity: 'warning', line: 3, file: 'x.sql', message: /CREATE TABLE bad/ }])
})

t.test('stand-in table then the real view: one view (no placeholder types from the stand-in)', async (t) => {
  const sql = [
    'USE `s`;',
    "CREATE TABLE `base` (`id` int NOT NULL COMMENT 'the id', PRIMARY KEY (`id`)) COMMENT 'Base';",
    'CREATE TABLE `v` (\n  `id` tinyint NOT NULL\n) ENGINE=MyISAM */;',
    '/*!50001 DROP TABLE IF EXISTS `v`*/;',
    '/*!50001 CREATE ALGORITHM=UNDEFINED */',
    '/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */',
    '/*!50001 VIEW `v` AS select `base`.`id` AS `id` from `base` */;',
  ].join('\n')
  const s = summarise(conv(sql))
  t.strictSame([...s.relations.keys()], ['s.base', 's.v'])
  // the view's column passes base.id through: its type and comment, as MariaDB reports them
  t.strictSame(s.relations.get('s.v'), {
    kind: 'view',
    description: null,
    columns: [{ name: 'id', type: 'int', description: 'the id', pk: false }],
    reads: ['s.base'],
  })
  t.strictSame(s.relations.get('s.base')!.columns, [{ name: 'id', type: 'int', description: 'the id', pk: true }])
})

for (const fx of fixtureCases('mysql-dump')) {
  t.test(`fixture ${fx.name}: golden output, identical in every chunking`, async (t) => {
    const make = my({ ...fx.options, file: 'input.sql' })
    const want = convert(make, fx.input)
    const golden = path.join(fx.dir, 'expected.jsonl')
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, jsonl(want))
    t.equal(jsonl(want), readFileSync(golden, 'utf8'), 'matches expected.jsonl')
    t.strictSame(await validate(want), [], 'the records pass the validator')
    for (const how of CHUNKINGS)
      t.equal(jsonl(convert(make, fx.input, how)), jsonl(want), `same records in chunking ${JSON.stringify(how)}`)
  })
}

for (const file of samples('mysql')) {
  t.test(`sample ${path.basename(file)} converts without errors or warnings`, async (t) => {
    const report = new Report({ maxErrors: 1 })
    const rs = convert(my({ report, file }), readFileSync(file), { seed: 5, max: 65536 })
    t.strictSame(report.diagnostics, [])
    t.strictSame(await validate(rs), [], 'the records pass the validator')
    const s = summarise(rs)
    t.ok(s.relations.size > 0, `${s.relations.size} relations`)
    for (const [k, r] of s.relations) {
      if (r.kind !== 'view') t.ok(r.columns.length > 0 && r.columns.every((c) => c.type), `${k}: columns with types`)
    }
  })
}

// ---------------------------------------------------------------- real server

interface MyCatalog {
  tables: { name: string; type: string; comment: string; partitioned: number }[]
  columns: { table: string; name: string; pos: number; type: string; comment: string; key: string }[]
  views: { name: string; def: string }[]
}

serverTest(
  t,
  'real MariaDB/MySQL: mysqldump output converts to what information_schema reports',
  'MariaDB',
  mysqlUnavailable(),
  async (t: Tap.Test) => {
    const db = `secoda_it_${process.pid}`
    run('mysql', ['-e', `DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db} CHARACTER SET utf8mb4`])
    t.teardown(() => {
      run('mysql', ['-e', `DROP DATABASE IF EXISTS ${db}`])
    })
    run('mysql', [db], readFileSync(path.join(repoRoot, 'fixtures', 'mysql-dump', 'server-schema.sql'), 'utf8'))
    const q = (sql: string) => JSON.parse(run('mysql', ['-N', '-B', '-r', '-e', sql]).trim() || '[]') as unknown
    const cat: MyCatalog = {
      tables: q(`SELECT JSON_ARRAYAGG(JSON_OBJECT('name', TABLE_NAME, 'type', TABLE_TYPE, 'comment', TABLE_COMMENT,
      'partitioned', (SELECT COUNT(*) FROM information_schema.PARTITIONS p WHERE p.TABLE_SCHEMA = t.TABLE_SCHEMA AND p.TABLE_NAME = t.TABLE_NAME AND p.PARTITION_NAME IS NOT NULL)))
      FROM information_schema.TABLES t WHERE TABLE_SCHEMA = '${db}'`) as MyCatalog['tables'],
      columns:
        q(`SELECT JSON_ARRAYAGG(JSON_OBJECT('table', TABLE_NAME, 'name', COLUMN_NAME, 'pos', ORDINAL_POSITION, 'type', COLUMN_TYPE, 'comment', COLUMN_COMMENT, 'key', COLUMN_KEY))
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${db}'`) as MyCatalog['columns'],
      views: q(
        `SELECT JSON_ARRAYAGG(JSON_OBJECT('name', TABLE_NAME, 'def', VIEW_DEFINITION)) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '${db}'`,
      ) as MyCatalog['views'],
    }
    t.ok(cat.tables.length >= 5 && cat.views.length >= 2, 'the scratch database has its tables and views')

    const variants: [string, string[], Partial<MysqlDumpOptions>, string][] = [
      [
        '--databases (CREATE DATABASE + USE), routines, triggers, events, data',
        ['--routines', '--triggers', '--events', '--databases', db],
        {},
        db,
      ],
      ['plain dump: name from the -- Host header', ['--no-data', db], {}, db],
      [
        '--schema and --database rename',
        ['--skip-comments', '--extended-insert=false', db],
        { schema: 'renamed', database: 'warehouse' },
        'renamed',
      ],
    ]
    for (const [label, args, opts, schema] of variants) {
      t.test(label, async (t) => {
        const dump = Buffer.from(run('mysqldump', args))
        const report = new Report({ maxErrors: 1 })
        const rs = convert(my({ ...opts, report }), dump, { seed: 13, max: 1013 })
        const s = summarise(rs)
        t.strictSame(report.diagnostics, [], 'no diagnostics')
        t.strictSame(await validate(rs), [], 'the records pass the validator')
        const tables = rs.filter((r) => 'entity_type' in r && r.entity_type === 'table') as { database: string; schema: string }[]
        t.ok(
          tables.every((x) => x.schema === schema && x.database === (opts.database ?? schema)),
          'MySQL database = Secoda schema; Secoda database = --database or the same name',
        )
        t.strictSame(
          [...s.relations.keys()].sort(),
          cat.tables.map((x) => `${schema}.${x.name}`).sort(),
          'same tables and views, each view once',
        )
        for (const tb of cat.tables) {
          const key = `${schema}.${tb.name}`
          const got = s.relations.get(key)
          if (!got) continue
          const view = tb.type === 'VIEW'
          t.equal(got.kind, view ? 'view' : tb.partitioned > 0 ? 'partitioned table' : 'table', `${key} kind`)
          if (!view) t.equal(got.description, tb.comment === '' ? null : tb.comment, `${key} comment`)
          const cols = cat.columns.filter((c) => c.table === tb.name).sort((a, b) => a.pos - b.pos)
          // view columns: names, order and the comments MariaDB passes through; a type only where
          // the column passes one through (the resolver leaves the rest untyped), then the server's
          t.strictSame(
            got.columns.map((c) => (view ? { name: c.name, type: c.type, description: c.description } : c)),
            cols.map((c, i) =>
              view
                ? { name: c.name, type: got.columns[i]?.type === null ? null : c.type, description: c.comment === '' ? null : c.comment }
                : { name: c.name, type: c.type, description: c.comment === '' ? null : c.comment, pk: c.key === 'PRI' },
            ),
            `${key} columns`,
          )
          if (view) {
            const def = cat.views.find((v) => v.name === tb.name)!.def
            const expected = cat.tables
              .filter((x) => def.includes(`\`${db}\`.\`${x.name}\``))
              .map((x) => `${schema}.${x.name}`)
              .sort()
            t.strictSame(got.reads, expected, `${key} lineage = tables named in information_schema.VIEWS`)
          }
        }
      })
    }
  },
)

t.test('CLI mysql-dump: --schema/--database, CSV output; SQL_NO_DATABASE exit 2', async (t) => {
  const { runCli } = await import('./helpers.js')
  const dump = "CREATE TABLE `t` (`id` int NOT NULL COMMENT 'k', PRIMARY KEY (`id`)) COMMENT='T';\n"
  const r = await runCli(['mysql-dump', '-', '--schema', 'shop', '--database', 'wh', '--to', 'csv'], { stdin: dump })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^id,k,int,1,wh,shop,t,T,false,$/m)
  const e = await runCli(['mysql-dump', '-'], { stdin: dump })
  t.equal(e.code, 2)
  t.match(e.stderr, /^<stdin>:1: error SQL_NO_DATABASE .*--schema NAME$/m)
})

t.test('ALTER TABLE ... ADD PRIMARY KEY / ADD CONSTRAINT ... PRIMARY KEY (hand-written dumps)', async (t) => {
  const s = summarise(
    conv(
      'USE d;\nCREATE TABLE a (x int, y int);\nCREATE TABLE b (z int);\nALTER TABLE a ADD PRIMARY KEY (x, y);\nALTER TABLE `d`.`b` ADD CONSTRAINT pk_b PRIMARY KEY USING BTREE (z);\n',
    ),
  )
  t.strictSame(
    s.relations.get('d.a')!.columns.map((c) => c.pk),
    [true, true],
  )
  t.strictSame(
    s.relations.get('d.b')!.columns.map((c) => c.pk),
    [true],
  )
})

t.test('createMysqlDumpTransform: bytes in, records out; errors become stream errors', async (t) => {
  const { createMysqlDumpTransform } = await import('../transforms/sql/mysql-dump.js')
  const { Readable } = await import('node:stream')
  const { pipeline } = await import('node:stream/promises')
  const got: SecodaRecord[] = []
  await pipeline(
    Readable.from([Buffer.from('USE d;\nCREATE TABLE t (a int);\n')]),
    createMysqlDumpTransform({ report: new Report() }),
    async function* (src) {
      for await (const r of src) got.push(r as SecodaRecord)
      yield* []
    },
  )
  t.strictSame([...summarise(got).relations.keys()], ['d.t'])
  await t.rejects(
    pipeline(
      Readable.from([Buffer.from('CREATE TABLE t (a int);\n')]),
      createMysqlDumpTransform({ report: new Report() }),
      async function* (src) {
        for await (const _ of src) void _
        yield* []
      },
    ),
    { code: 'SQL_NO_DATABASE', line: 1 },
  )
})
