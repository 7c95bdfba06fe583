// The `upload` command end to end against the bundled server: real readers and validator,
// aborts on invalid input (mid-stream and at end of stream), dry run, stale guard, and a
// check that the API key shows up in no output, log or state file.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runCli, fixture } from './helpers.js'
import { startTestServer, type TestServer } from '../lib/testing/server.js'
import { defaultUploadFormat } from '../lib/cli/commands/upload.js'
import { parseMaxStale } from '../lib/cli/upload-options.js'

function lines(n: number, from = 0): string {
  let s = ''
  for (let i = from; i < from + n; i++) {
    s +=
      JSON.stringify({
        entity_type: 'table',
        databuilder_id: `db.public.t${i}`,
        title: `t${i}`,
        database: 'db',
        schema: 'public',
        description: 'x'.repeat(100),
      }) + '\n'
  }
  return s
}

/** Wait (up to 5 s) until every request the server saw is over, and a little longer for late ones. */
async function allEnded(server: TestServer): Promise<void> {
  await new Promise((res) => setTimeout(res, 100))
  for (let i = 0; i < 100 && !server.uploads.every((u) => u.ended); i++) await new Promise((res) => setTimeout(res, 50))
  if (!server.uploads.every((u) => u.ended)) throw new Error('a request never ended')
}

async function setup(t: Tap.Test) {
  const server = await startTestServer({ integrations: [{ name: 'warehouse', id: 'int-1' }] })
  const dir = mkdtempSync(path.join(tmpdir(), 'secoda-cli-upload-'))
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const env = { SECODA_API_URL: server.url, SECODA_API_KEY: server.apiKey }
  const state = ['--state-dir', path.join(dir, 'state')]
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name)
    writeFileSync(p, text)
    return p
  }
  return { server, dir, env, state, file }
}

t.test('upload a split JSONL directory by integration id', async (t) => {
  const { server, env, state, file, dir } = await setup(t)
  file('resources.jsonl', lines(3))
  file(
    'lineage.jsonl',
    JSON.stringify({
      from_identifier: { type: 'internal_resource', databuilder_id: 'db.public.t0' },
      to_identifier: { type: 'internal_resource', databuilder_id: 'db.public.t1' },
    }) + '\n',
  )
  const r = await runCli(['upload', dir, '--integration', 'int-1', ...state], { env })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /uploaded 3 resources and 1 lineage edge \(\d+ bytes, content-length\) to integration int-1: HTTP 200/)
  t.match(r.stderr, /server-side guard: the integration held 0 resources; this upload carries 3/)
  t.match(r.stderr, /stale guard: 3 added, 0 kept, 0 will be archived/)
  const [u] = await server.waitForUploads(1)
  t.ok(u!.synced)
  t.equal(readFileSync(u!.parts[0]!.path!, 'utf8').split('\n').length, 4)
  t.equal(readFileSync(u!.parts[1]!.path!, 'utf8').split('\n').length, 2)
})

t.test('upload the bundled CSV sample by name with --create and --spool, JSON result on stdout', async (t) => {
  const { server, env, state } = await setup(t)
  const r = await runCli(
    [
      'upload',
      fixture('samples', 'warehouse-columns.csv'),
      '--integration-name',
      'fresh',
      '--create',
      '--team',
      'analytics',
      '--spool',
      '--json',
      ...state,
    ],
    { env },
  )
  t.equal(r.code, 0, r.stderr)
  const made = server.integrations.find((i) => i.name === 'fresh')!
  t.match(made, { type: 'custom', teams: ['analytics'] })
  t.match(r.stderr, new RegExp(`integration "fresh": ${made.id} \\(created\\)`))
  const result = JSON.parse(r.stdout)
  t.match(result, {
    command: 'upload',
    valid: true,
    upload: { synced: true, integrationId: made.id, endpoint: 'import_metadata', framing: 'content-length', status: 200, retries: 0 },
  })
  const [u] = await server.waitForUploads(1)
  t.same(
    u!.parts.map((p) => p.name),
    ['file'],
  )
  t.match(
    readFileSync(u!.parts[0]!.path!, 'utf8'),
    /^col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time\n/,
  )
})

t.test('an invalid record mid-stream: exit 1 with its line, the server never gets a complete body', async (t) => {
  const { server, env, state, file } = await setup(t)
  const input = file('in.jsonl', lines(5000) + '{"entity_type":"table","title":"no id"}\n' + lines(5000, 5000))
  const r = await runCli(['upload', input, '--integration', 'int-1', '--max-errors', '1', ...state], { env })
  t.equal(r.code, 1)
  t.match(r.stderr, /in\.jsonl:5001: error FIELD_REQUIRED/)
  t.match(r.stderr, /nothing was synced/)
  await allEnded(server)
  t.same(
    server.uploads.filter((u) => u.complete || u.synced),
    [],
  )
})

