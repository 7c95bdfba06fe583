import t from 'tap'
import { readFileSync, readdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { startTestServer } from '../lib/testing/server.js'
import { SecodaClient, resolveApiSettings } from '../lib/upload/http.js'
import { createUploadSink, uploadRecords, type UploadOptions } from '../lib/upload/sink.js'
import { serializeRecord, internalId, type SecodaRecord, type Resource, type LineageEdge } from '../lib/records.js'
import { SecodaError } from '../lib/errors.js'

function table(db: string, schema: string, name: string): Resource {
  return { entity_type: 'table', databuilder_id: `${db}.${schema}.${name}`, title: name, database: db, schema, native_type: 'table' }
}
function column(tableId: string, name: string, i: number): Resource {
  return {
    entity_type: 'column',
    databuilder_id: `${tableId}.${name}`,
    parent_databuilder_id: tableId,
    title: name,
    type: 'integer',
    sort_order: i,
  }
}
function edge(from: string, to: string): LineageEdge {
  return { from_identifier: internalId(from), to_identifier: internalId(to) }
}
function sample(nTables = 3, nCols = 4): SecodaRecord[] {
  const out: SecodaRecord[] = []
  for (let i = 0; i < nTables; i++) {
    const tb = table('db', 'public', `t${i}`)
    out.push(tb)
    for (let c = 0; c < nCols; c++) out.push(column(tb.databuilder_id, `c${c}`, c + 1))
    if (i > 0) out.push(edge(`db.public.t${i - 1}`, tb.databuilder_id))
  }
  return out
}
const jsonl = (rs: SecodaRecord[]): string => rs.map((r) => serializeRecord(r) + '\n').join('')

async function setup(t: Tap.Test, opts: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer({ integrations: [{ name: 'warehouse', id: 'int-1' }], ...opts })
  const stateDir = mkdtempSync(path.join(tmpdir(), 'secoda-state-'))
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), {
    baseDelayMs: 5,
    maxDelayMs: 200,
  })
  t.teardown(async () => {
    await client.close()
    await server.close()
    rmSync(stateDir, { recursive: true, force: true })
  })
  const options = (o: Partial<UploadOptions> = {}): UploadOptions => ({ client, integrationId: 'int-1', stale: { stateDir }, ...o })
  return { server, client, stateDir, options }
}

t.test('clean JSONL upload with --chunked: the server receives exactly the two files, chunked', async (t) => {
  const { server, options } = await setup(t)
  const records = sample()
  const result = await uploadRecords(Readable.from(records), options({ chunked: true }))
  t.equal(result.status, 200)
  t.equal(result.framing, 'chunked')
  t.equal(result.resources, 15)
  t.equal(result.lineage, 2)
  const [u] = await server.waitForUploads(1)
  t.ok(u!.complete)
  t.ok(u!.synced)
  t.equal(u!.framing, 'chunked')
  t.same(
    u!.parts.map((p) => [p.name, p.filename]),
    [
      ['resources_file', 'resources.jsonl'],
      ['lineages_file', 'lineage.jsonl'],
    ],
  )
  t.equal(readFileSync(u!.parts[0]!.path!, 'utf8'), jsonl(records.filter((r) => !('from_identifier' in r))))
  t.equal(readFileSync(u!.parts[1]!.path!, 'utf8'), jsonl(records.filter((r) => 'from_identifier' in r)))
  t.equal(u!.bytes, result.bytes)
})

t.test('by default a JSONL upload is spooled and sent with Content-Length', async (t) => {
  const { server, options } = await setup(t)
  const records = sample()
  const result = await uploadRecords(Readable.from(records), options())
  t.equal(result.framing, 'content-length')
  const [u] = await server.waitForUploads(1)
  t.ok(u!.synced)
  t.equal(u!.framing, 'content-length')
  t.equal(u!.contentLength, result.bytes)
  t.equal(readFileSync(u!.parts[0]!.path!, 'utf8'), jsonl(records.filter((r) => !('from_identifier' in r))))
})

