import t from 'tap'
import { SqlSplitter, splitSql, type SqlDialect, type SqlStatement } from '../lib/scan/sql-splitter.js'
import { CHUNKINGS, feed } from './helpers/chunking.js'

const brief = (s: SqlStatement[]) => s.map((x) => `${x.kind}@${x.line}:${x.text}`)

function everyChunking(t: Tap.Test, input: string, dialect: SqlDialect): SqlStatement[] {
  const buf = Buffer.from(input)
  const want = feed(() => new SqlSplitter({ dialect }), buf, 'whole')
  for (const how of CHUNKINGS) {
    t.strictSame(
      feed(() => new SqlSplitter({ dialect }), buf, how),
      want,
      `same statements in chunking ${JSON.stringify(how)}`,
    )
  }
  return want
}

t.test('postgres: quotes, comments, dollar quotes, meta-commands, COPY', async (t) => {
  const sql = [
    '\\restrict abc123',
    '-- a comment; with semicolon',
    "SET client_encoding = 'UTF8';",
    '/* outer /* nested; */ still comment; */',
    "CREATE TABLE \"we;ird\" (a text DEFAULT 'it''s; here', b text DEFAULT E'x\\';y');",
    'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $x$ not end $x$; $body$ LANGUAGE sql;',
    'CREATE FUNCTION g() RETURNS int AS $$ SELECT 2; $$ LANGUAGE sql;',
    'COPY public.t (a, b) FROM stdin;',
    'x;1\t\\.notend',
    '\\.',
    "COMMENT ON TABLE t IS 'ünïcödé ✓ 日本';",
    '\\connect mydb',
    "INSERT INTO t VALUES (1, 'a;b', E'c\\'d;');",
    'SELECT 1;',
    '\\unrestrict abc123',
    '',
  ].join('\n')
  const got = everyChunking(t, sql, 'postgres')
  t.strictSame(brief(got), [
    'meta@1:\\restrict abc123',
    "sql@3:SET client_encoding = 'UTF8'",
    "sql@5:CREATE TABLE \"we;ird\" (a text DEFAULT 'it''s; here', b text DEFAULT E'x\\';y')",
    'sql@6:CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $x$ not end $x$; $body$ LANGUAGE sql',
    'sql@7:CREATE FUNCTION g() RETURNS int AS $$ SELECT 2; $$ LANGUAGE sql',
    'copy@8:COPY public.t (a, b) FROM stdin',
    "sql@11:COMMENT ON TABLE t IS 'ünïcödé ✓ 日本'",
    'meta@12:\\connect mydb',
    "insert@13:INSERT INTO t VALUES (1, 'a;b', E'c\\'d;');",
    'sql@14:SELECT 1',
    'meta@15:\\unrestrict abc123',
  ])
})

t.test('mysql: conditional comments, backticks, backslash escapes, DELIMITER', async (t) => {
  const sql = [
    '/*M!999999\\- enable the sandbox mode */ ',
    '-- MariaDB dump',
    '/*!40101 SET NAMES utf8mb4 */;',
    '# hash comment;',
    'CREATE TABLE `a;b` (`c` int COMMENT \'x\\\'s; "q"\', d text COMMENT "dq\\";") COMMENT=\'t;\';',
    "INSERT INTO `a;b` VALUES (1,'it\\\\'),(2,'x\\';'),(3,\"y;\");",
    '/*!50001 CREATE ALGORITHM=UNDEFINED */',
    '/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */',
    '/*!50001 VIEW `v` AS select 1 AS `one` */;',
    'DELIMITER ;;',
    '/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END */;;',
    'DELIMITER ;',
    'SELECT 1--1;',
    '',
  ].join('\n')
  const got = everyChunking(t, sql, 'mysql')
  t.strictSame(brief(got), [
    'sql@3:SET NAMES utf8mb4',
    'sql@5:CREATE TABLE `a;b` (`c` int COMMENT \'x\\\'s; "q"\', d text COMMENT "dq\\";") COMMENT=\'t;\'',
    "insert@6:INSERT INTO `a;b` VALUES (1,'it\\\\'),(2,'x\\';'),(3,\"y;\");",
    'sql@7:CREATE ALGORITHM=UNDEFINED \n DEFINER=`root`@`localhost` SQL SECURITY DEFINER \n VIEW `v` AS select 1 AS `one`',
    'delimiter@10:;;',
    'sql@11:CREATE  TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END',
    'delimiter@12:;',
    'sql@13:SELECT 1--1',
  ])
})

