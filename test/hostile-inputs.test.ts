// Wrong, hostile and quirky inputs: every one gets a correct result or a coded error with
// the right exit status, never a stack trace, a quiet exit 0 or a leftover file.

import t from 'tap'
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { spawn, spawnSync } from 'node:child_process'
import { root, runCli } from './helpers.js'
import { sniff } from '../lib/sniff.js'
import { SqlSplitter } from '../lib/scan/sql-splitter.js'

/** Every file (not directory) under `dir`, relative. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
}
const tmp = (): string => mkdtempSync(join(tmpdir(), 'sc-hostile-'))
const STACK = /\n\s+at .+:\d+:\d+\)?\n|node:events|node:internal/

const PG_DUMP = `--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.t (id integer NOT NULL);
ALTER TABLE public.t OWNER TO postgres;

--
-- PostgreSQL database dump complete
--
`
const MYSQL_DUMP = `-- MySQL dump 10.13  Distrib 8.0.31, for Linux (x86_64)
--
-- Host: localhost    Database: shop
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE \`t\` (
  \`id\` int NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB;
-- Dump completed on 2024-01-01 10:00:00
`
const MANIFEST = JSON.stringify({
  metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json' },
  nodes: {},
})
const SECODA_CSV = 'database,schema,name,col_name,col_type\nd,s,t,c,int\n'
const INFO_CSV = 'TABLE_CATALOG,TABLE_SCHEMA,TABLE_NAME,COLUMN_NAME,DATA_TYPE\ndef,shop,t,id,int\n'
const XML = '<?xml version="1.0"?>\n<mysqldump xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<database name="shop">\n'

function tarOf(name: string): Buffer {
  const b = Buffer.alloc(1024)
  b.write(name, 0, 'latin1')
  b.write('ustar\u000000', 257, 'latin1')
  return b
}

/** Assert a run failed with `code` and `exit`, without a stack trace. */
function failed(t: Tap.Test, r: { code: number; stderr: string; stdout: string }, code: string, exit: number, message?: RegExp): void {
  t.equal(r.code, exit, `exit ${exit}`)
  t.match(r.stderr, new RegExp(`error ${code} `), `error ${code}`)
  t.notMatch(r.stderr, STACK, 'no stack trace')
  if (message) t.match(r.stderr, message)
}
declare namespace Tap {
  type Test = Parameters<Parameters<typeof t.test>[1]>[0]
}

t.test('sniff: what the first bytes say', async (t) => {
  t.equal(sniff(Buffer.alloc(0), true), 'empty')
  t.equal(sniff(Buffer.from('  \n', 'utf8'), true), 'empty')
  t.equal(sniff(gzipSync('x')), 'gzip')
  t.equal(sniff(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), 'zstd')
  t.equal(sniff(Buffer.from('fd377a585a00', 'hex')), 'xz')
  t.equal(sniff(Buffer.from('BZh91AY&SY\u0000', 'latin1')), 'bzip2')
  t.equal(sniff(Buffer.from('PGDMP\u0001\u000e')), 'pg-custom')
  t.equal(sniff(tarOf('toc.dat')), 'pg-tar')
  t.equal(sniff(tarOf('other.txt')), 'tar')
  t.equal(sniff(Buffer.from('\ufeffSET x = 1;', 'utf16le')), 'utf16le')
  t.equal(sniff(Buffer.from([0xfe, 0xff, 0, 0x53])), 'utf16be')
  t.equal(sniff(Buffer.alloc(100)), 'binary')
  t.equal(sniff(Buffer.from(MANIFEST), true), 'dbt-manifest')
  t.equal(
    sniff(Buffer.from('{\n  "metadata": {\n    "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"')),
    'dbt-catalog',
  )
  t.equal(
    sniff(Buffer.from('{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/run-results/v6.json"}}'), true),
    'dbt-run-results',
  )
  t.equal(sniff(Buffer.from('{"entity_type":"table","databuilder_id":"a"}\n'), true), 'secoda-jsonl')
  t.equal(sniff(Buffer.from('{"a":1}'), true), 'json')
  t.equal(sniff(Buffer.from(SECODA_CSV), true), 'secoda-csv')
  t.equal(sniff(Buffer.from(INFO_CSV), true), 'info-schema-csv')
  t.equal(sniff(Buffer.from('comment,name\nx,y\n'), true), 'csv', 'a CSV whose first name is a SQL word')
  t.equal(sniff(Buffer.from(XML), true), 'mysqldump-xml')
  t.equal(sniff(Buffer.from(PG_DUMP), true), 'sql-postgres')
  t.equal(sniff(Buffer.from(MYSQL_DUMP), true), 'sql-mysql')
  t.equal(sniff(Buffer.from('CREATE TABLE `a` (`x` int) ENGINE=InnoDB;\n'), true), 'sql-mysql', 'MySQL without a header')
  t.equal(sniff(Buffer.from('CREATE TABLE a (x int);\nALTER TABLE a OWNER TO me;\n'), true), 'sql-postgres', 'PostgreSQL without a header')
  t.equal(sniff(Buffer.from('CREATE TABLE a (x int);\n'), true), 'sql', 'either dialect')
  t.equal(sniff(Buffer.from('hello world\n'), true), 'text')
})

