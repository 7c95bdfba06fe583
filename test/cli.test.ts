import t from 'tap'
import { mkdtempSync, readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fixture, root, runCli } from './helpers.js'

const csv = fixture('secoda-csv', 'basic', 'input.csv')
const mixed = fixture('jsonl', 'mixed', 'input.jsonl')
const tmp = (): string => mkdtempSync(join(tmpdir(), 'sc-cli-'))

t.test('validate: valid input → exit 0, summary on stderr, nothing on stdout', async (t) => {
  const r = await runCli(['validate', mixed])
  t.equal(r.code, 0)
  t.equal(r.stdout, '')
  t.match(r.stderr, /warning LINEAGE_OBSOLETE/)
  t.match(
    r.stderr,
    /secoda-convert: 1 dashboard group, 1 dashboard, 1 chart, 2 tables, 2 columns|2 tables, 2 columns, 1 dashboard group, 1 dashboard, 1 chart, 4 lineage edges; 0 errors, 1 warning/,
  )
})

t.test('validate: invalid input → exit 1 with file:line: severity CODE message', async (t) => {
  const r = await runCli(['validate', '--max-errors', '5'], {
    stdin:
      '{"entity_type":"table","databuilder_id":"a","database":"d","schema":"s"}\n{"entity_type":"table","databuilder_id":"a","database":"d","schema":"s"}\n{bad\n',
  })
  t.equal(r.code, 1)
  t.match(r.stderr, /^<stdin>:2: error ID_DUPLICATE duplicate databuilder_id "a" \(first at <stdin>:1\)$/m)
  t.match(r.stderr, /^<stdin>:3:2: error JSON_SYNTAX invalid JSON/m)
  t.match(r.stderr, /input is invalid: 2 errors/)
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace')
})

t.test('validate --json prints summary and diagnostics on stdout', async (t) => {
  const r = await runCli(['validate', '--json'], { stdin: '{"entity_type":"column","databuilder_id":"c","parent_databuilder_id":"t"}\n' })
  t.equal(r.code, 1)
  const j = JSON.parse(r.stdout)
  t.match(j, {
    valid: false,
    errors: 1,
    errorsByCode: { PARENT_MISSING: 1 },
    resources: { column: 1 },
    diagnostics: [{ code: 'PARENT_MISSING', line: 1, file: '<stdin>' }],
  })
  t.equal(r.stderr, '')
})

t.test('convert: CSV → mixed JSONL on stdout; --out-dir split; --to csv -o; directories as input', async (t) => {
  const r = await runCli(['convert', csv])
  t.equal(r.code, 0)
  t.equal(r.stdout, readFileSync(fixture('secoda-csv', 'basic', 'expected.jsonl'), 'utf8'))
  const dir = tmp()
  t.equal((await runCli(['convert', mixed, '--out-dir', dir])).code, 0)
  t.same(readdirSync(dir).sort(), ['lineage.jsonl', 'resources.jsonl'])
  t.equal(readFileSync(join(dir, 'lineage.jsonl'), 'utf8').split('\n').length, 5, 'four edges')
  t.equal((await runCli(['validate', dir])).code, 0, 'split files validate together (lineage refers to resources in the other file)')
  const lineageOnly = await runCli(['validate', join(dir, 'lineage.jsonl')])
  t.equal(lineageOnly.code, 1, 'lineage alone has dangling internal ids')
  t.match(lineageOnly.stderr, /lineage.jsonl:1: error LINEAGE_MISSING/)
  const out = join(dir, 'columns.csv')
  const c = await runCli(['convert', csv, '--to', 'csv', '-o', out])
  t.equal(c.code, 0)
  t.equal(readFileSync(out, 'utf8'), readFileSync(csv, 'utf8'), 'CSV round trip through the CLI')
  const s = await runCli(['convert', csv, '--to', 'csv', '--sort-order-header', 'sort_order'])
  t.match(s.stdout, /^col_name,col_description,col_type,sort_order,/)
})

t.test('--to csv: validation runs in the CSV stage: errors with lines, no output file', async (t) => {
  const dir = tmp()
  const bad = join(dir, 'bad.jsonl')
  writeFileSync(
    bad,
    [
      '{"entity_type":"table","databuilder_id":"t","database":"d","schema":"s","title":"t"}',
      '{"entity_type":"column","databuilder_id":"t.a","parent_databuilder_id":"t","title":"a"}',
      '{"entity_type":"column","databuilder_id":"t.a","parent_databuilder_id":"t","title":"a"}',
      '{"entity_type":"column","databuilder_id":"t.b","parent_databuilder_id":"t.missing","title":"b"}',
      '{"entity_type":"column","databuilder_id":"t.c","parent_databuilder_id":"t","title":"c.d"}',
    ].join('\n') + '\n',
  )
  const r = await runCli(['convert', bad, '--to', 'csv', '-o', join(dir, 'out.csv')])
  t.equal(r.code, 1)
  t.match(r.stderr, /bad\.jsonl:3: error ID_DUPLICATE/)
  t.match(r.stderr, /bad\.jsonl:5: error CSV_NAME_PERIOD/)
  t.match(r.stderr, /bad\.jsonl:4: error PARENT_MISSING/)
  t.match(r.stderr, /input is invalid: 3 errors/)
  t.same(readdirSync(dir), ['bad.jsonl'], 'no output or temporary file left')
})