t.test('an error mid-stream aborts the request before the closing boundary', async (t) => {
  const { server, options, stateDir } = await setup(t)
  const records = sample(200, 10)
  let n = 0
  const failing = new Transform({
    objectMode: true,
    transform(r, _e, cb) {
      // Fail only once the server has seen part of the body, so the abort is mid-body.
      if (++n === 1500)
        return void until(() => (server.uploads[0]?.bytes ?? 0) > 0).then(() =>
          cb(new SecodaError('FIELD_REQUIRED', 'missing title', { line: 1500 })),
        )
      cb(null, r)
    },
  })
  const err = await pipeline(Readable.from(records), failing, createUploadSink(options({ chunked: true }))).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(err, { code: 'FIELD_REQUIRED', line: 1500 })
  const [u] = await server.waitForUploads(1)
  t.equal(u!.complete, false)
  t.equal(u!.synced, false)
  t.ok(u!.bytes > 0, 'part of the body had been streamed')
  t.same(readdirSafe(stateDir), [], 'no state stored')
})

t.test('an error at end of stream (validator flush) aborts before the closing boundary', async (t) => {
  const { server, options } = await setup(t)
  const failAtEnd = new Transform({
    objectMode: true,
    transform(r, _e, cb) {
      cb(null, r)
    },
    flush(cb) {
      void until(() => (server.uploads[0]?.bytes ?? 0) > 0).then(() =>
        cb(new SecodaError('PARENT_MISSING', 'dangling parent', { line: 3 })),
      )
    },
  })
  const err = await pipeline(Readable.from(sample()), failAtEnd, createUploadSink(options({ chunked: true }))).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(err, { code: 'PARENT_MISSING' })
  const [u] = await server.waitForUploads(1)
  t.equal(u!.complete, false)
  t.equal(u!.synced, false)
  t.ok(u!.bytes > 0)
})

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d)
  } catch {
    return []
  }
}

t.test('clean CSV upload: one part named file, rows per column', async (t) => {
  const { server, options } = await setup(t)
  const tb = table('db', 'public', 'orders')
  tb.description = 'has "quotes", commas\nand a newline'
  const records: SecodaRecord[] = [
    tb,
    column(tb.databuilder_id, 'id', 1),
    column(tb.databuilder_id, 'amount', 2),
    edge('db.public.orders', 'db.public.orders.id'),
  ]
  const result = await uploadRecords(Readable.from(records), options({ format: 'csv' }))
  t.equal(result.endpoint, 'import_metadata')
  const [u] = await server.waitForUploads(1)
  t.ok(u!.synced)
  t.same(
    u!.parts.map((p) => p.name),
    ['file'],
  )
  t.equal(
    readFileSync(u!.parts[0]!.path!, 'utf8'),
    'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time\n' +
      'id,,integer,1,db,public,orders,"has ""quotes"", commas\nand a newline",false,\n' +
      'amount,,integer,2,db,public,orders,"has ""quotes"", commas\nand a newline",false,\n',
  )
})

t.test('spooled CSV upload with a configured part name and Content-Length', async (t) => {
  const { server, options } = await setup(t, { csvPart: 'csv_file' })
  const result = await uploadRecords(Readable.from(sample(2, 2)), options({ format: 'csv', parts: { csv: 'csv_file' } }))
  const [u] = await server.waitForUploads(1)
  t.ok(u!.synced)
  t.equal(u!.framing, 'content-length')
  t.equal(u!.contentLength, result.bytes)
  t.equal(readFileSync(u!.parts[0]!.path!, 'utf8').split('\n').length, 6, 'header + 4 rows + final newline')
})

t.test('configured JSONL part names; the server refuses unexpected ones', async (t) => {
  const { server, options } = await setup(t, { jsonlParts: ['resources', 'lineages'] })
  await uploadRecords(Readable.from(sample()), options({ parts: { resources: 'resources', lineage: 'lineages' } }))
  const err = await uploadRecords(Readable.from(sample()), options()).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_HTTP', message: /HTTP 400.*unexpected part "resources_file"/ })
  const ups = await server.waitForUploads(2)
  t.same(
    ups.map((u) => [u.complete, u.synced]),
    [
      [true, true],
      [true, false],
    ],
  )
})