t.test('a command given what it does not read: INPUT_FORMAT naming the input and what reads it', async (t) => {
  const dir = tmp()
  const write = (name: string, data: string | Buffer): string => {
    const p = join(dir, name)
    writeFileSync(p, data)
    return p
  }
  const cases: [string, string[], RegExp][] = [
    ['pg-dump ← Secoda CSV', ['pg-dump', write('c.csv', SECODA_CSV)], /Secoda columns CSV.*secoda-convert validate/],
    ['pg-dump ← dbt manifest', ['pg-dump', write('manifest.json', MANIFEST)], /dbt manifest\.json.*secoda-convert dbt /],
    ['pg-dump ← mysqldump --xml', ['pg-dump', write('x.xml', XML)], /mysqldump --xml file/],
    ['mysql-dump ← mysqldump --xml', ['mysql-dump', write('x2.xml', XML)], /mysqldump --xml file.*without --xml/],
    ['pg-dump ← MySQL dump', ['pg-dump', write('my.sql', MYSQL_DUMP)], /MySQL\/MariaDB dump.*secoda-convert mysql-dump /],
    ['mysql-dump ← PostgreSQL dump', ['mysql-dump', write('pg.sql', PG_DUMP)], /PostgreSQL dump.*secoda-convert pg-dump /],
    [
      'pg-dump ← pg_dump -Fc',
      ['pg-dump', write('db.dump', Buffer.from('PGDMP\u0001\u000e\u0000\u0004\u0008'))],
      /pg_restore --schema-only -f - \S*db\.dump \| secoda-convert pg-dump -/,
    ],
    ['pg-dump ← pg_dump -Ft', ['pg-dump', write('db.tar', tarOf('toc.dat'))], /tar-format archive.*pg_restore/],
    [
      'pg-dump ← bzip2',
      ['pg-dump', write('d.sql.bz2', Buffer.from('BZh91AY&SY\u0000\u0001', 'latin1'))],
      /bzip2 -dc \S+ \| secoda-convert pg-dump -/,
    ],
    [
      'pg-dump ← zstd',
      ['pg-dump', write('d.sql.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 4, 0, 1, 2]))],
      /zstd -dc \S+ \| secoda-convert pg-dump -/,
    ],
    [
      'mysql-dump ← xz',
      ['mysql-dump', write('d.sql.xz', Buffer.from('fd377a585a000004', 'hex'))],
      /xz -dc \S+ \| secoda-convert mysql-dump -/,
    ],
    ['validate ← dbt manifest', ['validate', write('m2.json', MANIFEST)], /secoda-convert dbt /],
    ['validate ← information_schema CSV', ['validate', write('i.csv', INFO_CSV)], /secoda-convert columns /],
    ['convert ← PostgreSQL dump', ['convert', write('pg2.sql', PG_DUMP)], /secoda-convert pg-dump /],
    ['columns ← dbt manifest', ['columns', write('m3.json', MANIFEST)], /secoda-convert dbt /],
    ['dbt ← PostgreSQL dump', ['dbt', write('pg3.sql', PG_DUMP)], /PostgreSQL dump/],
    ['pg-dump ← /dev/zero', ['pg-dump', '/dev/zero'], /binary data/],
  ]
  for (const [name, args, message] of cases) {
    const r = await runCli(args)
    t.test(name, async (t) => failed(t, r, 'INPUT_FORMAT', 1, message))
  }
})

t.test('gzip-compressed wrong input is classified after decompression', async (t) => {
  const dir = tmp()
  const p = join(dir, 'my.sql.gz')
  writeFileSync(p, gzipSync(MYSQL_DUMP))
  failed(t, await runCli(['pg-dump', p]), 'INPUT_FORMAT', 1, /MySQL\/MariaDB dump/)
})

t.test('UTF-16 input (either byte order, with a BOM) is decoded', async (t) => {
  const le = Buffer.from(`\ufeff${PG_DUMP}`, 'utf16le')
  const be = Buffer.from(le).swap16()
  for (const [name, bytes] of [
    ['LE', le],
    ['BE', be],
  ] as const) {
    const r = await runCli(['pg-dump', '-', '--database', 'd'], { stdin: bytes })
    t.equal(r.code, 0, `${name}: exit 0`)
    t.match(r.stdout, /"databuilder_id":"d\.public\.t"/, `${name}: the table`)
  }
  const lone = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('SET x = 1;', 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])])
  failed(t, await runCli(['pg-dump', '-', '--database', 'd'], { stdin: lone }), 'INPUT_UTF8', 1, /UTF-16/)
})

