// The scenarios of docs/upload.md "Two guards" end to end through the CLI, each with a fresh
// state directory (a CI runner's empty cache) against the bundled server with Secoda's
// documented edges switched on: empty and much smaller inputs into a populated integration,
// a native integration, 411 for chunked bodies, a 503 on a file, "None" paging links, a
// create answered 502 after creating, the CSV sort-order header, an upload without lineage
// against a server that refuses empty parts, the rate window, SIGTERM, and the key in no output.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fixture, root, runCli } from './helpers.js'
import { startTestServer, type TestServerOptions } from '../lib/testing/server.js'

const outputs: string[] = []
let keys: string[] = []

function lines(n: number): string {
  let s = ''
  for (let i = 0; i < n; i++)
    s += `${JSON.stringify({ entity_type: 'table', databuilder_id: `db.public.t${i}`, title: `t${i}`, database: 'db', schema: 'public' })}\n`
  return s
}

async function setup(t: Tap.Test, opts: TestServerOptions = {}) {
  const server = await startTestServer({ integrations: [{ name: 'shop', id: 'int-1', resources: 48 }], ...opts })
  keys.push(server.apiKey)
  const dir = mkdtempSync(path.join(tmpdir(), 'secoda-guards-'))
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const env = { SECODA_API_URL: server.url, SECODA_API_KEY: server.apiKey }
  let n = 0
  // A new state directory for every run: nothing remembered from an earlier upload.
  const fresh = (): string[] => ['--state-dir', path.join(dir, `state-${n++}`)]
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name)
    writeFileSync(p, text)
    return p
  }
  const run = async (args: string[], e: Record<string, string> = env) => {
    const r = await runCli([...args, ...fresh()], { env: e })
    outputs.push(r.stdout, r.stderr)
    return r
  }
  return { server, env, file, run }
}

t.test('a SQL file that defines no table (converts nothing) into a populated integration: UPLOAD_EMPTY, exit 1, no request', async (t) => {
  const { server, run, file } = await setup(t)
  const r = await run([
    'pg-dump',
    // a plain SQL script, not a pg_dump file (so no completion line is expected), with no CREATE
    file('no-tables.sql', "SET client_encoding = 'UTF8';\nSELECT 1;\n"),
    '--database',
    'shop',
    '--upload',
    '--integration-name',
    'shop',
  ])
  t.equal(r.code, 1, r.stderr)
  t.match(
    r.stderr,
    /error UPLOAD_EMPTY the upload carries no resources: as a sync it would archive every resource integration int-1 holds \(48 now\)/,
  )
  t.match(r.stderr, /nothing was synced: the upload was stopped before its end/)
  t.equal(server.uploads.length, 0)
  t.equal(server.integrations[0]!.resources, 48)
  const empty = await run(['upload', '-', '--integration', 'int-1', '--to', 'jsonl'])
  t.equal(empty.code, 1)
  t.match(empty.stderr, /UPLOAD_EMPTY/)
})

t.test(
  'a much smaller input into a populated integration, fresh cache: UPLOAD_STALE naming both counts; --allow-stale sends it',
  async (t) => {
    const { server, run, file } = await setup(t)
    const small = file('small.jsonl', lines(5))
    for (const chunked of [[], ['--chunked']]) {
      const r = await run(['upload', small, '--integration-name', 'shop', ...chunked])
      t.equal(r.code, 1, r.stderr)
      t.match(r.stderr, /error UPLOAD_STALE integration int-1 holds 48 resources and this upload carries 5/)
      t.match(r.stderr, /nothing was synced/)
    }
    await new Promise((r) => setTimeout(r, 100))
    t.same(
      server.uploads.filter((u) => u.complete),
      [],
    )
    const forced = await run(['upload', small, '--integration-name', 'shop', '--allow-stale', '--json'])
    t.equal(forced.code, 0, forced.stderr)
    t.match(JSON.parse(forced.stdout).upload, { server: { previous: 48, uploading: 5 }, framing: 'content-length' })
    t.equal(server.integrations[0]!.resources, 5)
    const same = await run(['upload', small, '--integration-name', 'shop'])
    t.equal(same.code, 0, 'the same input again passes: fresh cache, server count 5')
    const dry = await run(['upload', file('one.jsonl', lines(1)), '--integration', 'int-1', '--dry-run'])
    t.equal(dry.code, 1, 'a dry run with a key asks the server too')
  },
)

t.test('a count that cannot be read refuses the upload (exit 2), saying why', async (t) => {
  const { server, run, file } = await setup(t, { catalog: false })
  const r = await run(['upload', file('in.jsonl', lines(60)), '--integration', 'int-1'])
  t.equal(r.code, 2)
  t.match(r.stderr, /error UPLOAD_GUARD_UNAVAILABLE cannot read how many resources integration int-1 holds .*404/)
  t.equal(server.uploads.length, 0)
})

