// A Secoda-compatible HTTP server for offline tests, modelling the documented API and its
// edges: integrations (list with ?type= filter and paging whose empty links may read
// "None", GET one, create), the resource catalog count per integration
// (resource/catalog?filter=...), import_metadata / import_jsonl_metadata with a real
// streaming multipart parser (busboy), 30 writes a minute answered 429 without
// Retry-After, 400 for an empty file part, optionally 411 for chunked bodies; bodies
// recorded to disk, whether each arrived complete, and fault injection. A synced upload
// replaces the integration's catalog count, as a Secoda sync archives what it lacks.
// Exported as `secoda-convert/testing`. API reference: docs/upload.md ("The API as modelled").

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Transform, Writable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import busboy from 'busboy'
import { parse as parseCsv } from 'csv-parse'
import { SecodaError } from '../errors.js'

/** Which requests a fault applies to: the integration list, create, GET of one integration, the catalog count, uploads. */
export type FaultTarget = 'list' | 'create' | 'get' | 'catalog' | 'upload' | 'any'

/**
 * A fault the server injects into the next matching request(s). Faults are used in the
 * order they were added; each applies to `times` requests (default 1).
 */
export interface Fault {
  /** Requests the fault applies to. Default 'upload'. */
  on?: FaultTarget
  /** How many matching requests it applies to. Default 1. */
  times?: number
  /** Answer with this status (after reading the whole body, like a real server would). */
  status?: number
  /** `Retry-After` header value sent with `status` (seconds or an HTTP date). */
  retryAfter?: number | string
  /** Response body sent with `status`. Default `{"detail": "injected fault"}`. */
  body?: string
  /** Destroy the connection once this many body bytes have been received (0 = at once). */
  resetAfterBytes?: number
  /** Wait this long before reading the body (or, with `stallAfterBytes`, midway) and answering. */
  stallMs?: number
  /** Read this many body bytes, then stop reading for `stallMs` (the client meets backpressure mid-body). */
  stallAfterBytes?: number
  /** Never answer (the client's timeout or the server's close ends the request). */
  hang?: boolean
  /** Read the body at this rate, so the client meets TCP backpressure. */
  readBytesPerSecond?: number
  /** With `status` on a create: create the integration first, then answer `status` (a 502 after the work was done). */
  afterCreate?: boolean
}

/** One multipart part the server received. */
export interface ReceivedPart {
  /** Form field name, e.g. `resources_file`. */
  name: string
  /** Filename from Content-Disposition. */
  filename?: string
  /** Where the bytes were written (absent with `store: 'count'`). */
  path?: string
  /** Bytes in the part. */
  bytes: number
  /** SHA-256 of the part's bytes, hex ('' with `store: 'count'`, which only counts). */
  sha256: string
}

/** One upload request as the server saw it. */
export interface ReceivedUpload {
  /** Sequence number (1-based) among upload requests. */
  seq: number
  integrationId: string
  endpoint: 'import_metadata' | 'import_jsonl_metadata'
  /** True when the closing multipart boundary was parsed (the body arrived whole). */
  complete: boolean
  /** True when the upload was accepted as a sync (complete, valid parts, 2xx answer). */
  synced: boolean
  /** Status the server answered with; 0 when it did not answer (reset, hang, client abort). */
  status: number
  parts: ReceivedPart[]
  /** Body bytes received. */
  bytes: number
  /** Framing the client used. */
  framing: 'content-length' | 'chunked'
  /** Content-Length header value, if sent. */
  contentLength?: number
  /** Why the body is incomplete or was refused, if it is. */
  error?: string
  /** Whether an `Authorization` header was present (its value is never recorded). */
  authorized: boolean
  /** True once the request is over (answered, reset, or abandoned by the client). */
  ended: boolean
}