t.test('missing files and directories: coded errors, never stack traces', async (t) => {
  const dir = tmp()
  for (const cmd of ['pg-dump', 'mysql-dump', 'dbt', 'columns', 'validate', 'convert']) {
    failed(t, await runCli([cmd, join(dir, 'nope')]), 'INPUT_NOT_FOUND', 2, /no such file/)
  }
  const plain = join(dir, 'plain')
  mkdirSync(plain)
  for (const cmd of ['pg-dump', 'mysql-dump', 'dbt', 'columns']) {
    failed(t, await runCli([cmd, plain]), 'INPUT_NOT_FOUND', 2, /is a directory/)
  }
  const fd = join(dir, 'fd')
  mkdirSync(fd)
  writeFileSync(join(fd, 'toc.dat'), 'PGDMP')
  failed(
    t,
    await runCli(['pg-dump', fd]),
    'INPUT_FORMAT',
    1,
    /directory-format archive.*pg_restore --schema-only -f - \S+ \| secoda-convert pg-dump -/,
  )
  failed(t, await runCli(['dbt', join(dir, 'm.json'), '--catalog', join(dir, 'nope.json')]), 'INPUT_NOT_FOUND', 2)
})

t.test('a source that converts nothing from a non-empty input fails; an empty input only warns', async (t) => {
  const dir = tmp()
  const r = await runCli(['pg-dump', '-', '--database', 'd', '--out-dir', join(dir, 'out')], { stdin: 'SET statement_timeout = 0;\n' })
  failed(t, r, 'INPUT_EMPTY', 1)
  t.same(files(dir), [], 'no file written')
  const empty = await runCli(['pg-dump', '-', '--database', 'd'], { stdin: '' })
  t.equal(empty.code, 0)
  t.match(empty.stderr, /warning INPUT_EMPTY/)
})

// ---- a stream knows whether it is complete ----

const BIN = join(root, 'dist', 'bin', 'secoda-convert.js')
/** Children run without the test runner's NODE_OPTIONS (its coverage hooks write files at exit). */
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' }

/** Many small valid records as JSONL (tables with one column each). */
function records(n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    s += `{"entity_type":"table","databuilder_id":"d.s.t${i}","title":"t${i}","database":"d","schema":"s"}\n`
    s += `{"entity_type":"column","databuilder_id":"d.s.t${i}.c","title":"c","parent_databuilder_id":"d.s.t${i}","type":"int"}\n`
  }
  return s
}

t.test('JSONL into a pipe is framed: header first, trailer with the count last; a reader checks both', async (t) => {
  const r = await runCli(['convert', '-'], { stdin: records(3), stdoutIsPipe: true })
  t.equal(r.code, 0)
  const lines = r.stdout.trimEnd().split('\n')
  t.same(JSON.parse(lines[0]!), { __secoda_convert_stream__: { version: 1 } })
  t.same(JSON.parse(lines.at(-1)!), { __secoda_convert_end__: { records: 6 } })
  t.equal(lines.length, 8)
  const ok = await runCli(['validate', '-'], { stdin: r.stdout })
  t.equal(ok.code, 0, 'a complete framed stream validates')
  t.match(ok.stderr, /3 tables, 3 columns/)
  // not framed when stdout is a file or a terminal: third-party readers see plain JSONL
  const plain = await runCli(['convert', '-'], { stdin: records(1) })
  t.notMatch(plain.stdout, /__secoda_convert/)
  const cut = lines.slice(0, 5).join('\n') + '\n'
  failed(t, await runCli(['validate', '-'], { stdin: cut }), 'UPSTREAM_ABORTED', 1, /without its trailer/)
  const wrongCount = [...lines.slice(0, 5), '{"__secoda_convert_end__":{"records":6}}'].join('\n')
  failed(t, await runCli(['validate', '-'], { stdin: wrongCount }), 'UPSTREAM_ABORTED', 1, /counts 6 records but 4 came/)
  failed(t, await runCli(['convert', '-'], { stdin: cut }), 'UPSTREAM_ABORTED', 1)
})