t.test('429 with Retry-After and 503 are retried for a spooled body', async (t) => {
  const { server, options, client } = await setup(t)
  server.fault({ status: 429, retryAfter: 0 })
  server.fault({ status: 503 })
  const result = await uploadRecords(Readable.from(sample()), options())
  t.equal(result.attempts, 3)
  const ups = await server.waitForUploads(3)
  t.same(
    ups.map((u) => [u.status, u.complete, u.synced]),
    [
      [429, true, false],
      [503, true, false],
      [200, true, true],
    ],
  )
  t.same(
    ups.map((u) => u.parts[0]!.sha256),
    Array(3).fill(ups[2]!.parts[0]!.sha256),
    'the same bytes each time',
  )
  t.ok(client.options.maxAttempts >= 3)
})

t.test('a --chunked live stream is not retried: the message suggests dropping --chunked', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ status: 502 })
  const err = await uploadRecords(Readable.from(sample()), options({ chunked: true })).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_HTTP', message: /HTTP 502.*not retried.*drop --chunked/ })
  t.equal((await server.waitForUploads(1)).length, 1)
  t.equal(server.uploads.length, 1, 'exactly one request')
})

t.test('a connection reset mid-body is retried for a spooled body', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ resetAfterBytes: 200 })
  const result = await uploadRecords(Readable.from(sample(50, 5)), options())
  t.equal(result.attempts, 2)
  const ups = await server.waitForUploads(2)
  t.same(
    ups.map((u) => [u.complete, u.synced]),
    [
      [false, false],
      [true, true],
    ],
  )
})

t.test('a connection reset on a live stream fails with UPLOAD_NETWORK and no sync', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ resetAfterBytes: 100 })
  const err = await uploadRecords(Readable.from(sample(50, 5)), options({ chunked: true })).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_NETWORK', message: /--chunked/ })
  const [u] = await server.waitForUploads(1)
  t.equal(u!.complete, false)
  t.equal(server.uploads.filter((x) => x.synced).length, 0)
})

t.test('retries give up after maxAttempts', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ status: 504, times: 10 })
  const err = await uploadRecords(Readable.from(sample()), options()).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_HTTP', message: /HTTP 504.*gave up after 5 attempts/ })
  t.equal((await server.waitForUploads(5)).length, 5)
})

t.test('a stalled server ends in a timeout, not a hang', async (t) => {
  const { server, options } = await setup(t)
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), {
    headersTimeoutMs: 300,
    maxAttempts: 1,
  })
  t.teardown(() => client.close())
  server.fault({ hang: true })
  const err = await uploadRecords(Readable.from(sample()), options({ client })).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_NETWORK', message: /HEADERS_TIMEOUT/ })
})

t.test('a server that stalls briefly before reading still gets a complete upload', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ stallMs: 150 })
  const result = await uploadRecords(Readable.from(sample()), options())
  t.equal(result.status, 200)
  t.ok((await server.waitForUploads(1))[0]!.synced)
})

t.test('401 and 403 say what to check; not retried', async (t) => {
  const { server, options } = await setup(t)
  const bad = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: 'wrong-key-123456' } }))
  t.teardown(() => bad.close())
  // A wrong key fails at the first request, the catalog count: no upload request follows.
  const err = (await uploadRecords(Readable.from(sample()), options({ client: bad })).catch((e: unknown) => e)) as SecodaError
  t.match(err, { code: 'UPLOAD_AUTH', message: /401.*API key.*region.*rights/ })
  t.notMatch(err.message, /wrong-key-123456/)
  t.equal(server.uploads.length, 0)
  server.fault({ status: 403 })
  const err2 = await uploadRecords(Readable.from(sample()), options()).catch((e: unknown) => e)
  t.match(err2, { code: 'UPLOAD_AUTH', message: /403 forbidden/ })
  t.equal((await server.waitForUploads(1)).length, 1, 'one request, not retried')
})