t.test('a native integration is refused, by id and by name', async (t) => {
  const { server, run, file } = await setup(t, { integrations: [{ name: 'snow', id: 'snow-1', type: 'snowflake', resources: 900 }] })
  const input = file('in.jsonl', lines(3))
  const r = await run(['upload', input, '--integration', 'snow-1', '--allow-stale', '--allow-empty'])
  t.equal(r.code, 2)
  t.match(r.stderr, /error INTEGRATION_NOT_CUSTOM integration snow-1 \("snow"\) is a "snowflake" integration, not a custom one/)
  const byName = await run(['upload', input, '--integration-name', 'snow'])
  t.equal(byName.code, 2)
  t.match(byName.stderr, /INTEGRATION_NOT_FOUND no custom integration is called "snow"/)
  t.equal(server.uploads.length, 0)
})

t.test('411 on chunked: --chunked fails with advice, the default sends Content-Length', async (t) => {
  const { server, run, file } = await setup(t, { rejectChunked: true, integrations: [{ name: 'shop', id: 'int-1' }] })
  // more than the live body's 256 KiB buffer: a body that has ended before the request starts
  // is sent by undici with a Content-Length, which a small input read whole at once allows
  const input = file('in.jsonl', lines(5000))
  const r = await run(['upload', input, '--integration', 'int-1', '--chunked'])
  t.equal(r.code, 2)
  t.match(r.stderr, /HTTP 411.*drop --chunked/)
  t.match(r.stderr, /nothing was synced|Secoda refused the complete upload: HTTP 411/)
  const ok = await run(['upload', input, '--integration', 'int-1'])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stderr, /\(\d+ bytes, content-length\)/)
  t.equal(server.uploads.at(-1)!.framing, 'content-length')
})

t.test('a 503 on a file upload is retried; a complete body refused is told as such', async (t) => {
  const { server, run, file } = await setup(t, { integrations: [{ name: 'shop', id: 'int-1' }] })
  const input = file('in.jsonl', lines(3))
  server.fault({ status: 503 })
  const r = await run(['upload', input, '--integration', 'int-1'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /content-length, 2 attempts/)
  server.fault({ status: 400, body: '{"detail": "bad file"}' })
  const refused = await run(['upload', input, '--integration', 'int-1'])
  t.equal(refused.code, 2)
  t.match(refused.stderr, /Secoda refused the complete upload: HTTP 400 after 1 attempt \(not retried\)/)
  t.notMatch(refused.stderr, /nothing was synced/)
  server.fault({ status: 503, times: 10 })
  const gaveUp = await run(['upload', input, '--integration', 'int-1', '--retries', '1'])
  t.match(
    gaveUp.stderr,
    /the complete upload was sent but Secoda answered HTTP 503 after 2 attempts \(retried\): whether Secoda started a sync is unknown/,
  )
})

t.test('"None" paging links, and a create answered 502 after creating', async (t) => {
  const many = Array.from({ length: 30 }, (_, i) => ({ name: `i${i}`, id: `id-${i}` }))
  const { server, run, file } = await setup(t, { noneLinks: true, pageSize: 7, integrations: [...many, { name: 'shop', id: 'int-1' }] })
  const input = file('in.jsonl', lines(3))
  const r = await run(['upload', input, '--integration-name', 'shop'])
  t.equal(r.code, 0, r.stderr)
  t.equal(server.log.filter((l) => l.startsWith('GET /api/v1/integration/integrations/')).length, 5, 'five pages, then stop at "None"')
  server.fault({ on: 'create', status: 502, afterCreate: true })
  const made = await run(['upload', input, '--integration-name', 'new', '--create', '--json'])
  t.equal(made.code, 0, made.stderr)
  t.equal(server.integrations.filter((i) => i.name === 'new').length, 1, 'created once')
  t.equal(JSON.parse(made.stdout).upload.integrationId, server.integrations.find((i) => i.name === 'new')!.id)
})

t.test('--sort-order-header applies to an uploaded CSV', async (t) => {
  const { server, run } = await setup(t, { integrations: [{ name: 'shop', id: 'int-1' }] })
  const r = await run([
    'upload',
    fixture('samples', 'warehouse-columns.csv'),
    '--integration',
    'int-1',
    '--sort-order-header',
    'sort_order',
  ])
  t.equal(r.code, 0, r.stderr)
  const [u] = await server.waitForUploads(1)
  t.match(readFileSync(u!.parts[0]!.path!, 'utf8'), /^col_name,col_description,col_type,sort_order,database,/)
})

t.test(
  'no lineage: the upload leaves the lineage part out and passes a server that refuses empty parts; --empty-lineage-part sends it',
  async (t) => {
    const { server, run, file } = await setup(t, { integrations: [{ name: 'shop', id: 'int-1' }] })
    const dir = path.dirname(file('resources.jsonl', lines(4)))
    file('lineage.jsonl', '')
    const r = await run(['upload', dir, '--integration', 'int-1'])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /no lineage edges: the lineage part was left out/)
    const forced = await run(['upload', dir, '--integration', 'int-1', '--empty-lineage-part'])
    t.equal(forced.code, 2)
    t.match(forced.stderr, /HTTP 400.*lineages_file: The submitted file is empty/)
    t.same(
      server.uploads.map((u) => u.parts.map((p) => p.name)),
      [['resources_file'], ['resources_file', 'lineages_file']],
    )
  },
)