t.test('a producer killed with SIGKILL mid-stream: the reader down the pipe fails with UPSTREAM_ABORTED', async (t) => {
  const dir = tmp()
  const input = join(dir, 'big.jsonl')
  writeFileSync(input, records(100_000))
  const producer = spawn(process.execPath, [BIN, 'convert', input], { stdio: ['ignore', 'pipe', 'ignore'], env: ENV })
  const consumer = spawn(process.execPath, [BIN, 'convert', '-', '-o', join(dir, 'out.jsonl')], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: ENV,
  })
  let stderr = ''
  consumer.stderr.on('data', (c) => (stderr += c))
  let killed = false
  producer.stdout.on('data', (c: Buffer) => {
    if (!killed) {
      killed = true
      producer.kill('SIGKILL')
    }
    consumer.stdin.write(c)
  })
  producer.stdout.on('end', () => consumer.stdin.end())
  const [pSignal, cCode] = await Promise.all([
    new Promise((resolve) => producer.on('close', (_c, s) => resolve(s))),
    new Promise((resolve) => consumer.on('close', (c) => resolve(c))),
  ])
  t.equal(pSignal, 'SIGKILL')
  t.equal(cCode, 1, 'the reader exits 1')
  t.match(stderr, /error UPSTREAM_ABORTED .*without its trailer/)
  t.notMatch(stderr, STACK)
  t.same(files(dir), ['big.jsonl'], 'no output written')
})

t.test('a dump whose header names its tool but which lacks the completion line: INPUT_TRUNCATED', async (t) => {
  const dir = tmp()
  const cutPg = PG_DUMP.slice(0, PG_DUMP.indexOf('--\n-- PostgreSQL database dump complete'))
  const cutMy = MYSQL_DUMP.slice(0, MYSQL_DUMP.indexOf('-- Dump completed'))
  for (const [cmd, text] of [
    ['pg-dump', cutPg],
    ['mysql-dump', cutMy],
  ] as const) {
    const out = join(dir, `${cmd}.jsonl`)
    const r = await runCli([cmd, '-', '--database', 'd', '-o', out], { stdin: text })
    failed(t, r, 'INPUT_TRUNCATED', 1, cmd === 'pg-dump' ? /-- PostgreSQL database dump complete/ : /-- Dump completed/)
    t.same(files(dir), [], `${cmd}: nothing written`)
    t.equal(
      (await runCli([cmd, '-', '--database', 'd', '--allow-truncated'], { stdin: text })).code,
      0,
      `${cmd} --allow-truncated reads it`,
    )
    t.equal(
      (await runCli([cmd, '-', '--database', 'd'], { stdin: cmd === 'pg-dump' ? PG_DUMP : MYSQL_DUMP })).code,
      0,
      `${cmd}: the whole dump`,
    )
  }
  const gz = join(dir, 'cut.sql.gz')
  writeFileSync(gz, gzipSync(cutPg))
  failed(t, await runCli(['pg-dump', gz, '--database', 'd']), 'INPUT_TRUNCATED', 1)
  rmSync(gz)
  // pg_dumpall's own completion line; a per-database one inside it is not the end
  const all = '--\n-- PostgreSQL database cluster dump\n--\n\n' + PG_DUMP
  failed(t, await runCli(['pg-dump', '-', '--database', 'd'], { stdin: all }), 'INPUT_TRUNCATED', 1, /pg_dumpall/)
  t.equal(
    (await runCli(['pg-dump', '-', '--database', 'd'], { stdin: all + '\n--\n-- PostgreSQL database cluster dump complete\n--\n' })).code,
    0,
  )
})