t.test('a slow-reading server holds the client back (backpressure), and the upload completes', async (t) => {
  const { server, options } = await setup(t)
  // Stop reading after 1 MB for 1.5 s; the producer could make 40 MB meanwhile.
  server.fault({ stallAfterBytes: 1_000_000, stallMs: 1500 })
  let produced = 0
  const big = 'x'.repeat(1000)
  async function* gen() {
    for (let i = 0; i < 40_000; i++) {
      const r = { entity_type: 'table', databuilder_id: `db.s.t${i}`, database: 'db', schema: 's', description: big } as Resource
      produced += serializeRecord(r).length + 1
      yield r
    }
  }
  const done = pipeline(Readable.from(gen()), createUploadSink(options({ stale: false, chunked: true })))
  // Wait until the server has read up to its stall point (the request opens after the
  // catalog count, which a loaded machine may delay), then give the producer time to run ahead.
  await until(() => (server.uploads[0]?.bytes ?? 0) >= 1_000_000, 60_000)
  await new Promise((r) => setTimeout(r, 1000))
  // Bounded by the buffers on the way (16 records, a 64 KiB chunk, the 256 KiB body
  // buffer, undici's and the kernel's socket buffers), not by the input size.
  const ahead = produced - server.uploads[0]!.bytes
  t.ok(ahead < 12_000_000, `producer ahead of the server by ${ahead} bytes while it stalls`)
  t.ok(produced < 20_000_000, `producer paused (${produced} bytes produced)`)
  await done
  const [u] = await server.waitForUploads(1)
  t.ok(u!.synced)
  t.ok(u!.parts[0]!.bytes >= 40_000_000)
})

t.test('local stale guard: refuses to archive more than --max-stale, allows with allowStale, reports counts', async (t) => {
  const { server, options: base } = await setup(t)
  // The local guard alone (the server-side one has its own tests).
  const options = (o: Partial<UploadOptions> = {}): UploadOptions => base({ serverGuard: false, ...o })
  const first = await uploadRecords(Readable.from(sample(10, 9)), options())
  t.same(first.stale, { added: 100, kept: 0, archived: 0, previous: 0 })
  // 5 tables of 10 (50 of 100 ids) missing: refused, before the closing boundary.
  const err = await uploadRecords(Readable.from(sample(5, 9)), options()).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_STALE', message: /archive 50 of the 100.*50%.*--allow-stale/ })
  await new Promise((r) => setTimeout(r, 100))
  // The refused request may have been cut before the server saw any of it; either way
  // nothing after the first upload arrived complete.
  t.same(
    server.uploads.slice(1).filter((u) => u.complete),
    [],
  )
  const seen = server.uploads.length
  // Within the limit: 1 table of 10 missing = 10%, plus one new table.
  const recs = sample(10, 9).filter(
    (r) => !('databuilder_id' in r && r.databuilder_id.startsWith('db.public.t9')) && !('from_identifier' in r),
  )
  recs.push(table('db', 'public', 'new'))
  const ok = await uploadRecords(Readable.from(recs), options())
  t.same(ok.stale, { added: 1, kept: 90, archived: 10, previous: 100 })
  // --allow-stale: refused count goes through.
  const forced = await uploadRecords(
    Readable.from(sample(1, 0)),
    options({ stale: { stateDir: (options().stale as { stateDir: string }).stateDir, allowStale: true } }),
  )
  t.same(forced.stale, { added: 0, kept: 1, archived: 90, previous: 91 })
  const ups = await server.waitForUploads(seen + 2)
  t.same(
    ups.map((u) => u.synced),
    [true, ...Array(seen - 1).fill(false), true, true],
  )
})

t.test('dry run: encodes and checks everything, sends nothing, stores nothing', async (t) => {
  const { server, options, stateDir } = await setup(t)
  const live = await uploadRecords(Readable.from(sample()), options({ stale: false }))
  const result = await uploadRecords(Readable.from(sample()), options({ dryRun: true }))
  t.equal(result.dryRun, true)
  t.equal(result.status, undefined)
  t.equal(result.resources, 15)
  t.equal(result.framing, 'content-length')
  t.equal(result.bytes, live.bytes, 'same body size as a real upload')
  t.same(result.stale, { added: 15, kept: 0, archived: 0, previous: 0 })
  t.equal(server.uploads.length, 1, 'only the real upload reached the server')
  t.same(readdirSafe(stateDir), [])
})