t.test('an error known only at end of stream (dangling parent), --chunked: exit 1, incomplete body', async (t) => {
  const { server, env, state, file } = await setup(t)
  const dangling =
    JSON.stringify({ entity_type: 'column', databuilder_id: 'db.public.gone.c', parent_databuilder_id: 'db.public.gone', title: 'c' }) +
    '\n'
  const input = file('in.jsonl', dangling + lines(10000))
  const r = await runCli(['upload', input, '--integration', 'int-1', '--chunked', ...state], { env })
  t.equal(r.code, 1)
  t.match(r.stderr, /in\.jsonl:1: error PARENT_MISSING/)
  await allEnded(server)
  t.ok(server.uploads.length >= 1, 'the body was being streamed when the end-of-stream check failed')
  t.same(
    server.uploads.filter((u) => u.complete || u.synced),
    [],
  )
  t.ok(server.uploads[0]!.bytes > 64 * 1024)
})

t.test('dry run needs no key for a known id and sends nothing; the stale guard refuses and --allow-stale overrides', async (t) => {
  const { server, env, state, file } = await setup(t)
  const input = file('in.jsonl', lines(100))
  const dry = await runCli(['upload', input, '--integration', 'int-1', '--dry-run', ...state], { env: { SECODA_API_URL: server.url } })
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stderr, /dry run: would upload 100 resources and 0 lineage edges \(\d+ bytes\) to integration int-1/)
  t.match(dry.stderr, /stale guard: 100 added, 0 kept, 0 would be archived/)
  t.equal(server.uploads.length, 0)
  t.equal((await runCli(['upload', input, '--integration', 'int-1', ...state], { env })).code, 0)
  const half = file('half.jsonl', lines(50))
  const refused = await runCli(['upload', half, '--integration', 'int-1', ...state], { env })
  t.equal(refused.code, 1)
  // The server-side guard sees it first: the integration holds 100, the upload carries 50.
  t.match(refused.stderr, /error UPLOAD_STALE integration int-1 holds 100 resources and this upload carries 50/)
  const dryStale = await runCli(['upload', half, '--integration', 'int-1', '--dry-run', ...state], { env })
  t.equal(dryStale.code, 1, 'a dry run reports the refusal too')
  const forced = await runCli(['upload', half, '--integration', 'int-1', '--allow-stale', ...state], { env })
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stderr, /0 added, 50 kept, 50 will be archived/)
  await new Promise((res) => setTimeout(res, 50))
  t.same(server.uploads.filter((u) => u.synced).length, 2)
})

t.test('usage and configuration errors exit 2', async (t) => {
  const { server, env, file } = await setup(t)
  const input = file('in.jsonl', lines(1))
  t.match(await runCli(['upload', input], { env }), { code: 2, stderr: /--integration ID or --integration-name NAME/ })
  t.match(await runCli(['upload', input, '--integration', 'x'], { env: { SECODA_API_URL: server.url } }), {
    code: 2,
    stderr: /UPLOAD_CONFIG no API key/,
  })
  t.match(await runCli(['upload', input, '--integration', 'x', '--api-url', 'http://example.com/api/v1'], { env }), {
    code: 2,
    stderr: /refusing plain http/,
  })
  t.match(await runCli(['upload', input, '--integration-name', 'nope'], { env }), { code: 2, stderr: /INTEGRATION_NOT_FOUND/ })
  t.match(await runCli(['upload', input, '--integration', 'x', '--max-stale', 'lots'], { env }), { code: 2, stderr: /--max-stale/ })
  t.equal(server.uploads.length, 0)
})

t.test('the API key appears in no output, debug log or state file', async (t) => {
  const { server, env, state, file, dir } = await setup(t)
  const key = server.apiKey
  const keyFile = file('key', key + '\n')
  const input = file('in.jsonl', lines(20))
  const runs = [
    await runCli(['upload', input, '--integration', 'int-1', '--verbose', '--json', ...state], { env }),
    await runCli(['upload', input, '--integration-name', 'warehouse', '--verbose', '--api-key-file', keyFile, ...state], {
      env: { SECODA_API_URL: server.url },
    }),
    await runCli(['upload', input, '--integration', 'int-1', '--verbose', '--api-key', key, ...state], {
      env: { SECODA_API_URL: server.url },
    }),
    await runCli(['upload', input, '--integration', 'int-1', '--verbose', '--spool', ...state], {
      env: { ...env, SECODA_API_KEY: key + 'x' },
    }),
    await runCli(['upload', file('bad.jsonl', lines(5) + '{}\n'), '--integration', 'int-1', '--verbose', ...state], { env }),
  ]
  t.same(
    runs.map((r) => r.code),
    [0, 0, 0, 2, 1],
  )
  t.match(runs[2]!.stderr, /warning UPLOAD_CONFIG --api-key puts the key in shell history/)
  t.match(runs[3]!.stderr, /UPLOAD_AUTH/)
  t.match(runs[0]!.stderr, /debug POST/)
  for (const r of runs) {
    t.notOk(r.stdout.includes(key), 'stdout')
    t.notOk(r.stderr.includes(key), 'stderr')
  }
  const stateDir = state[1]!
  for (const f of readdirSync(stateDir)) t.notOk(readFileSync(path.join(stateDir, f)).includes(key), `state file ${f}`)
  t.ok(readdirSync(stateDir).length > 0)
  t.ok(dir)
})