t.test('a statement cut at the end of the input is an error, not a warning', async (t) => {
  for (const [cmd, text] of [
    ['pg-dump', 'CREATE TABLE a (id int);\nCREATE TABLE b (x int,\n  y'],
    ['mysql-dump', 'CREATE TABLE `a` (`id` int);\nCREATE TABLE `b` (`x` int,\n  y'],
  ] as const) {
    const names = cmd === 'pg-dump' ? ['--database', 'd'] : ['--schema', 's']
    const r = await runCli([cmd, '-', ...names], { stdin: text })
    failed(t, r, 'INPUT_TRUNCATED', 1)
    t.match(r.stderr, /<stdin>:2: error/, `${cmd}: the line of the cut statement`)
    const allowed = await runCli([cmd, '-', ...names, '--allow-truncated'], { stdin: text })
    t.equal(allowed.code, 0, `${cmd} --allow-truncated: a warning`)
    t.match(allowed.stderr, /warning SQL_UNPARSED/)
  }
  // a last statement without ';' that is whole is read as it is
  const r = await runCli(['pg-dump', '-', '--database', 'd'], { stdin: 'CREATE TABLE a (id int)' })
  t.equal(r.code, 0)
  t.match(r.stdout, /"d\.public\.a"/)
})

// ---- output ----

/** Run the CLI as a child process; `shell` lets a test set ulimit first. */
function runBin(
  args: string[],
  options: { stdin?: string; shellPrefix?: string } = {},
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child =
    options.shellPrefix === undefined
      ? spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: ENV })
      : spawn('/bin/sh', ['-c', `unset NODE_OPTIONS; ${options.shellPrefix}; exec "$0" "$@"`, process.execPath, BIN, ...args], {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: ENV,
        })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => (stdout += c))
  child.stderr.on('data', (c) => (stderr += c))
  child.stdin.end(options.stdin ?? '')
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
}

t.test('output errors are OUTPUT_WRITE (exit 2) and leave nothing under the final name', async (t) => {
  const dir = tmp()
  const input = records(200)
  const full = await runBin(['convert', '-', '-o', '/dev/full'], { stdin: input })
  t.equal(full.code, 2, '/dev/full: exit 2')
  t.match(full.stderr, /error OUTPUT_WRITE cannot write \/dev\/full: no space left/)
  t.notMatch(full.stderr, STACK)
  const fullStdout = await runBin(['convert', '-'], { stdin: input, shellPrefix: 'exec >/dev/full' })
  t.equal(fullStdout.code, 2, 'stdout on /dev/full: exit 2')
  t.match(fullStdout.stderr, /OUTPUT_WRITE/)
  t.notMatch(fullStdout.stderr, STACK)
  const out = join(dir, 'out.jsonl')
  const limited = await runBin(['convert', '-', '-o', out], { stdin: records(2000), shellPrefix: 'ulimit -f 16' })
  t.equal(limited.code, 2, 'past ulimit -f: exit 2')
  t.match(limited.stderr, /error OUTPUT_WRITE cannot write .*file too large/)
  t.notMatch(limited.stderr, STACK)
  t.same(files(dir), [], 'past ulimit -f: no file, no temporary file')
  // a directory in the way of one of the split files
  mkdirSync(join(dir, 'od', 'lineage.jsonl'), { recursive: true })
  const r = await runCli(['convert', '-', '--out-dir', join(dir, 'od')], { stdin: input })
  failed(t, r, 'OUTPUT_WRITE', 2, /a directory is in the way/)
  t.same(files(dir), [], 'no resources.jsonl beside the directory in the way')
  // --out-dir naming a file
  writeFileSync(join(dir, 'afile'), 'x')
  failed(t, await runCli(['convert', '-', '--out-dir', join(dir, 'afile')], { stdin: input }), 'OUTPUT_WRITE', 2)
  t.same(files(dir), ['afile'])
})

