import t from 'tap'
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { startTestServer, type TestServer } from '../lib/testing/server.js'
import { SecodaClient, resolveApiSettings } from '../lib/http.js'
import { createUploadSink, uploadRecords, type UploadOptions } from '../lib/upload.js'
import { serializeRecord, internalId, type SecodaRecord, type Resource, type LineageEdge } from '../lib/records.js'
import { SecodaError } from '../lib/errors.js'

function table(db: string, schema: string, name: string): Resource {
  return { entity_type: 'table', databuilder_id: `${db}.${schema}.${name}`, title: name, database: db, schema, native_type: 'table' }
}
function column(tableId: string, name: string, i: number): Resource {
  return { entity_type: 'column', databuilder_id: `${tableId}.${name}`, parent_databuilder_id: tableId, title: name, type: 'integer', sort_order: i }
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
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), { baseDelayMs: 5, maxDelayMs: 200 })
  t.teardown(async () => {
    await client.close()
    await server.close()
    rmSync(stateDir, { recursive: true, force: true })
  })
  const options = (o: Partial<UploadOptions> = {}): UploadOptions => ({ client, integrationId: 'int-1', stale: { stateDir }, ...o })
  return { server, client, stateDir, options }
}

t.test('clean JSONL upload: the server receives exactly the two files, chunked', async (t) => {
  const { server, options } = await setup(t)
  const records = sample()
  const result = await uploadRecords(Readable.from(records), options())
  t.equal(result.status, 200)
  t.equal(result.framing, 'chunked')
  t.equal(result.resources, 15)
  t.equal(result.lineage, 2)
  const [u] = await server.waitForUploads(1)
  t.ok(u!.complete)
  t.ok(u!.synced)
  t.equal(u!.framing, 'chunked')
  t.same(u!.parts.map((p) => [p.name, p.filename]), [['resources_file', 'resources.jsonl'], ['lineages_file', 'lineage.jsonl']])
  t.equal(readFileSync(u!.parts[0]!.path!, 'utf8'), jsonl(records.filter((r) => !('from_identifier' in r))))
  t.equal(readFileSync(u!.parts[1]!.path!, 'utf8'), jsonl(records.filter((r) => 'from_identifier' in r)))
  t.equal(u!.bytes, result.bytes)
})

t.test('spooled JSONL upload is sent with Content-Length', async (t) => {
  const { server, options } = await setup(t)
  const records = sample()
  const result = await uploadRecords(Readable.from(records), options({ spool: true }))
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
      if (++n === 1500) return void until(() => (server.uploads[0]?.bytes ?? 0) > 0).then(() => cb(new SecodaError('FIELD_REQUIRED', 'missing title', { line: 1500 })))
      cb(null, r)
    },
  })
  const err = await pipeline(Readable.from(records), failing, createUploadSink(options())).then(() => undefined, (e: unknown) => e)
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
    transform(r, _e, cb) { cb(null, r) },
    flush(cb) { void until(() => (server.uploads[0]?.bytes ?? 0) > 0).then(() => cb(new SecodaError('PARENT_MISSING', 'dangling parent', { line: 3 }))) },
  })
  const err = await pipeline(Readable.from(sample()), failAtEnd, createUploadSink(options())).then(() => undefined, (e: unknown) => e)
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
  try { return readdirSync(d) } catch { return [] }
}