t.test('an AbortSignal cuts the request before the closing boundary', async (t) => {
  const { server, options } = await setup(t)
  const ac = new AbortController()
  async function* gen() {
    for (const r of sample(100, 5)) yield r
    await until(() => (server.uploads[0]?.bytes ?? 0) > 0)
    ac.abort()
    await new Promise((r) => setTimeout(r, 1000))
  }
  const err = await uploadRecords(Readable.from(gen()), options({ signal: ac.signal, chunked: true })).catch((e: unknown) => e)
  t.match(err, { code: 'ABORTED' })
  const [u] = await server.waitForUploads(1)
  t.equal(u!.complete, false)
})

t.test('large records against a stalling server: one drain wait at a time, no listener pile-up', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ stallAfterBytes: 200_000, stallMs: 500 })
  const warnings: Error[] = []
  const onWarning = (w: Error): void => {
    warnings.push(w)
  }
  process.on('warning', onWarning)
  t.teardown(() => {
    process.off('warning', onWarning)
  })
  const desc = 'y'.repeat(8000)
  const records = Array.from(
    { length: 2000 },
    (_, i) => ({ entity_type: 'table', databuilder_id: `db.s.w${i}`, database: 'db', schema: 's', description: desc }) as Resource,
  )
  const result = await uploadRecords(Readable.from(records), options({ stale: false, chunked: true }))
  t.equal(result.resources, 2000)
  t.same(
    warnings.map((w) => w.name),
    [],
  )
})

t.test('an input that fails before its first record costs no request', async (t) => {
  const { server, options } = await setup(t)
  const failing = new Readable({
    objectMode: true,
    read() {
      this.destroy(new SecodaError('INPUT_NOT_FOUND', 'cannot open input: no such file: x.jsonl', { file: 'x.jsonl' }))
    },
  })
  const err = await uploadRecords(failing, options({ chunked: true })).catch((e: unknown) => e)
  t.match(err, { code: 'INPUT_NOT_FOUND' })
  await new Promise((r) => setTimeout(r, 100))
  t.equal(server.uploads.length, 0)
})

t.test(
  'server-side guard: a fresh-cache upload of a much smaller input into a populated integration is refused before the closing boundary',
  async (t) => {
    for (const chunked of [false, true]) {
      const { server, options } = await setup(t, { integrations: [{ name: 'warehouse', id: 'int-1', resources: 48 }] })
      const err = await uploadRecords(Readable.from(sample(1, 2)), options({ chunked })).catch((e: unknown) => e)
      t.match(err, { code: 'UPLOAD_STALE', message: /integration int-1 holds 48 resources and this upload carries 3.*archive about 45/ })
      await new Promise((r) => setTimeout(r, 100))
      t.same(
        server.uploads.filter((u) => u.complete || u.synced),
        [],
        `nothing complete (${chunked ? 'chunked' : 'spooled'})`,
      )
      if (!chunked) t.equal(server.uploads.length, 0, 'spooled: no request at all')
      t.equal(server.integrations[0]!.resources, 48)
      // Within --max-stale (10%): 44 of 48 is 8% fewer.
      const ok = await uploadRecords(Readable.from(sample(4, 10)), options({ chunked }))
      t.match(ok.server, { previous: 48, uploading: 44 })
      const forced = await uploadRecords(
        Readable.from(sample(1, 0)),
        options({ chunked, stale: { stateDir: (options().stale as { stateDir: string }).stateDir, allowStale: true } }),
      )
      t.match(forced.server, { previous: 44, uploading: 1 })
    }
  },
)