t.test('-o naming a FIFO or a device writes to it as a stream and never replaces it', async (t) => {
  const dir = tmp()
  const fifo = join(dir, 'fifo')
  spawnSync('mkfifo', [fifo])
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] })
  let got = ''
  reader.stdout.on('data', (c) => (got += c))
  const readerDone = new Promise((resolve) => reader.on('close', resolve))
  const r = await runBin(['convert', '-', '-o', fifo], { stdin: records(2) })
  await readerDone
  t.equal(r.code, 0)
  t.equal(got.trim().split('\n').length, 4, 'the reader got the records')
  t.ok(lstatSync(fifo).isFIFO(), 'still a FIFO')
  t.same(files(dir), ['fifo'], 'no temporary file beside it')
  const dev = await runBin(['convert', '-', '-o', '/dev/stdout'], { stdin: records(2) })
  t.equal(dev.code, 0)
  t.equal(dev.stdout.trim().split('\n').length, 4, '/dev/stdout: the records on stdout')
  t.ok(lstatSync('/dev/stdout').isSymbolicLink() || lstatSync('/dev/stdout').isCharacterDevice(), '/dev/stdout is not a regular file')
  // only where /dev/null is the device (a run of an older build may have replaced it)
  if (lstatSync('/dev/null').isCharacterDevice()) {
    t.equal((await runBin(['convert', '-', '-o', '/dev/null'], { stdin: records(2) })).code, 0)
    t.ok(lstatSync('/dev/null').isCharacterDevice(), '/dev/null is still a device')
  }
})

t.test('a symlinked output path: the file it names is replaced, the link stays', async (t) => {
  const dir = tmp()
  const real = join(dir, 'real.jsonl')
  writeFileSync(real, 'old\n')
  symlinkSync(real, join(dir, 'link.jsonl'))
  const r = await runCli(['convert', '-', '-o', join(dir, 'link.jsonl')], { stdin: records(1) })
  t.equal(r.code, 0)
  t.ok(lstatSync(join(dir, 'link.jsonl')).isSymbolicLink(), 'still a link')
  t.match(readFileSync(real, 'utf8'), /"d\.s\.t0"/, 'the target holds the output')
  t.same(files(dir).sort(), ['link.jsonl', 'real.jsonl'])
})

t.test('two runs writing the same output: each writes whole, the last rename wins, no temporary file stays', async (t) => {
  const dir = tmp()
  const out = join(dir, 'out.jsonl')
  const [a, b] = await Promise.all([
    runBin(['convert', '-', '-o', out], { stdin: records(3000) }),
    runBin(['convert', '-', '-o', out], { stdin: records(2000) }),
  ])
  t.equal(a.code, 0)
  t.equal(b.code, 0)
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n').length
  t.ok(lines === 6000 || lines === 4000, `one run's whole output (${lines} lines)`)
  t.same(files(dir), ['out.jsonl'])
})

for (const [sig, status] of [
  ['SIGTERM', 143],
  ['SIGHUP', 129],
  ['SIGINT', 130],
] as const) {
  t.test(`${sig} removes temporary files and exits ${status}`, async (t) => {
    const dir = tmp()
    const child = spawn(process.execPath, [BIN, 'convert', '-', '-o', join(dir, 'out.jsonl')], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: ENV,
    })
    let stderr = ''
    child.stderr.on('data', (c) => (stderr += c))
    child.stdin.write(records(100))
    // the run is under way once its temporary file exists; stdin stays open
    let exited = false
    child.once('exit', () => (exited = true))
    while (files(dir).length === 0 && !exited) await new Promise((r) => setTimeout(r, 20))
    t.match(files(dir)[0], /^\.out\.jsonl\.tmp-/)
    child.kill(sig)
    const [code] = await new Promise<[number | null]>((resolve) => child.on('close', (c) => resolve([c])))
    t.equal(code, status)
    t.same(files(dir), [], 'nothing left')
    t.notMatch(stderr, STACK)
  })
}

// ---- bounds ----

/** Time to split `make(n)` with the SQL splitter, best of two runs (ms). */
function splitTime(text: Buffer): number {
  let best = Infinity
  for (let run = 0; run < 2; run++) {
    const s = new SqlSplitter({ dialect: 'postgres', maxStatement: 1 << 30 })
    const t0 = performance.now()
    for (let i = 0; i < text.length; i += 256 * 1024) s.push(text.subarray(i, i + 256 * 1024))
    s.end()
    best = Math.min(best, performance.now() - t0)
  }
  return best
}

t.test('one huge string literal: the statement buffer grows linearly (4x the size, well under 16x the time)', async (t) => {
  const literal = (mb: number): Buffer => Buffer.from(`COMMENT ON TABLE a IS '${'x'.repeat(mb << 20)}';\n`)
  const small = splitTime(literal(6))
  const big = splitTime(literal(24))
  t.ok(big / small < 10, `24 MB vs 6 MB: ${(big / small).toFixed(1)}x the time (linear ~4x, quadratic ~16x)`)
})

