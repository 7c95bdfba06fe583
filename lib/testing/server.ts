// A Secoda-compatible HTTP server for offline tests: the custom-integration endpoints
// (list, create, import_metadata, import_jsonl_metadata) over node:http on loopback, with a
// real streaming multipart parser (busboy), bodies recorded to disk, a record of whether
// each body arrived complete, and fault injection. Exported as `secoda-convert/testing`.
// API reference: ../shared/docs/secoda-formats.md ("The HTTP API").

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Transform, Writable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import busboy from 'busboy'

/** Which requests a fault applies to. */
export type FaultTarget = 'list' | 'create' | 'upload' | 'any'

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
  const integrations: TestIntegration[] = (options.integrations ?? []).map((i) => ({
    id: i.id ?? randomUUID(),
    name: i.name,
    type: i.type ?? 'custom',
    teams: i.teams ?? [],
    credentials: i.credentials ?? {},
  }))
  const uploads: ReceivedUpload[] = []
  const log: string[] = []
  const faults: QueuedFault[] = []
  const sockets = new Set<Socket>()
  const waiters: Array<{ n: number; resolve: (u: ReceivedUpload[]) => void }> = []
  let ended = 0

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

    const m = /^\/integration\/integrations\/(?:([^/]+)\/(import_metadata|import_jsonl_metadata)\/)?$/.exec(route)
    if (!m) {
      req.resume()
      return send(res, 404, { detail: 'Not found.' })
    }
    if (m[1] !== undefined) return upload(req, res, m[1], m[2] as ReceivedUpload['endpoint'], authorized)

    const target = req.method === 'GET' ? 'list' : 'create'
    const f = takeFault(target)
    if (f?.stallMs) await sleep(f.stallMs)
    if (f?.hang) return
    if (f?.resetAfterBytes !== undefined) return void req.socket.destroy()
    if (!authorized) {
      req.resume()
      return send(res, 401, { detail: 'Invalid token.' })
    }
    if (f?.status !== undefined) {
      req.resume()
      return sendFault(res, f)
    }
    if (req.method === 'GET') {
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
      const totalPages = Math.max(1, Math.ceil(integrations.length / pageSize))
      const results = integrations.slice((page - 1) * pageSize, page * pageSize)
      const link = (p: number): string | null =>
        p >= 1 && p <= totalPages ? `http://${req.headers.host}${basePath}/integration/integrations/?page=${p}` : null
      return send(res, 200, {
        count: integrations.length,
        total_pages: totalPages,
        links: { next: link(page + 1), previous: link(page - 1) },
        results,
      })
    }
    if (req.method === 'POST') {
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
      }
      integrations.push(created)
      return send(res, 201, created)
    }
    req.resume()
    return send(res, 405, { detail: 'Method not allowed.' })
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
    const integration = integrations.find((i) => i.id === id)

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
      const counter = new Transform({
        transform(c: Buffer, _e, cb) {
          part.bytes += c.length
          hash?.update(c)
          cb(null, c)
        },
        flush(cb) {
          if (hash) part.sha256 = hash.digest('hex')
          cb()
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}