/** An integration the server knows. */
export interface TestIntegration {
  id: string
  name: string
  type: string
  teams: string[]
  credentials: Record<string, unknown>
  /** Resources the integration's catalog holds (what resource/catalog counts); a synced upload replaces it. */
  resources: number
}

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** The bearer token the server accepts. Default a random one (see {@link TestServer.apiKey}). */
  apiKey?: string
  /** Integrations that exist from the start. */
  integrations?: Array<Partial<TestIntegration> & { name: string }>
  /** Page size of the integration list. Default 25. */
  pageSize?: number
  /** Part names import_jsonl_metadata/ expects. Default `['resources_file', 'lineages_file']`. */
  jsonlParts?: readonly [resources: string, lineage: string]
  /** Part name import_metadata/ expects. Default `file`. */
  csvPart?: string
  /** 'disk' writes each part under `dir` and hashes it; 'count' only counts bytes (for benchmarks). Default 'disk'. */
  store?: 'disk' | 'count'
  /** Where bodies are written. Default a new temporary directory, removed by `close()`. */
  dir?: string
  /** Prefix of the API paths. Default `/api/v1`. */
  basePath?: string
  /** Serve resource/catalog. False answers 404, like an older self-hosted version. Default true. */
  catalog?: boolean
  /** Which form of the catalog path is routed: `resource/catalog`, `resource/catalog/` or both. Default 'both'. */
  catalogPath?: 'plain' | 'slash' | 'both'
  /** Write empty paging links as the string "None", as Secoda's documented example does. Default false (null). */
  noneLinks?: boolean
  /** Write calls (POST) allowed per `rateWindowMs`; more are answered 429 without Retry-After. False: no limit. Default 30. */
  writeLimit?: number | false
  /** The rate window. Default 60 000 ms (Secoda: 30 writes a minute). */
  rateWindowMs?: number
  /** Answer 411 Length Required to a chunked upload (a server without chunked-request support). Default false. */
  rejectChunked?: boolean
  /** Answer 400 "The submitted file is empty." to a 0-byte file part, as Python form handling does. Default true. */
  rejectEmptyParts?: boolean
}

/** A running test server. */
export interface TestServer {
  /** API base URL, e.g. `http://127.0.0.1:43127/api/v1` (pass it as --api-url). */
  readonly url: string
  /** The accepted API key. */
  readonly apiKey: string
  /** Where parts are written. */
  readonly dir: string
  readonly integrations: TestIntegration[]
  readonly uploads: ReceivedUpload[]
  /** Every request as `METHOD path status` (no headers, so no key). */
  readonly log: string[]
  /** Queue a fault. */
  fault(f: Fault): void
  /** Resolves once `n` upload requests have ended (answered or broken off). */
  waitForUploads(n: number): Promise<ReceivedUpload[]>
  /** Stop the server, drop open connections, remove the temporary directory. */
  close(): Promise<void>
}

interface QueuedFault extends Fault {
  left: number
}

const JSON_TYPE = { 'content-type': 'application/json' }

