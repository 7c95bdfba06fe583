// `secoda-convert dbt` (lib/cli/commands/dbt.ts), run in-process.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixture, runCli } from './helpers.js'

const dir = fixture('dbt', 'v7-exposures')
const manifest = join(dir, 'manifest.json')
const catalog = join(dir, 'catalog.json')
const tmp = (): string => mkdtempSync(join(tmpdir(), 'sc-dbt-'))

t.test('manifest + catalog → --out-dir resources.jsonl + lineage.jsonl, summary with counters', async (t) => {
  const out = tmp()
  const r = await runCli(['dbt', manifest, '--catalog', catalog, '--out-dir', out])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(join(out, 'resources.jsonl'), 'utf8'), readFileSync(join(dir, 'expected.resources.jsonl'), 'utf8'))
  t.equal(readFileSync(join(out, 'lineage.jsonl'), 'utf8'), readFileSync(join(dir, 'expected.lineage.jsonl'), 'utf8'))
  t.match(r.stderr, /4 tables, 8 columns, 2 dashboards, 7 lineage edges; 0 errors, 0 warnings/)
  t.match(r.stderr, /dbt\.schema_version: v7/)
  t.match(r.stderr, /dbt\.catalog_schema_version: v1/)
  t.match(r.stderr, /dbt\.skipped\.test: 1/)
})

t.test('stdin, gzip detected; --to csv', async (t) => {
  const r = await runCli(['dbt', '-', '--catalog', catalog], { stdin: gzipSync(readFileSync(manifest)) })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.split('\n').filter((l) => l.includes('"entity_type"')).length, 14)
  const csv = await runCli(['dbt', manifest, '--catalog', catalog, '--to', 'csv'])
  t.equal(csv.code, 0, csv.stderr)
  t.match(csv.stdout, /^col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time\n/)
  t.match(csv.stdout, /\nid,,integer,1,warehouse,analytics,stg_customers,,true,\n/, 'a view model is a view')
})

t.test('errors: coded, positioned, exit status', async (t) => {
  const d = tmp()
  const truncated = join(d, 'manifest.json')
  writeFileSync(truncated, readFileSync(manifest).subarray(0, 300))
  const r = await runCli(['dbt', truncated])
  t.equal(r.code, 1)
  t.match(
    r.stderr,
    new RegExp(
      `^${truncated.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: error DBT_JSON invalid JSON in dbt manifest: unexpected end of input`,
      'm',
    ),
  )
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace')
  const wrong = await runCli(['dbt', catalog])
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /error DBT_WRONG_ARTIFACT not a dbt manifest: .*dbt catalog/)
  const swapped = await runCli(['dbt', manifest, '--catalog', manifest])
  t.equal(swapped.code, 1)
  t.match(swapped.stderr, /error DBT_WRONG_ARTIFACT not a dbt catalog: it is a dbt manifest/)
  const missing = await runCli(['dbt', join(d, 'nope.json')])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /INPUT_NOT_FOUND/)
  const both = await runCli(['dbt', '-', '--catalog', '-'])
  t.equal(both.code, 2)
  t.match(both.stderr, /USAGE/)
})