t.test('a failed conversion leaves no output file and ends stdout JSONL with the abort marker', async (t) => {
  const dir = tmp()
  const bad = join(dir, 'bad.jsonl')
  writeFileSync(
    bad,
    '{"entity_type":"table","databuilder_id":"t","database":"d","schema":"s"}\n{"entity_type":"column","databuilder_id":"t.c","parent_databuilder_id":"t.missing"}\n',
  )
  const r = await runCli(['convert', bad, '-o', join(dir, 'out.jsonl')])
  t.equal(r.code, 1)
  t.notOk(existsSync(join(dir, 'out.jsonl')))
  t.same(readdirSync(dir), ['bad.jsonl'], 'no temporary file left')
  const piped = await runCli(['convert', bad])
  t.equal(piped.code, 1)
  const lines = piped.stdout.trim().split('\n')
  t.match(lines.at(-1), /^\{"__secoda_convert_aborted__":\{"code":"VALIDATION_FAILED"/)
  const downstream = await runCli(['validate'], { stdin: piped.stdout })
  t.equal(downstream.code, 1, 'a reader down the pipe fails too')
  t.match(downstream.stderr, /error UPSTREAM_ABORTED/)
  const csvOut = await runCli(['convert', bad, '--out-dir', join(dir, 'split')])
  t.equal(csvOut.code, 1)
  t.notOk(existsSync(join(dir, 'split', 'resources.jsonl')), 'split output not written either')
})

t.test('usage and I/O errors exit 2 without a stack trace', async (t) => {
  for (const args of [
    ['validate', '--nope'],
    ['convert', '--to', 'xml'],
    ['convert', '-o', 'a', '--out-dir', 'b'],
    [],
    ['validate', '--max-errors', '0'],
  ]) {
    const r = await runCli(args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /^error USAGE /m, args.join(' '))
  }
  const missing = await runCli(['validate', '/nonexistent/x.jsonl'])
  t.equal(missing.code, 2)
  t.equal(missing.stderr, 'error INPUT_NOT_FOUND cannot open input: no such file: /nonexistent/x.jsonl\n')
})

t.test('--help lists commands with examples', async (t) => {
  const r = await runCli(['--help'])
  t.equal(r.code, 0)
  t.match(r.stdout, /validate \[files\.\.\]/)
  t.match(r.stdout, /convert \[files\.\.\]/)
  const v = await runCli(['validate', '--help'])
  t.match(v.stdout, /Examples:/)
  t.match(v.stdout, /--max-errors/)
})

t.test('the real binary: EPIPE ends quietly; exit statuses reach the shell', async (t) => {
  const bin = join(root, 'dist', 'bin', 'secoda-convert.js')
  const dir = tmp()
  const big = join(dir, 'big.csv')
  const header = readFileSync(csv, 'utf8').split('\n')[0]
  let body = header + '\n'
  for (let i = 0; i < 20000; i++) body += `c${i},,int,${i},db,s,t${i % 50},,false,\n`
  writeFileSync(big, body)
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `node ${bin} convert ${big} | head -2`], { encoding: 'utf8' })
  t.equal(r.status, 0, 'pipe into head exits 0')
  t.equal(r.stderr, '', 'nothing on stderr: no EPIPE trace (and the summary is not printed after EPIPE)')
  t.match(
    r.stdout,
    /^\{"__secoda_convert_stream__":\{"version":1\}\}\n\{"entity_type":"table"/,
    'into a pipe: the stream header, then records',
  )
  const bad = spawnSync('node', [bin, 'validate'], { input: 'nope\n', encoding: 'utf8' })
  t.equal(bad.status, 1)
})

t.test('demo (npm start) converts the bundled sample into out/ and validates it', async (t) => {
  const dir = join(tmp(), 'out')
  const r = await runCli(['demo', '--out-dir', dir])
  t.equal(r.code, 0, r.stderr)
  t.equal(
    readFileSync(join(dir, 'warehouse', 'columns.csv'), 'utf8'),
    readFileSync(fixture('samples', 'warehouse-columns.csv'), 'utf8'),
    'CSV → JSONL → CSV round trip of the sample',
  )
  t.match(
    r.stderr,
    /\$ (secoda-convert|node \S+) convert \S*warehouse-columns.csv --out-dir \S+\n {3}3 tables, 9 columns, no problems found\n/,
  )
  t.match(r.stderr, / {3}→ \S+resources.jsonl \([\d.]+ kB\)\n/, 'where the files are')
  t.match(
    r.stderr,
    /validate .*\n.*18 tables, 51 columns, 2 dashboards, 21 lineage edges, no problems found/,
    'everything written validates',
  )
  t.notMatch(r.stderr, /dbt\.skipped|dbt\.schema_version/, 'no internal counters')
  t.match(r.stderr, /Next, try:\n {3}(secoda-convert|node \S+) validate \S+ --json/, 'the next command to try')
  t.match(
    r.stderr,
    /server received: upload #1 .*: 200 complete, synced; resources_file=resources.jsonl \d+ bytes, lineages_file=lineage.jsonl \d+ bytes/,
    'the bundled server got the dbt output',
  )
  t.equal(r.stdout, '', 'nothing on stdout')
})

t.test('Ctrl-C aborts cleanly: exit 130, no output file, no temporary file, no stack trace', async (t) => {
  const { spawn } = await import('node:child_process')
  const bin = join(root, 'dist', 'bin', 'secoda-convert.js')
  const dir = tmp()
  const out = join(dir, 'out.jsonl')
  const child = spawn(process.execPath, [bin, 'convert', '-', '-o', out], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => {
    stderr += c
  })
  child.stdin.write('{"entity_type":"table","databuilder_id":"a","database":"d","schema":"s"}\n')
  // wait until the run is under way (its temporary output file exists)
  for (let i = 0; i < 200 && readdirSync(dir).length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(readdirSync(dir).length, 1, 'the temporary output file exists while the run is going')
  child.kill('SIGINT')
  const code = await new Promise((r) => child.on('close', (c) => r(c)))
  t.equal(code, 130)
  t.same(readdirSync(dir), [], 'nothing written')
  t.match(stderr, /error ABORTED interrupted/)
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
})
