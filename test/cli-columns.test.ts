// The `columns` command end to end, in-process: flags, output formats, errors and exit codes.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { fixture, runCli } from './helpers.js'

t.test('columns → JSONL, with a tables export', async (t) => {
  const r = await runCli([
    'columns',
    fixture('info-schema', 'mysql', 'columns.csv'),
    '--tables',
    fixture('info-schema', 'mysql', 'tables.csv'),
    '--database',
    'warehouse',
  ])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, readFileSync(fixture('info-schema', 'mysql', 'expected.jsonl'), 'utf8'), 'same records as the library')
  t.match(r.stderr, /3 tables, 8 columns/)
})

t.test('columns → Secoda CSV from stdin (gzip), views flagged', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'columns-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'columns.csv')
  const r = await runCli(['columns', '-', '--tables', fixture('info-schema', 'postgres', 'tables.csv'), '--to', 'csv', '-o', out], {
    stdin: gzipSync(readFileSync(fixture('info-schema', 'postgres', 'columns.csv'))),
  })
  t.equal(r.code, 0, r.stderr)
  const csv = readFileSync(out, 'utf8').split('\n')
  t.equal(csv[0], 'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time')
  t.ok(csv.includes('total,,numeric,2,shop,public,order_totals,,true,'), 'view rows carry is_view true')
  t.ok(csv.includes('email,,character varying(255),2,shop,public,customers,,false,'))
})

t.test('errors: layout, missing names, missing file', async (t) => {
  let r = await runCli(['columns'], { stdin: 'name,type\nx,int\n' })
  t.equal(r.code, 1)
  t.match(r.stderr, /<stdin>:1: error COLUMNS_LAYOUT .*expected table_name and column_name/)
  r = await runCli(['columns'], { stdin: 'table_name,column_name\nt,c\n' })
  t.equal(r.code, 1)
  t.match(r.stderr, /<stdin>:2: error COLUMNS_NAME_MISSING no schema name.*--schema/)
  r = await runCli(['columns', '--schema', 's'], { stdin: 'table_name,column_name\nt,c\n' })
  t.equal(r.code, 1)
  t.match(r.stderr, /COLUMNS_NAME_MISSING no database name/)
  r = await runCli(['columns', '--schema', 's', '--database', 'd'], { stdin: 'table_name,column_name\nt,c\n' })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /"databuilder_id":"d\.s\.t\.c"/)
  r = await runCli(['columns', path.join(tmpdir(), 'no-such-export.csv')])
  t.equal(r.code, 2)
  t.match(r.stderr, /INPUT_NOT_FOUND/)
  r = await runCli(['columns', '--format', 'xml'])
  t.equal(r.code, 2)
  t.match(r.stderr, /USAGE/)
})

t.test('mysql --batch text is detected', async (t) => {
  const r = await runCli(['columns'], {
    stdin: 'TABLE_SCHEMA\tTABLE_NAME\tCOLUMN_NAME\tCOLUMN_KEY\tCOLUMN_COMMENT\nshop\torders\tid\tPRI\tline\\none\n',
  })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /"databuilder_id":"shop\.shop\.orders\.id".*"description":"line\\none".*"is_pk":true/)
})

t.test('--to csv (the direct path) writes what JSONL → convert --to csv writes, for every fixture', async (t) => {
  for (const name of readdirSync(fixture('info-schema'))) {
    const dir = fixture('info-schema', name)
    const args = JSON.parse(readFileSync(path.join(dir, 'args.json'), 'utf8')) as { database?: string; schema?: string }
    const flags = [
      ...(args.database ? ['--database', args.database] : []),
      ...(args.schema ? ['--schema', args.schema] : []),
      ...(existsSync(path.join(dir, 'tables.csv')) ? ['--tables', path.join(dir, 'tables.csv')] : []),
    ]
    const direct = await runCli(['columns', path.join(dir, 'columns.csv'), '--to', 'csv', ...flags])
    t.equal(direct.code, 0, direct.stderr)
    const jsonl = await runCli(['columns', path.join(dir, 'columns.csv'), ...flags])
    const viaRecords = await runCli(['convert', '-', '--to', 'csv'], { stdin: jsonl.stdout })
    t.equal(viaRecords.code, 0, viaRecords.stderr)
    t.equal(direct.stdout, viaRecords.stdout, name)
    // (counters aside: the columns reader's columns.unsorted_rows is its own)
    const said = (stderr: string): string[] => stderr.split('\n').filter((l) => !l.startsWith('  '))
    t.same(said(direct.stderr), said(viaRecords.stderr), `${name}: same warnings and summary`)
  }
})