t.test('server-side guard: a count that cannot be read refuses the upload, saying why; --allow-stale goes on without it', async (t) => {
  const { server, options } = await setup(t, { catalog: false })
  const err = await uploadRecords(Readable.from(sample()), options()).catch((e: unknown) => e)
  t.match(err, {
    code: 'UPLOAD_GUARD_UNAVAILABLE',
    message: /cannot read how many resources integration int-1 holds \(.*HTTP 404.*--allow-stale/,
  })
  t.equal(server.uploads.length, 0)
  const stateDir = (options().stale as { stateDir: string }).stateDir
  const forced = await uploadRecords(Readable.from(sample()), options({ stale: { stateDir, allowStale: true } }))
  t.match(forced.server, { skipped: /--allow-stale.*404/ })
  server.fault({ on: 'catalog', status: 403 })
  t.match(await uploadRecords(Readable.from(sample()), options()).catch((e: unknown) => e), {
    code: 'UPLOAD_GUARD_UNAVAILABLE',
    message: /403/,
  })
})

t.test('no empty syncs: zero resources is UPLOAD_EMPTY before any request; allowEmpty sends it', async (t) => {
  const { server, options } = await setup(t, { integrations: [{ name: 'warehouse', id: 'int-1', resources: 48 }] })
  for (const chunked of [false, true]) {
    const err = await uploadRecords(Readable.from([edge('a.b.c', 'a.b.d')]), options({ chunked })).catch((e: unknown) => e)
    t.match(err, {
      code: 'UPLOAD_EMPTY',
      message: /no resources.*archive every resource integration int-1 holds \(48 now\).*--allow-empty/,
    })
  }
  const csvErr = await uploadRecords(
    Readable.from([{ entity_type: 'schema', databuilder_id: 'db.s', title: 's' } as Resource]),
    options({ format: 'csv' }),
  ).catch((e: unknown) => e)
  t.match(csvErr, { code: 'UPLOAD_EMPTY', message: /the CSV format dropped all 1/ })
  await new Promise((r) => setTimeout(r, 100))
  t.same(
    server.uploads.filter((u) => u.complete),
    [],
  )
  // Deliberately empty, into an empty integration: sent (and the server refuses the empty file part).
  const { server: s2, options: o2 } = await setup(t)
  const sink = createUploadSink(o2({ allowEmpty: true }))
  const err2 = await pipeline(Readable.from([]), sink).catch((e: unknown) => e)
  t.match(err2, { code: 'UPLOAD_HTTP', message: /HTTP 400.*The submitted file is empty/ })
  t.same(sink.progress, { closingBoundarySent: true, attempts: 1 }, 'the complete body went out and was refused')
  t.equal(s2.uploads[0]!.complete, true)
})

t.test(
  'no lineage: the lineage part is left out by default; emptyLineagePart sends it (and Python form handling refuses it)',
  async (t) => {
    const { server, options } = await setup(t)
    const records = sample(2, 2).filter((r) => !('from_identifier' in r))
    const r1 = await uploadRecords(Readable.from(records), options())
    t.equal(r1.lineagePart, false)
    const r2 = await uploadRecords(Readable.from(records), options({ chunked: true }))
    t.equal(r2.lineagePart, false)
    const ups = await server.waitForUploads(2)
    t.same(
      ups.map((u) => [u.synced, u.parts.map((p) => p.name)]),
      [
        [true, ['resources_file']],
        [true, ['resources_file']],
      ],
    )
    const err = await uploadRecords(Readable.from(records), options({ emptyLineagePart: true })).catch((e: unknown) => e)
    t.match(err, { code: 'UPLOAD_HTTP', message: /400.*lineages_file: The submitted file is empty/ })
  },
)

t.test('spool files: exclusive, unpredictable names, mode 0600, removed after success and after an error', async (t) => {
  const { server, options } = await setup(t)
  const tmp = mkdtempSync(path.join(tmpdir(), 'secoda-spool-test-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  server.fault({ stallMs: 300 })
  const done = uploadRecords(Readable.from(sample(20, 5)), options({ tmpDir: tmp }))
  await until(() => server.uploads.length > 0)
  const [spool] = readdirSync(tmp)
  t.match(spool, /^secoda-upload-\w{6}$/)
  t.equal(statSync(path.join(tmp, spool!)).mode & 0o777, 0o700)
  for (const f of readdirSync(path.join(tmp, spool!))) t.equal(statSync(path.join(tmp, spool!, f)).mode & 0o777, 0o600, f)
  await done
  t.same(readdirSync(tmp), [], 'removed after success')
  server.fault({ status: 400 })
  await uploadRecords(Readable.from(sample()), options({ tmpDir: tmp })).catch(() => undefined)
  t.same(readdirSync(tmp), [], 'removed after an error')
  const failing = new Transform({
    objectMode: true,
    transform(_r, _e, cb) {
      cb(new SecodaError('FIELD_REQUIRED', 'x'))
    },
  })
  await pipeline(Readable.from(sample()), failing, createUploadSink(options({ tmpDir: tmp }))).catch(() => undefined)
  t.same(readdirSync(tmp), [], 'removed after an input error')
})

t.test('429 without Retry-After waits for the rate window within the wait budget, and says so', async (t) => {
  const { server, client: _c, options } = await setup(t, { writeLimit: 1, rateWindowMs: 400 })
  const notices: string[] = []
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), {
    rateWindowMs: 400,
    notice: (l) => notices.push(l),
  })
  t.teardown(() => client.close())
  await uploadRecords(Readable.from(sample()), options({ client }))
  const second = await uploadRecords(Readable.from(sample()), options({ client }))
  t.equal(second.attempts, 2)
  t.match(notices, [/HTTP 429.*waiting [\d.]+ s for the rate window \(Secoda allows 30 writes a minute\) before attempt 2/])
  t.same(
    server.uploads.map((u) => u.status),
    [200, 429, 200],
  )
  // A window longer than the wait budget: refused at once (the server's window is a minute).
  const { server: slow, options: o2 } = await setup(t, { writeLimit: 1 })
  const tight = new SecodaClient(resolveApiSettings({ apiUrl: slow.url, env: { SECODA_API_KEY: slow.apiKey } }), { maxWaitMs: 100 })
  t.teardown(() => tight.close())
  await uploadRecords(Readable.from(sample()), o2({ client: tight }))
  t.match(await uploadRecords(Readable.from(sample()), o2({ client: tight })).catch((e: unknown) => e), {
    code: 'UPLOAD_HTTP',
    message: /HTTP 429.*would exceed --max-wait/,
  })
  t.equal(slow.uploads.filter((u) => u.synced).length, 1)
})

t.test('a server without chunked support: --chunked gets 411 and the advice to drop it; the default goes through', async (t) => {
  const { server, options } = await setup(t, { rejectChunked: true })
  const sink = createUploadSink(options({ chunked: true }))
  const err = await pipeline(Readable.from(sample()), sink).catch((e: unknown) => e)
  t.match(err, { code: 'UPLOAD_HTTP', message: /HTTP 411.*drop --chunked/ })
  const ok = await uploadRecords(Readable.from(sample()), options())
  t.equal(ok.framing, 'content-length')
  t.same(
    server.uploads.map((u) => [u.framing, u.status]),
    [
      ['chunked', 411],
      ['content-length', 200],
    ],
  )
})

t.test('a complete body refused by the server is told apart from one stopped before its end', async (t) => {
  const { server, options } = await setup(t)
  server.fault({ status: 400 })
  const sink = createUploadSink(options())
  await pipeline(Readable.from(sample()), sink).catch(() => undefined)
  t.same(sink.progress, { closingBoundarySent: true, attempts: 1 })
  server.fault({ status: 503, times: 2 })
  const sink2 = createUploadSink(options())
  await pipeline(Readable.from(sample()), sink2)
  t.same(sink2.progress, { closingBoundarySent: true, attempts: 3 }, 'a 503 on a spooled body is retried')
  const sink3 = createUploadSink(options({ chunked: true }))
  const failing = new Transform({
    objectMode: true,
    transform(_r, _e, cb) {
      cb(new SecodaError('FIELD_REQUIRED', 'x'))
    },
  })
  await pipeline(Readable.from(sample()), failing, sink3).catch(() => undefined)
  t.equal(sink3.progress.closingBoundarySent, false)
})