t.test('a 429 without Retry-After waits for the rate window (printed), within --max-wait', async (t) => {
  const { server, run, file } = await setup(t, { writeLimit: 1, rateWindowMs: 300, integrations: [{ name: 'shop', id: 'int-1' }] })
  const input = file('in.jsonl', lines(3))
  t.equal((await run(['upload', input, '--integration', 'int-1', '--rate-window-ms', '300'])).code, 0)
  const r = await run(['upload', input, '--integration', 'int-1', '--rate-window-ms', '300'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /waiting: POST .*HTTP 429.*waiting [\d.]+ s for the rate window/)
  t.equal(server.uploads.filter((u) => u.synced).length, 2)
  // A window longer than --max-wait: refused at once, without waiting.
  const { server: slow, run: run2, env } = await setup(t, { writeLimit: 1, integrations: [{ name: 'shop', id: 'int-1' }] })
  t.equal((await run2(['upload', input, '--integration', 'int-1'], env)).code, 0)
  const tight = await run2(['upload', input, '--integration', 'int-1', '--max-wait', '1'], env)
  t.equal(tight.code, 2)
  t.match(tight.stderr, /HTTP 429.*the next wait \(6\d s, the rate window or Retry-After\) would exceed --max-wait 1 s/)
  t.equal(slow.uploads.filter((u) => u.synced).length, 1)
})

t.test('test-server --dir naming a missing directory fails at start-up', async (t) => {
  const r = await runCli(['test-server', '--dir', '/nonexistent/secoda-dir'])
  t.equal(r.code, 2)
  t.match(r.stderr, /USAGE .*is not an existing directory/)
})

t.test('SIGTERM during an upload: cut before the closing boundary, temporary files removed', async (t) => {
  const { server, file } = await setup(t, { integrations: [{ name: 'shop', id: 'int-1' }] })
  const tmp = mkdtempSync(path.join(tmpdir(), 'secoda-sigterm-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  server.fault({ hang: true })
  const input = file('in.jsonl', lines(2000))
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'dist', 'bin', 'secoda-convert.js'),
      'upload',
      input,
      '--integration',
      'int-1',
      '--state-dir',
      path.join(tmp, 'state'),
    ],
    {
      env: { ...process.env, TMPDIR: tmp, SECODA_API_URL: server.url, SECODA_API_KEY: server.apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (c) => {
    stderr += c
  })
  for (let i = 0; i < 200 && server.uploads.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(server.uploads.length, 1, 'the upload request is open')
  t.ok(
    readdirSync(tmp).some((f) => f.startsWith('secoda-upload-')),
    'spooled while running',
  )
  child.kill('SIGTERM')
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
  outputs.push(stderr)
  t.not(code, 0)
  t.same(
    readdirSync(tmp).filter((f) => f.startsWith('secoda-upload-')),
    [],
    'spool removed',
  )
  t.equal(server.uploads.filter((u) => u.synced).length, 0)
})

t.test('the API key appears in no output of these scenarios', async (t) => {
  t.ok(outputs.length > 20)
  for (const k of keys) for (const o of outputs) t.notOk(o.includes(k), 'no key')
  keys = []
})

t.test('test-server --integration NAME[:RESOURCES[:TYPE]]', async (t) => {
  const { parseIntegration } = await import('../lib/cli/commands/test-server.js')
  t.same(parseIntegration('demo'), { name: 'demo', resources: undefined, type: undefined })
  t.same(parseIntegration('shop:48'), { name: 'shop', resources: 48, type: undefined })
  t.same(parseIntegration('snow:10:snowflake'), { name: 'snow', resources: 10, type: 'snowflake' })
  t.throws(() => parseIntegration('shop:lots'), { code: 'USAGE' })
  const r = await runCli(['test-server', '--integration', 'shop:x'])
  t.equal(r.code, 2)
  t.match(r.stderr, /error USAGE --integration takes NAME\[:RESOURCES\[:TYPE\]\]/)
})