t.test('helpers: default upload format and --max-stale parsing', async (t) => {
  t.equal(defaultUploadFormat(['a.csv', 'b.CSV.gz']), 'csv')
  t.equal(defaultUploadFormat(['a.csv', 'b.jsonl']), 'jsonl')
  t.equal(defaultUploadFormat([]), 'jsonl')
  t.equal(parseMaxStale('10%'), 0.1)
  t.equal(parseMaxStale('0.25'), 0.25)
  t.equal(parseMaxStale('5'), 0.05)
  t.equal(parseMaxStale('0'), 0)
  t.throws(() => parseMaxStale('-1'), { code: 'USAGE' })
  t.throws(() => parseMaxStale('150%'), { code: 'USAGE' })
})

t.test('demoUpload (the npm start step) uploads a directory to a fresh server and says what arrived', async (t) => {
  const { demoUpload } = await import('../lib/cli/upload-demo.js')
  const { PassThrough, Writable } = await import('node:stream')
  const dir = mkdtempSync(path.join(tmpdir(), 'secoda-demo-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(path.join(dir, 'resources.jsonl'), lines(4))
  writeFileSync(path.join(dir, 'lineage.jsonl'), '')
  let err = ''
  const io = {
    stdin: new PassThrough(),
    stdout: new Writable({ write: (_c, _e, cb) => cb() }),
    stderr: new Writable({
      write(c, _e, cb) {
        err += c.toString()
        cb()
      },
    }),
    env: {},
  }
  await demoUpload({ io, run: { exitCode: 0 }, 'max-errors': 20 }, dir)
  t.match(err, /uploaded 4 resources and 0 lineage edges/)
  t.match(
    err,
    /server received: upload #1 to [\w-]+\/import_jsonl_metadata\/: 200 complete, synced; resources_file=resources\.jsonl \d+ bytes\n/,
    'no lineage: the empty lineage part is left out',
  )
})

t.test('--upload on a conversion command: dbt → validation → upload in one stream', async (t) => {
  const { server, env, state } = await setup(t)
  const r = await runCli(
    [
      'dbt',
      fixture('samples', 'dbt', 'manifest.json'),
      '--catalog',
      fixture('samples', 'dbt', 'catalog.json'),
      '--upload',
      '--integration-name',
      'warehouse',
      ...state,
    ],
    { env },
  )
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '', 'nothing written to stdout')
  t.match(r.stderr, /uploaded 14 resources and 7 lineage edges \(\d+ bytes, content-length\) to integration int-1: HTTP 200/)
  const [u] = await server.waitForUploads(1)
  t.ok(u!.complete && u!.synced)
  t.equal(
    readFileSync(u!.parts[0]!.path!, 'utf8'),
    readFileSync(fixture('dbt', 'v7-exposures', 'expected.resources.jsonl'), 'utf8'),
    'the server got exactly the converted resources',
  )
  t.equal(
    readFileSync(u!.parts[1]!.path!, 'utf8'),
    readFileSync(fixture('dbt', 'v7-exposures', 'expected.lineage.jsonl'), 'utf8'),
    'and the lineage',
  )
})

t.test('--upload on a conversion that fails: nothing is synced', async (t) => {
  const { server, env, state, file } = await setup(t)
  // a pg_dump whose view reads a table, then a statement cut off in a string: SQL_UNTERMINATED at the end
  const dump = file('bad.sql', "CREATE TABLE public.a (id integer);\nCOMMENT ON TABLE public.a IS 'unterminated;\n")
  const r = await runCli(['pg-dump', dump, '--database', 'shop', '--upload', '--integration', 'int-1', ...state], { env })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /SQL_UNTERMINATED/)
  t.match(r.stderr, /nothing was synced/)
  await allEnded(server)
  t.notOk(
    server.uploads.some((u) => u.synced),
    'no sync',
  )
  t.notOk(
    server.uploads.some((u) => u.complete),
    'no complete body reached the server',
  )
})

t.test('--upload conflicts with file outputs', async (t) => {
  const r = await runCli(['convert', fixture('samples', 'warehouse-columns.csv'), '--upload', '--integration', 'x', '-o', 'f.jsonl'])
  t.equal(r.code, 2)
  t.match(r.stderr, /error USAGE .*mutually exclusive/)
})