/**
 * Start the server on 127.0.0.1, port 0 (a free port).
 *
 * @example
 * const server = await startTestServer({ integrations: [{ name: 'warehouse' }] })
 * // SECODA_API_URL=server.url SECODA_API_KEY=server.apiKey secoda-convert upload ...
 * await server.close()
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const apiKey = options.apiKey ?? `test-${randomUUID()}`
  const basePath = (options.basePath ?? '/api/v1').replace(/\/$/, '')
  const pageSize = options.pageSize ?? 25
  const [resPart, linPart] = options.jsonlParts ?? ['resources_file', 'lineages_file']
  const csvPart = options.csvPart ?? 'file'
  const store = options.store ?? 'disk'
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'secoda-test-server-'))
  const catalog = options.catalog ?? true
  const catalogPath = options.catalogPath ?? 'both'
  const noLink = options.noneLinks ? 'None' : null
  const writeLimit = options.writeLimit ?? 30
  const rateWindowMs = options.rateWindowMs ?? 60_000
  const rejectEmpty = options.rejectEmptyParts ?? true
  const writes: number[] = []
  if (!ownDir) {
    // A missing directory would fail every upload's part write later; fail now instead.
    let ok = false
    try {
      ok = statSync(options.dir!).isDirectory()
    } catch {
      /* reported below */
    }
    if (!ok) throw new SecodaError('USAGE', `test server: --dir ${options.dir} is not an existing directory`, { file: options.dir })
  }
  const integrations: TestIntegration[] = (options.integrations ?? []).map((i) => ({
    id: i.id ?? randomUUID(),
    name: i.name,
    type: i.type ?? 'custom',
    teams: i.teams ?? [],
    credentials: i.credentials ?? {},
    resources: i.resources ?? 0,
  }))
  const uploads: ReceivedUpload[] = []
  const log: string[] = []
  const faults: QueuedFault[] = []
  const sockets = new Set<Socket>()
  const waiters: Array<{ n: number; resolve: (u: ReceivedUpload[]) => void }> = []
  let ended = 0

  /** Count a write call; false when it exceeds the rate limit (answer 429, no Retry-After). */
  function allowWrite(): boolean {
    if (writeLimit === false) return true
    const now = Date.now()
    while (writes.length && writes[0]! <= now - rateWindowMs) writes.shift()
    if (writes.length >= writeLimit) return false
    writes.push(now)
    return true
  }

  /** A paged answer in Secoda's documented shape. */
  function pageOf<T>(req: IncomingMessage, url: URL, all: readonly T[], total = all.length): Record<string, unknown> {
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const totalPages = Math.max(1, Math.ceil(total / pageSize))
    const results = all.slice((page - 1) * pageSize, page * pageSize)
    const link = (p: number): string | null => {
      if (p < 1 || p > totalPages) return noLink
      const u = new URL(`http://${req.headers.host}${url.pathname}${url.search}`)
      u.searchParams.set('page', String(p))
      return u.href
    }
    const num = (p: number): number | null => (p >= 1 && p <= totalPages ? p : null)
    return {
      count: total,
      total_pages: totalPages,
      links: { next: link(page + 1), previous: link(page - 1) },
      meta: { page, next_page: num(page + 1), previous_page: num(page - 1) },
      results,
    }
  }

  function takeFault(target: Exclude<FaultTarget, 'any'>): Fault | undefined {
    const i = faults.findIndex((f) => (f.on ?? 'upload') === target || f.on === 'any')
    if (i < 0) return undefined
    const f = faults[i]!
    if (--f.left <= 0) faults.splice(i, 1)
    return f
  }

  function uploadEnded(): void {
    ended++
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (ended >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve(uploads.slice())
    }
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return
    res.writeHead(status, { ...JSON_TYPE, ...headers })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }

  function sendFault(res: ServerResponse, f: Fault): void {
    const headers: Record<string, string> = {}
    if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter)
    send(res, f.status!, f.body ?? { detail: 'injected fault' }, headers)
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    let s = ''
    for await (const c of req) s += c
    return s ? JSON.parse(s) : {}
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route = url.pathname.startsWith(basePath + '/') ? url.pathname.slice(basePath.length) : ''
    res.on('finish', () => log.push(`${req.method} ${url.pathname}${url.search} ${res.statusCode}`))
    const authorized = req.headers.authorization === `Bearer ${apiKey}`

    if (/^\/resource\/catalog\/?$/.test(route) && (catalogPath === 'both' || route.endsWith('/') === (catalogPath === 'slash')))
      return catalogCount(req, res, url, authorized)
    const m = /^\/integration\/integrations\/(?:([^/]+)\/(?:(import_metadata|import_jsonl_metadata)\/)?)?$/.exec(route)
    if (!m) {
      req.resume()
      return send(res, 404, { detail: 'Not found.' })
    }
    if (m[2] !== undefined) return upload(req, res, m[1]!, m[2] as ReceivedUpload['endpoint'], authorized)

    const target = m[1] !== undefined ? 'get' : req.method === 'GET' ? 'list' : 'create'
    const f = takeFault(target)
    if (f?.stallMs) await sleep(f.stallMs)
    if (f?.hang) return
    if (f?.resetAfterBytes !== undefined) return void req.socket.destroy()
    if (!authorized) {
      req.resume()
      return send(res, 401, { detail: 'Invalid token.' })
    }
    if (f?.status !== undefined && !f.afterCreate) {
      req.resume()
      return sendFault(res, f)
    }
    if (m[1] !== undefined) {
      req.resume()
      if (req.method !== 'GET') return send(res, 405, { detail: 'Method not allowed.' })
      const one = integrations.find((i) => i.id === m[1])
      return one ? send(res, 200, one) : send(res, 404, { detail: 'Not found.' })
    }
    if (req.method === 'GET') {
      const type = url.searchParams.get('type')
      return send(res, 200, pageOf(req, url, type === null ? integrations : integrations.filter((i) => i.type === type)))
    }
    if (req.method === 'POST') {
      if (!allowWrite()) {
        req.resume()
        return send(res, 429, { detail: 'Request was throttled.' })
      }
      let body: Record<string, unknown>
      try {
        body = (await readJson(req)) as Record<string, unknown>
      } catch {
        return send(res, 400, { detail: 'JSON parse error' })
      }
      if (body.type !== 'custom' || typeof body.name !== 'string' || !body.name) {
        return send(res, 400, { detail: 'type must be "custom" and name is required' })
      }
      const teams = Array.isArray(body.teams) ? body.teams.map(String) : []
      const created: TestIntegration = {
        id: randomUUID(),
        name: body.name,
        type: 'custom',
        teams,
        credentials: (body.credentials as Record<string, unknown>) ?? {},
        resources: 0,
      }
      integrations.push(created)
      if (f?.status !== undefined) return sendFault(res, f) // created, but the answer says otherwise
      return send(res, 201, created)
    }
    req.resume()
    return send(res, 405, { detail: 'Method not allowed.' })
  }

  /** GET resource/catalog?filter=...: the count of resources, filtered by integration_id. */
  async function catalogCount(req: IncomingMessage, res: ServerResponse, url: URL, authorized: boolean): Promise<void> {
    req.resume()
    const f = takeFault('catalog')
    if (f?.stallMs) await sleep(f.stallMs)
    if (f?.hang) return
    if (f?.resetAfterBytes !== undefined) return void req.socket.destroy()
    if (!authorized) return send(res, 401, { detail: 'Invalid token.' })
    if (f?.status !== undefined) return sendFault(res, f)
    if (!catalog || req.method !== 'GET') return send(res, 404, { detail: 'Not found.' })
    let ids: string[] | undefined
    const raw = url.searchParams.get('filter')
    if (raw !== null) {
      try {
        ids = integrationFilter(JSON.parse(raw))
      } catch (e) {
        return send(res, 400, { detail: `invalid filter: ${(e as Error).message}` })
      }
    }
    const held = integrations.filter((i) => ids === undefined || ids.includes(i.id))
    const total = held.reduce((n, i) => n + i.resources, 0)
    // Rows stop at 10,000 in Secoda; here a page of placeholder rows is enough: clients read `count`.
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const rows = Array.from({ length: Math.max(0, Math.min(pageSize, total - (page - 1) * pageSize)) }, (_, k) => ({
      id: `resource-${(page - 1) * pageSize + k + 1}`,
    }))
    const body = pageOf(req, url, [], total)
    body.results = rows
    return send(res, 200, body)
  }

  async function upload(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    endpoint: ReceivedUpload['endpoint'],
    authorized: boolean,
  ): Promise<void> {
    const cl = req.headers['content-length']
    const rec: ReceivedUpload = {
      seq: uploads.length + 1,
      integrationId: id,
      endpoint,
      complete: false,
      synced: false,
      status: 0,
      parts: [],
      bytes: 0,
      framing: cl === undefined ? 'chunked' : 'content-length',
      authorized: req.headers.authorization !== undefined,
      ended: false,
    }
    if (cl !== undefined) rec.contentLength = Number(cl)
    uploads.push(rec)
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      rec.ended = true
      uploadEnded()
    }
    // 'close' on the response fires once it is sent or the connection is gone (reset,
    // client abort, hang ended by the client's timeout): the request is over either way.
    res.on('close', () => {
      if (!rec.complete && rec.error === undefined) rec.error = 'connection closed before the closing boundary'
      finish()
    })

    if (req.method !== 'POST') {
      req.resume()
      rec.error = 'method'
      rec.status = 405
      return send(res, 405, { detail: 'Method not allowed.' })
    }
    const f = takeFault('upload')
    if (f?.stallMs && f.stallAfterBytes === undefined) await sleep(f.stallMs)
    if (!authorized) {
      rec.error = 'unauthorized'
      rec.status = 401
      req.resume()
      return send(res, 401, { detail: 'Invalid token.' })
    }
    if (!allowWrite()) {
      rec.error = 'rate limited'
      rec.status = 429
      req.resume()
      return send(res, 429, { detail: 'Request was throttled.' })
    }
    if (options.rejectChunked && cl === undefined) {
      // A WSGI stack without chunked-request support; answering 411 is the honest variant of
      // handing the application an empty body.
      rec.error = 'chunked body refused (411)'
      rec.status = 411
      req.resume()
      return send(res, 411, { detail: 'Length Required.' })
    }
    const integration = integrations.find((i) => i.id === id)
    // What this upload would leave in the catalog: lines of the resources part (JSONL), or
    // tables + columns (CSV rows are columns; one table per database.schema.name).
    let resourceCount = 0

    // Count (and, for faults, throttle or cut) the raw body bytes before the parser sees them.
    const resetAt = f?.resetAfterBytes
    const bps = f?.readBytesPerSecond
    let stallAt = f?.stallAfterBytes
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        rec.bytes += chunk.length
        if (resetAt !== undefined && rec.bytes >= resetAt) {
          rec.error = 'reset by fault injection'
          req.socket.destroy()
          return cb()
        }
        if (stallAt !== undefined && rec.bytes >= stallAt) {
          stallAt = undefined
          setTimeout(() => cb(null, chunk), f?.stallMs ?? 1000)
        } else if (bps) setTimeout(() => cb(null, chunk), (chunk.length / bps) * 1000)
        else cb(null, chunk)
      },
    })
    if (resetAt === 0) {
      rec.error = 'reset by fault injection'
      return void req.socket.destroy()
    }

    const expected = endpoint === 'import_metadata' ? [csvPart] : [resPart, linPart]
    const partErrors: string[] = []
    const writes: Promise<void>[] = []
    let bb: busboy.Busboy
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 10, fields: 20 } })
    } catch (e) {
      req.resume()
      rec.error = `not multipart: ${(e as Error).message}`
      rec.status = 400
      return send(res, 400, { detail: 'Expected multipart/form-data.' })
    }
    bb.on('file', (name, stream, info) => {
      if (!expected.includes(name)) partErrors.push(`unexpected part "${name}" (expected ${expected.join(', ')})`)
      const part: ReceivedPart = { name, filename: info.filename, bytes: 0, sha256: '' }
      if (store === 'disk') part.path = path.join(dir, `${rec.seq}-${name}`)
      rec.parts.push(part)
      const hash = store === 'disk' ? createHash('sha256') : undefined
      const lines = name === resPart && endpoint === 'import_jsonl_metadata' ? new LineCounter() : undefined
      const csv = name === csvPart && endpoint === 'import_metadata' ? csvCounter(partErrors) : undefined
      const counter = new Transform({
        transform(c: Buffer, _e, cb) {
          part.bytes += c.length
          hash?.update(c)
          lines?.push(c)
          if (csv) csv.parser.write(c)
          cb(null, c)
        },
        flush(cb) {
          if (hash) part.sha256 = hash.digest('hex')
          if (lines) resourceCount += lines.end()
          if (!csv) return cb()
          csv.parser.end()
          csv.done.then(() => {
            resourceCount += csv.count()
            cb()
          }, cb)
        },
      })
      const sink = part.path !== undefined ? createWriteStream(part.path) : new Writable({ write: (_c, _e, cb) => cb() })
      writes.push(pipeline(stream, counter, sink).catch(() => undefined))
    })
    bb.on('field', (name) => partErrors.push(`unexpected field "${name}"`))

    try {
      await pipeline(req, tap, bb)
      rec.complete = true
    } catch (e) {
      if (rec.error === undefined) rec.error = (e as Error).message
      await Promise.all(writes)
      // The whole request arrived but the multipart body lacks its closing boundary: answer
      // like a real server would. Otherwise the client is gone and there is nobody to answer.
      if (req.complete && !req.socket.destroyed && !f?.hang) {
        rec.status = 400
        send(res, 400, { detail: `incomplete multipart body: ${rec.error}` })
      }
      return
    }
    await Promise.all(writes)
    if (f?.hang) return
    if (!rec.parts.some((p) => p.name === expected[0])) partErrors.push(`missing part "${expected[0]}"`)
    if (rejectEmpty) for (const p of rec.parts) if (p.bytes === 0) partErrors.push(`${p.name}: The submitted file is empty.`)
    if (f?.status !== undefined) {
      rec.status = f.status
      rec.error = `answered ${f.status} by fault injection`
      return sendFault(res, f)
    }
    if (!integration) {
      rec.status = 404
      rec.error = 'no such integration'
      return send(res, 404, { detail: 'Not found.' })
    }
    if (partErrors.length) {
      rec.status = 400
      rec.error = partErrors.join('; ')
      return send(res, 400, { detail: rec.error })
    }
    rec.status = 200
    rec.synced = true
    integration.resources = resourceCount // a sync: what the upload lacks is archived
    send(res, 200, { detail: 'Import started.', parts: rec.parts.map((p) => ({ name: p.name, bytes: p.bytes })) })
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { detail: `test server bug: ${(e as Error).message}` })
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as { port: number }).port

  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    apiKey,
    dir,
    integrations,
    uploads,
    log,
    fault(f: Fault) {
      faults.push({ ...f, left: f.times ?? 1 })
    },
    waitForUploads(n: number) {
      if (ended >= n) return Promise.resolve(uploads.slice())
      return new Promise((resolve) => waiters.push({ n, resolve }))
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (ownDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** One line describing what the server received in an upload (for logs and demos). */
export function describeUpload(u: ReceivedUpload): string {
  const parts = u.parts.map((p) => `${p.name}=${p.filename ?? ''} ${p.bytes} bytes`).join(', ')
  return `upload #${u.seq} to ${u.integrationId}/${u.endpoint}/: ${u.status} ${u.complete ? 'complete' : 'INCOMPLETE'}${u.synced ? ', synced' : ''}; ${parts}${u.error ? ` (${u.error})` : ''}`
}

/** Counts non-empty lines across chunks (the resources a JSONL part holds); indexOf keeps it fast for benchmarks. */
class LineCounter {
  #n = 0
  #open = false
  push(c: Buffer): void {
    let from = 0
    for (let i = c.indexOf(0x0a); i >= 0; i = c.indexOf(0x0a, from)) {
      const len = i - from
      if (len > 1 || (len === 1 && c[from] !== 0x0d) || (len === 0 && this.#open)) this.#n++
      this.#open = false
      from = i + 1
    }
    if (from < c.length) this.#open = true
  }
  end(): number {
    return this.#n + (this.#open ? 1 : 0)
  }
}

/** A CSV parser counting rows (columns) and distinct tables; parse errors become part errors. */
function csvCounter(partErrors: string[]): { parser: ReturnType<typeof parseCsv>; done: Promise<void>; count(): number } {
  const parser = parseCsv({ columns: true, bom: true })
  const tables = new Set<string>()
  let rows = 0
  parser.on('data', (r: Record<string, string>) => {
    rows++
    tables.add(`${r.database}\u0000${r.schema}\u0000${r.name}`)
  })
  const done = new Promise<void>((resolve) => {
    parser.on('end', resolve)
    parser.on('error', (e: Error) => {
      partErrors.push(`CSV: ${e.message}`)
      resolve()
    })
  })
  return { parser, done, count: () => rows + tables.size }
}

/**
 * The integration ids a catalog filter selects: `{"operator":"in","field":"integration_id","value":[...]}`,
 * alone or among the operands of `{"operator":"and","operands":[...]}`. Other fields are
 * accepted and ignored (the model keeps counts, not rows); undefined when nothing filters by integration.
 */
function integrationFilter(f: unknown): string[] | undefined {
  if (!f || typeof f !== 'object') throw new Error('a filter is a JSON object')
  const o = f as { operator?: unknown; field?: unknown; value?: unknown; operands?: unknown }
  if (o.operator === 'and') {
    if (!Array.isArray(o.operands)) throw new Error('"and" needs "operands"')
    let ids: string[] | undefined
    for (const op of o.operands) {
      const got = integrationFilter(op)
      if (got) ids = ids ? ids.filter((x) => got.includes(x)) : got
    }
    return ids
  }
  if (typeof o.operator !== 'string' || typeof o.field !== 'string') throw new Error('a filter has "operator" and "field"')
  if (o.field !== 'integration_id') return undefined
  if (o.operator === 'in' && Array.isArray(o.value)) return o.value.map(String)
  if (o.operator === 'exact' || o.operator === 'eq') return [String(o.value)]
  throw new Error(`unsupported operator "${o.operator}" on integration_id`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}