t.test('lines are counted through COPY data and multi-line INSERTs', async (t) => {
  const rows = Array.from({ length: 50 }, (_, i) => `${i}\ttext ${i}`).join('\n')
  const sql = `COPY t FROM stdin;\n${rows}\n\\.\nINSERT INTO t VALUES ('multi\nline\nstring');\nSELECT 2;\n`
  const got = everyChunking(t, sql, 'postgres')
  t.strictSame(
    got.map((s) => [s.kind, s.line]),
    [
      ['copy', 1],
      ['insert', 53],
      ['sql', 56],
    ],
  )
  const s = new SqlSplitter({ dialect: 'postgres' })
  s.push(Buffer.from(sql))
  s.end()
  t.equal(s.counters.copyLines, 51, 'the data lines and the \\. line were skipped')
})

t.test('statement offsets are byte offsets of the first byte', async (t) => {
  const sql = "SELECT 'é';\n  SELECT 2;"
  const got = splitSql(sql, { dialect: 'postgres' })
  t.equal(got[1]!.offset, Buffer.byteLength("SELECT 'é';\n  "))
})

t.test('a last statement without delimiter is still returned', async (t) => {
  t.strictSame(brief(splitSql('SELECT 1;\nSELECT 2 -- end', { dialect: 'postgres' })), ['sql@1:SELECT 1', 'sql@2:SELECT 2 -- end'])
})

t.test('unterminated constructs: SQL_UNTERMINATED with the line where they began', async (t) => {
  const cases: [SqlDialect, string, number, RegExp][] = [
    ['postgres', "SELECT 1;\nSELECT 'abc\n\n", 2, /quoted string/],
    ['postgres', 'SELECT 1;\n\nSELECT "abc', 3, /quoted identifier/],
    ['postgres', 'SELECT 1;\n/* a /* b */\n', 2, /comment/],
    ['postgres', 'CREATE FUNCTION f() AS $q$\nSELECT 1;\n$x$', 1, /dollar-quoted string \$q\$/],
    ['postgres', 'SELECT 1;\nCOPY t FROM stdin;\n1\n2\n', 2, /COPY data/],
    ['mysql', 'SELECT 1;\nSELECT `abc', 2, /backtick/],
    ['mysql', "INSERT INTO t VALUES ('a\\');\n", 1, /quoted string/],
    ['mysql', '/*!40101 SET x=1 ;\n', 1, /conditional comment/],
  ]
  for (const [dialect, sql, line, msg] of cases) {
    for (const how of CHUNKINGS) {
      t.throws(
        () => feed(() => new SqlSplitter({ dialect, file: 'd.sql' }), Buffer.from(sql), how),
        { code: 'SQL_UNTERMINATED', line, file: 'd.sql', message: msg },
        `${JSON.stringify(sql)} ${JSON.stringify(how)}`,
      )
    }
  }
})

t.test('every dump fixture splits into the same statements in every chunking', async (t) => {
  const { fixtureCases } = await import('./helpers/sql-dumps.js')
  for (const [source, dialect] of [
    ['pg-dump', 'postgres'],
    ['mysql-dump', 'mysql'],
  ] as const) {
    for (const fx of fixtureCases(source)) {
      const want = feed(() => new SqlSplitter({ dialect }), fx.input, 'whole')
      t.ok(want.length > 3, `${source}/${fx.name}: ${want.length} statements`)
      for (const how of CHUNKINGS) {
        t.strictSame(
          feed(() => new SqlSplitter({ dialect }), fx.input, how),
          want,
          `${source}/${fx.name} in chunking ${JSON.stringify(how)}`,
        )
      }
    }
  }
})

t.test('a UTF-8 BOM is skipped in every chunking', async (t) => {
  const got = everyChunking(t, '\ufeffSELECT 1;\nSELECT 2;\n', 'postgres')
  t.strictSame(brief(got), ['sql@1:SELECT 1', 'sql@2:SELECT 2'])
})

t.test("mysqldump output: INSERTs end at ';\\n' (fast path), same statements and lines as the full scan", async (t) => {
  const body = [
    'CREATE TABLE `t` (`a` text);',
    "INSERT INTO `t` VALUES\n('x;y\\'z;'),\n('semi;\\nnot a newline');",
    "INSERT INTO `t` VALUES ('\\\\'),('\"');",
    'SELECT 1;',
    '',
  ].join('\n')
  const header =
    '-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n--\n-- Host: localhost    Database: d\n-- ------------------------------------------------------\n'
  const fast = everyChunking(t, header + body, 'mysql')
  const slow = everyChunking(t, '-- not a dump header\n--\n--\n--\n' + body, 'mysql')
  t.strictSame(brief(fast), brief(slow))
  t.strictSame(
    fast.map((s) => [s.kind, s.line]),
    [
      ['sql', 5],
      ['insert', 6],
      ['insert', 9],
      ['sql', 10],
    ],
  )
})
