// The run summary (lib/cli/summary.ts, docs/summary.md): one model for every command,
// as text on stderr, as JSON with --json (success and failure, always self-consistent) and
// into a file with --summary-json; --json refused where stdout carries data.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixture, runCli } from './helpers.js'
import { startTestServer } from '../lib/testing/server.js'
import type { RunSummary } from '../lib/cli/summary.js'

const dir = mkdtempSync(join(tmpdir(), 'sc-summary-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const out = (name: string): string => join(dir, name)

/** The invariants every summary keeps, whatever happened. */
function consistent(t: Tap.Test, s: RunSummary): void {
  t.equal(s.version, 1)
  t.equal(s.valid, s.errors === 0, 'valid ⇔ errors == 0')
  t.equal(s.valid, s.exitCode === 0, 'valid ⇔ exit 0')
  t.equal(
    Object.values(s.errorsByCode).reduce((a, b) => a + b, 0),
    s.errors,
    'errors by code add up',
  )
  t.equal(
    Object.values(s.warningsByCode).reduce((a, b) => a + b, 0),
    s.warnings,
    'warnings by code add up',
  )
  t.equal(s.lineage.table + s.lineage.column, s.lineage.total)
  t.ok(s.seconds >= 0 && s.mbPerSecond >= 0)
}

async function json(t: Tap.Test, args: string[], options: Parameters<typeof runCli>[1] = {}) {
  const r = await runCli([...args, '--json'], options)
  const s = JSON.parse(r.stdout) as RunSummary
  consistent(t, s)
  t.equal(s.exitCode, r.code, 'the JSON says the exit status the process has')
  return { ...r, s }
}

const table = (id: string) => ({ entity_type: 'table', databuilder_id: id, title: id, database: 'd', schema: 's' })
const column = (table: string, c: string) => ({
  entity_type: 'column',
  databuilder_id: `${table}.${c}`,
  parent_databuilder_id: table,
  title: c,
  type: 'int',
})
const internal = (id: string) => ({ type: 'internal_resource', databuilder_id: id })
const lineageInput = [
  table('d.s.a'),
  column('d.s.a', 'x'),
  table('d.s.b'),
  column('d.s.b', 'y'),
  { from_identifier: internal('d.s.a'), to_identifier: internal('d.s.b') },
  { from_identifier: internal('d.s.a.x'), to_identifier: internal('d.s.b.y') },
  {
    from_identifier: { type: 'external_column', cluster: 'c', database: 'e', schema: 'f', table: 'g', column: 'h' },
    to_identifier: internal('d.s.b.y'),
  },
]
  .map((r) => JSON.stringify(r))
  .join('\n')

t.test('validate --json: counts, lineage table- and column-level apart, input bytes', async (t) => {
  const input = file('lineage.jsonl', lineageInput + '\n')
  const { s, code, stderr } = await json(t, ['validate', input])
  t.equal(code, 0)
  t.equal(stderr, '', 'nothing on stderr: the summary is the JSON')
  t.match(s, { command: 'validate', valid: true, errors: 0, fatal: null, upload: null, resources: { table: 2, column: 2 } })
  t.same(s.lineage, { total: 3, table: 1, column: 2 })
  t.equal(s.input.bytes, statSync(input).size)
  const text = await runCli(['validate', input])
  t.match(
    text.stderr,
    /2 tables, 2 columns, 3 lineage edges; 0 errors, 0 warnings\n {2}lineage: 1 table-level, 2 column-level\n {2}read \d+ B in \d/,
  )
})

t.test('validate --json on invalid input: valid false and the errors counted by code', async (t) => {
  const { s, code } = await json(t, ['validate'], { stdin: JSON.stringify(column('t', 'c')) + '\n{bad\n' })
  t.equal(code, 1)
  t.match(s, { valid: false, errors: 2, errorsByCode: { PARENT_MISSING: 1, JSON_SYNTAX: 1 }, fatal: null })
})

t.test('a fatal error counts as an error (text and JSON)', async (t) => {
  const missing = out('missing.jsonl')
  const { s, code } = await json(t, ['validate', missing])
  t.equal(code, 2)
  t.match(s, { valid: false, errors: 1, errorsByCode: { INPUT_NOT_FOUND: 1 }, fatal: { code: 'INPUT_NOT_FOUND' } })
  t.match(s.diagnostics, [{ code: 'INPUT_NOT_FOUND' }])
  // a truncated manifest ends the dbt run with a fatal syntax error (exit 1): the text summary says 1 error
  const manifest = readFileSync(fixture('dbt', 'v7-exposures', 'manifest.json'), 'utf8')
  const cut = file('cut-manifest.json', manifest.slice(0, Math.floor(manifest.length / 2)))
  const r = await runCli(['dbt', cut, '-o', out('cut.jsonl')])
  t.equal(r.code, 1)
  t.match(r.stderr, /; 1 error, /)
  t.notMatch(r.stderr, /; 0 errors/)
  const j = await json(t, ['dbt', cut, '-o', out('cut.jsonl')])
  t.equal(j.s.errors, 1)
  t.equal(j.s.fatal?.severity, 'error')
})

t.test('every conversion command prints its JSON summary with -o / --out-dir', async (t) => {
  const dbt = await json(t, [
    'dbt',
    fixture('dbt', 'v7-exposures', 'manifest.json'),
    '--catalog',
    fixture('dbt', 'v7-exposures', 'catalog.json'),
    '--out-dir',
    out('dbt'),
  ])
  t.match(dbt.s, { command: 'dbt', valid: true, resources: { table: 4, column: 8, dashboard: 2 }, lineage: { total: 7 } })
  t.ok(dbt.s.input.bytes > statSync(fixture('dbt', 'v7-exposures', 'manifest.json')).size, 'manifest and catalog bytes')
  t.match(dbt.s.notes, { 'dbt.schema_version': 'v7' })
  const pg = await json(t, ['pg-dump', fixture('samples', 'shop-pg_dump.sql'), '--database', 'shop', '-o', out('pg.jsonl')])
  t.match(pg.s, { command: 'pg-dump', valid: true, input: { bytes: statSync(fixture('samples', 'shop-pg_dump.sql')).size } })
  t.ok(pg.s.resources.table > 0)
  const my = await json(t, ['mysql-dump', fixture('mysql-dump', 'mariadb-plain-no-data', 'input.sql'), '-o', out('my.jsonl')])
  t.match(my.s, { command: 'mysql-dump', valid: true })
  const cols = await json(t, [
    'columns',
    fixture('info-schema', 'postgres', 'columns.csv'),
    '--tables',
    fixture('info-schema', 'postgres', 'tables.csv'),
    '--to',
    'csv',
    '-o',
    out('cols.csv'),
  ])
  t.match(cols.s, { command: 'columns', valid: true })
  t.ok(cols.s.input.bytes > 0)
  const conv = await json(t, ['convert', fixture('secoda-csv', 'basic', 'input.csv'), '--out-dir', out('conv')])
  t.match(conv.s, { command: 'convert', valid: true })
})

t.test('--json where stdout carries data is a usage error pointing to --summary-json, which works there', async (t) => {
  const r = await runCli(['convert', fixture('secoda-csv', 'basic', 'input.csv'), '--json'])
  t.equal(r.code, 2)
  t.equal(r.stdout, '', 'no data, no JSON')
  t.match(r.stderr, /error USAGE --json prints the summary on stdout, which carries the data here: use --summary-json FILE/)
  const summaryFile = out('s.json')
  const ok = await runCli(['convert', fixture('secoda-csv', 'basic', 'input.csv'), '--summary-json', summaryFile])
  t.equal(ok.code, 0)
  t.equal(ok.stdout, readFileSync(fixture('secoda-csv', 'basic', 'expected.jsonl'), 'utf8'), 'the data is untouched')
  const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary
  consistent(t, s)
  t.match(s, { command: 'convert', valid: true })
  t.match(ok.stderr, /secoda-convert: .* 0 errors/, 'the text summary still goes to stderr')
  // a usage error still writes the summary file, saying so
  const bad = await runCli(['validate', '--max-errors', 'abc', '--summary-json', summaryFile])
  t.equal(bad.code, 2)
  t.match(JSON.parse(readFileSync(summaryFile, 'utf8')), { valid: false, errors: 1, fatal: { code: 'USAGE' } })
})

t.test('upload --json on success and failure', async (t) => {
  const server = await startTestServer({ integrations: [{ name: 'warehouse', id: 'int-1' }] })
  t.teardown(() => server.close())
  const env = { SECODA_API_URL: server.url, SECODA_API_KEY: server.apiKey }
  const state = ['--state-dir', out('state')]
  const input = file('up.jsonl', lineageInput + '\n')
  const ok = await json(t, ['upload', input, '--integration', 'int-1', ...state], { env })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.s, {
    command: 'upload',
    valid: true,
    lineage: { total: 3, column: 2 },
    upload: { synced: true, integrationId: 'int-1', status: 200, framing: 'content-length', retries: 0, attempts: 1, stale: { added: 4 } },
  })
  const bad = await json(t, ['upload', file('bad.jsonl', JSON.stringify(column('t', 'c')) + '\n'), '--integration', 'int-1', ...state], {
    env,
  })
  t.equal(bad.code, 1)
  t.match(bad.s, { valid: false, errors: 1, errorsByCode: { PARENT_MISSING: 1 }, upload: { synced: false } })
  const noServer = await json(t, ['upload', input, '--integration', 'int-1', ...state], {
    env: { SECODA_API_URL: 'http://127.0.0.1:9', SECODA_API_KEY: 'k' },
  })
  t.not(noServer.code, 0)
  t.match(noServer.s, { valid: false, errors: 1, upload: { synced: false } })
})