t.test('1,000,000 tiny statements: time linear in their number', async (t) => {
  const stmts = (n: number): Buffer => Buffer.from('SET a = 1;\n'.repeat(n))
  const small = splitTime(stmts(250_000))
  const big = splitTime(stmts(1_000_000))
  t.ok(big / small < 10, `1,000,000 vs 250,000 statements: ${(big / small).toFixed(1)}x the time`)
})

t.test('a statement over --max-record-size is RECORD_TOO_LARGE, not an unbounded buffer', async (t) => {
  const text = `CREATE TABLE a (id int);\nCOMMENT ON TABLE a IS '${'x'.repeat(300_000)}';\n`
  for (const cmd of ['pg-dump', 'mysql-dump']) {
    const names = cmd === 'pg-dump' ? ['--database', 'd'] : ['--schema', 's']
    const r = await runCli([cmd, '-', ...names, '--max-record-size', '100000'], { stdin: text })
    failed(t, r, 'RECORD_TOO_LARGE', 1, /line 2/)
  }
  t.equal((await runCli(['pg-dump', '-', '--database', 'd'], { stdin: text })).code, 0, 'under the default 64 MiB: read')
})

// ---- text and names ----

t.test('NUL in names and ids is refused; __proto__/constructor keys pollute nothing', async (t) => {
  const nul = '{"entity_type":"table","databuilder_id":"d.s.a\\u0000b","title":"a","database":"d","schema":"s"}\n'
  const r = await runCli(['validate', '-'], { stdin: nul })
  failed(t, r, 'FIELD_TYPE', 1, /databuilder_id holds a NUL character/)
  const proto =
    '{"entity_type":"table","databuilder_id":"d.s.t","title":"t","database":"d","schema":"s","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}\n'
  const p = await runCli(['convert', '-'], { stdin: proto })
  t.equal(p.code, 0)
  t.match(p.stderr, /FIELD_UNKNOWN/)
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  t.notMatch(p.stdout, /polluted/, 'unknown keys dropped on output')
})

t.test('100k-deep JSON nesting: a coded error, no stack overflow', async (t) => {
  const deep = `{"entity_type":"table","databuilder_id":"x","description":${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`
  const r = await runCli(['validate', '-'], { stdin: deep })
  t.equal(r.code, 1)
  t.notMatch(r.stderr, STACK)
  t.notMatch(r.stderr, /INTERNAL|Maximum call stack/)
  const manifest = `{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"},"nodes":{"model.p.a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`
  const m = await runCli(['dbt', '-'], { stdin: manifest })
  t.equal(m.code, 1)
  t.notMatch(m.stderr, STACK)
  t.notMatch(m.stderr, /INTERNAL|Maximum call stack/)
})

t.test('a 10,000-column table and identifiers with quotes, newlines and emoji', async (t) => {
  const cols = Array.from({ length: 10_000 }, (_, i) => `c${i} int`).join(', ')
  const r = await runCli(['pg-dump', '-', '--database', 'd'], { stdin: `CREATE TABLE wide (${cols});\n` })
  t.equal(r.code, 0)
  t.match(r.stderr, /1 table, 10000 columns/)
  const odd = 'CREATE TABLE "we""ird\nname 🎉" ("col ""q""" int, "😀" text);\n'
  const o = await runCli(['pg-dump', '-', '--database', 'd'], { stdin: odd })
  t.equal(o.code, 0, o.stderr)
  const recs = o.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { title?: string })
  t.ok(
    recs.some((x) => x.title === 'we"ird\nname 🎉'),
    'the table name as written',
  )
  t.ok(
    recs.some((x) => x.title === '😀'),
    'an emoji column',
  )
})

t.test('dbt: names written already quoted are unquoted before they become ids and titles', async (t) => {
  const manifest = JSON.stringify({
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json' },
    nodes: {
      'model.p.orders': {
        unique_id: 'model.p.orders',
        resource_type: 'model',
        database: '"ANALYTICS"',
        schema: '"ALEO"',
        name: 'orders',
        alias: '`orders`',
        config: { materialized: 'table' },
        columns: {},
        depends_on: { nodes: [] },
      },
    },
    sources: {},
  })
  const r = await runCli(['dbt', '-'], { stdin: manifest })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /"databuilder_id":"analytics\.aleo\.orders"/)
  t.notMatch(r.stdout, /\\"/, 'no quote left in any id or name')
})
