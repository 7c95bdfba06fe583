// Secoda records → one multipart upload: an objectMode Writable that spools validated
// resources (and lineage) to temporary files and sends them as one import_jsonl_metadata/
// request with Content-Length, or CSV rows to import_metadata/; with `chunked` it streams
// them live instead. The closing multipart boundary is sent only from final(), i.e. only
// after upstream ended without error and the guards agreed (not empty; the server's
// resource count and the local id state not archiving more than max-stale); destroy(err)
// aborts instead, so a server never receives a complete body for an invalid, truncated or
// shrunken input (a complete body is a sync that archives everything missing from it).

import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough, Writable, type Readable } from 'node:stream'
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import { SecodaError } from '../errors.js'
import type { ReplayableBody, SecodaClient } from './http.js'
import { catalogCount } from './integrations.js'
import { isLineage, serializeRecord, type SecodaRecord } from '../records.js'
import { StaleGuard, type StaleCounts, type StaleGuardOptions } from './stale-guard.js'
import type { Report } from '../report.js'
import { CsvWriter, type SortOrderHeader } from '../../transforms/to-csv.js'

/** Part names and filenames (UNCONFIRMED by Secoda: keep them configurable). */
export interface PartNames {
  /** JSONL resources part. Default `resources_file`. */
  resources?: string
  /** JSONL lineage part. Default `lineages_file`. */
  lineage?: string
  /** CSV part. Default `file`. */
  csv?: string
  /** Default `resources.jsonl`. */
  resourcesFilename?: string
  /** Default `lineage.jsonl`. */
  lineageFilename?: string
  /** Default `columns.csv`. */
  csvFilename?: string
}

/** Options of {@link createUploadSink} and {@link uploadRecords}. */
export interface UploadOptions {
  /** Client for the Secoda API (holds base URL and key). */
  client: SecodaClient
  /** Integration id (see findOrCreateIntegration for names). */
  integrationId: string
  /** Which endpoint and file format. Default 'jsonl'. */
  format?: 'jsonl' | 'csv'
  parts?: PartNames
  /**
   * Stream the body live with chunked transfer encoding instead of spooling it to temporary
   * files and sending it with Content-Length. Not retryable; only for servers known to accept
   * chunked request bodies (Secoda documents Content-Length bodies only). Default false.
   */
  chunked?: boolean
  /** Send an upload with no resources (a sync that archives everything). Default false: UPLOAD_EMPTY. */
  allowEmpty?: boolean
  /**
   * Ask the server how many resources the integration holds (resource/catalog) and refuse,
   * before the closing boundary, an upload carrying fewer than (1 − maxStale) × that count.
   * Default true. Uses `stale.maxStale` / `stale.allowStale` (also when the local guard is off).
   */
  serverGuard?: boolean
  /** Send a 0-byte lineage part when there are no lineage edges (Python form handling rejects empty file parts). Default false: the part is left out. */
  emptyLineagePart?: boolean
  /** Do everything (encode, count, stale check) but send nothing and store no state. Default false. */
  dryRun?: boolean
  /** Stale guard settings, or false to switch it off. Default on with its defaults. */
  stale?: false | Omit<StaleGuardOptions, 'baseUrl' | 'integrationId'>
  /** Where temporary files go. Default the OS temp directory. */
  tmpDir?: string
  /** Aborts the upload (the request is cut before its closing boundary). */
  signal?: AbortSignal
  /** CSV: header name of the sort column. Default `col_sort_order`. */
  sortOrderHeader?: SortOrderHeader
  /** CSV: where the writer's CSV_DROPPED warning goes. */
  report?: Report
  /** Bytes gathered before a write to the request body. Default 64 KiB. */
  chunkBytes?: number
}

/** What an upload did. */
export interface UploadResult {
  integrationId: string
  endpoint: 'import_jsonl_metadata' | 'import_metadata'
  dryRun: boolean
  /** HTTP status of the accepted upload (undefined for a dry run). */
  status?: number
  /** The server's answer, as text (its format is undocumented). */
  response?: string
  /** Requests made (more than 1 after retries). */
  attempts: number
  /** Body bytes (sent, or that would have been sent). */
  bytes: number
  /** Body framing used: `content-length` (spooled, the default) or `chunked` (--chunked). */
  framing: 'content-length' | 'chunked'
  resources: number
  lineage: number
  /** Whether the lineage part was sent (it is left out when empty, unless emptyLineagePart). */
  lineagePart?: boolean
  /** Stale-guard counts (undefined when the guard is off). */
  stale?: StaleCounts
  /** Server-side guard: resources the integration held before, and this upload's count compared with it. */
  server?: { previous: number; uploading: number } | { skipped: string }
}

/** How far a failed upload got: whether the server can have received a complete body. */
export interface UploadProgress {
  /** True once the closing boundary was handed to the connection (a complete body may have reached the server). */
  closingBoundarySent: boolean
  /** Requests made. */
  attempts: number
}

/** Spool directories of unfinished uploads, removed at exit whatever ends the process. */
const liveSpools = new Set<string>()
let exitHook = false
function trackSpool(dir: string): void {
  liveSpools.add(dir)
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const d of liveSpools) rmSync(d, { recursive: true, force: true })
  })
}

const CRLF = '\r\n'

/** The multipart pieces of one body, around the part contents. */
class Multipart {
  readonly boundary = `----secoda-convert-${randomBytes(16).toString('hex')}`
  get contentType(): string {
    return `multipart/form-data; boundary=${this.boundary}`
  }
  /** Opening of the first part. */
  first(name: string, filename: string, type: string): Buffer {
    return Buffer.from(`--${this.boundary}${CRLF}${this.#disposition(name, filename, type)}`)
  }
  /** End of one part and opening of the next. */
  next(name: string, filename: string, type: string): Buffer {
    return Buffer.from(`${CRLF}--${this.boundary}${CRLF}${this.#disposition(name, filename, type)}`)
  }
  /** The closing boundary: once it is sent the body is complete. */
  close(): Buffer {
    return Buffer.from(`${CRLF}--${this.boundary}--${CRLF}`)
  }
  #disposition(name: string, filename: string, type: string): string {
    const q = (s: string): string => s.replace(/["\r\n\\]/g, '_')
    return `Content-Disposition: form-data; name="${q(name)}"; filename="${q(filename)}"${CRLF}Content-Type: ${type}${CRLF}${CRLF}`
  }
}

/** A buffered text writer over a stream that honours backpressure. */
class ChunkWriter {
  #text = ''
  bytes = 0
  constructor(
    private readonly out: Writable,
    private readonly chunk: number,
    private readonly stop: Promise<never>,
  ) {}
  /** Add text; returns a promise only when a flush met backpressure (wait for it). */
  add(s: string): Promise<void> | undefined {
    // String concatenation builds a rope in V8: cheaper than collecting and joining parts.
    this.#text += s
    return this.#text.length >= this.chunk ? this.flush() : undefined
  }
  /** Write what is gathered. */
  flush(): Promise<void> | undefined {
    if (this.#text.length === 0) return undefined
    const buf = Buffer.from(this.#text)
    this.#text = ''
    return this.raw(buf)
  }
  #drain: Promise<void> | undefined

  /** Write bytes as they are. */
  raw(buf: Buffer): Promise<void> | undefined {
    this.bytes += buf.length
    if (this.out.write(buf)) return this.#drain
    // Wait for drain, but stop waiting if the request fails (e.g. the server answered 401
    // early and stopped reading): otherwise the upload would hang. Several writes of one
    // batch share one wait, so listeners do not pile up on the stream.
    this.#drain ??= Promise.race([once(this.out, 'drain').then(() => undefined), this.stop]).finally(() => {
      this.#drain = undefined
    })
    return this.#drain
  }
}

/**
 * An objectMode Writable of validated Secoda records that uploads them as one request.
 * `pipeline(records, validator, sink)` resolves once the server accepted the upload;
 * {@link UploadSink.result} then holds the details. An upstream error destroys the sink,
 * which aborts the request before the closing boundary.
 */
export class UploadSink extends Writable {
  readonly options: Readonly<UploadOptions>
  /** Set once the upload was accepted (or the dry run finished). */
  result: UploadResult | undefined
  /** How far the upload got (read it after a failure). */
  readonly progress: UploadProgress = { closingBoundarySent: false, attempts: 0 }
  readonly #mp = new Multipart()
  readonly #format: 'jsonl' | 'csv'
  readonly #names: Required<PartNames>
  readonly #live: boolean
  readonly #guard: StaleGuard | undefined
  readonly #maxStale: number
  readonly #allowStale: boolean
  readonly #serverCount: Promise<{ n: number } | { error: unknown } | { skipped: string }>
  readonly #abort = new AbortController()
  readonly #tmp: string
  #body: PassThrough | undefined
  #response: Promise<{ status: number; body: string; attempts: number }> | undefined
  #main!: ChunkWriter
  #mainFile: WriteStream | undefined
  #lineageFile: WriteStream | undefined
  #lineage: ChunkWriter | undefined
  #csv: CsvWriter | undefined
  /** The CSV text the writer emitted for the record being taken. */
  #csvOut = ''
  readonly #csvEmit = (s: string): void => {
    this.#csvOut += s
  }
  #resources = 0
  #edges = 0
  #onSignal: (() => void) | undefined

  constructor(options: UploadOptions) {
    super({ objectMode: true, highWaterMark: 256 })
    this.options = Object.freeze({ ...options })
    this.#format = options.format ?? 'jsonl'
    const p = options.parts ?? {}
    this.#names = {
      resources: p.resources ?? 'resources_file',
      lineage: p.lineage ?? 'lineages_file',
      csv: p.csv ?? 'file',
      resourcesFilename: p.resourcesFilename ?? 'resources.jsonl',
      lineageFilename: p.lineageFilename ?? 'lineage.jsonl',
      csvFilename: p.csvFilename ?? 'columns.csv',
    }
    const staleOpts = options.stale === false ? {} : (options.stale ?? {})
    this.#guard =
      options.stale === false
        ? undefined
        : new StaleGuard({ ...options.stale, baseUrl: options.client.baseUrl, integrationId: options.integrationId })
    this.#maxStale = this.#guard?.options.maxStale ?? staleOpts.maxStale ?? 0.1
    this.#allowStale = staleOpts.allowStale ?? false
    // Asked at once, so the answer is there by the end of the input; settled, never rejected
    // (an unhandled rejection would end the process before the sink decides what it means).
    this.#serverCount =
      options.serverGuard === false
        ? Promise.resolve({ skipped: 'switched off' })
        : catalogCount(options.client, options.integrationId, this.#abort.signal).then(
            (n) => ({ n }),
            (error: unknown) => ({ error }),
          )
    this.#live = options.chunked === true && !options.dryRun
    // mkdtemp: a new directory with an unpredictable name, mode 0700; the files in it are
    // created exclusively ('wx') with mode 0600.
    this.#tmp = mkdtempSync(path.join(options.tmpDir ?? tmpdir(), 'secoda-upload-'))
    trackSpool(this.#tmp)
    const chunk = options.chunkBytes ?? 64 * 1024
    // One promise for "the live request failed", shared by every backpressure wait (a new
    // reaction per wait would pile up on the response promise for the whole upload).
    const failed = this.#failedPromise()

    if (this.#format === 'csv') this.#csv = new CsvWriter({ report: options.report, sortOrderHeader: options.sortOrderHeader })
    if (this.#live) {
      this.#body = new PassThrough({ highWaterMark: 256 * 1024 })
      // destroy(err) also destroys the body; before the request is open nobody else listens,
      // and the error reaches the caller through the sink anyway.
      this.#body.on('error', () => {})
      this.#main = new ChunkWriter(this.#body, chunk, failed)
      const first =
        this.#format === 'csv'
          ? this.#mp.first(this.#names.csv, this.#names.csvFilename, 'text/csv')
          : this.#mp.first(this.#names.resources, this.#names.resourcesFilename, 'application/x-ndjson')
      void this.#main.raw(first)
    } else if (options.dryRun) {
      this.#main = new ChunkWriter(nullSink(), chunk, failed)
    } else {
      this.#mainFile = this.#watch(spoolFile(path.join(this.#tmp, 'part1')))
      this.#main = new ChunkWriter(this.#mainFile, chunk, failed)
    }
    if (this.#format === 'jsonl') {
      this.#lineageFile = this.#watch(spoolFile(path.join(this.#tmp, 'lineage')))
      this.#lineage = new ChunkWriter(this.#lineageFile, chunk, failed)
    }
    if (options.signal) {
      const signal = options.signal
      this.#onSignal = () => this.destroy(new SecodaError('ABORTED', 'upload interrupted; nothing was synced', { cause: signal.reason }))
      if (signal.aborted) queueMicrotask(this.#onSignal)
      else signal.addEventListener('abort', this.#onSignal, { once: true })
    }
  }

  /**
   * Open the live request. Called with the first record, not at construction: an input that
   * cannot even be opened then costs no request.
   */
  #start(): void {
    if (this.#response || !this.#live) return
    this.progress.attempts = 1
    this.#response = this.options.client.send({
      method: 'POST',
      path: this.#path(),
      headers: { 'content-type': this.#mp.contentType },
      body: { replayable: false, stream: this.#body! },
      signal: this.#abort.signal,
    })
    this.#response.then(
      () => this.#rejectFailed(new SecodaError('UPLOAD_HTTP', 'the server answered before the upload body was complete')),
      (e: unknown) => this.#rejectFailed(e),
    )
  }

  /** A spool file's I/O error fails the upload; after the sink is gone it is moot. */
  #watch(ws: WriteStream): WriteStream {
    ws.on('error', (e: Error) => {
      if (!this.destroyed && this.result === undefined)
        this.destroy(new SecodaError('OUTPUT_WRITE', `cannot write the upload's temporary file: ${e.message}`, { cause: e }))
    })
    return ws
  }

  #path(): string {
    const id = encodeURIComponent(this.options.integrationId)
    return `/integration/integrations/${id}/${this.#format === 'csv' ? 'import_metadata' : 'import_jsonl_metadata'}/`
  }

  /**
   * A promise that rejects when the live request fails or is answered early (never
   * resolves). Created before the request exists; wired to it once it does.
   */
  #failedPromise(): Promise<never> {
    const p = new Promise<never>((_resolve, reject) => {
      this.#rejectFailed = reject
    })
    p.catch(() => undefined)
    return p
  }

  #rejectFailed: (e: unknown) => void = () => {}

  override _write(r: SecodaRecord, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let p: Promise<void> | undefined
    try {
      p = this.#take(r)
    } catch (e) {
      return cb(e as Error)
    }
    if (p) p.then(() => cb(), cb)
    else cb()
  }

  /** One record into its part; a promise when the part's stream wants us to wait. */
  #take(r: SecodaRecord): Promise<void> | undefined {
    if (this.#response === undefined) this.#start()
    if (isLineage(r)) {
      this.#edges++
      // CSV cannot carry lineage: the CSV writer counts the drop and warns at the end.
      if (this.#lineage) return this.#lineage.add(serializeRecord(r) + '\n')
      this.#csv!.push(r, this.#csvEmit)
      return undefined
    }
    this.#resources++
    this.#guard?.add(r.databuilder_id)
    const text = this.#csv ? this.#csvText(r) : serializeRecord(r) + '\n'
    return text ? this.#main.add(text) : undefined
  }

  /** The CSV text of one record (empty while a column waits for its table). */
  #csvText(r: SecodaRecord): string {
    this.#csv!.push(r, this.#csvEmit)
    return this.#takeCsvOut()
  }

  #takeCsvOut(): string {
    const s = this.#csvOut
    this.#csvOut = ''
    return s
  }

  override _writev(chunks: Array<{ chunk: SecodaRecord }>, cb: (err?: Error | null) => void): void {
    let pending: Promise<void> | undefined
    try {
      for (const { chunk } of chunks) {
        const p = this.#take(chunk)
        if (p) pending = pending ? pending.then(() => p) : p
      }
    } catch (e) {
      return cb(e as Error)
    }
    if (pending) pending.then(() => cb(), cb)
    else cb()
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#finish().then(
      () => cb(),
      (e: unknown) => cb(e as Error),
    )
  }

  /** Resources the body carries: records, less what the CSV writer dropped (non-table entities, empty tables). */
  #carried(): number {
    if (!this.#csv) return this.#resources
    const d = this.#csv.info.dropped
    return Math.max(0, this.#resources - d.entities - d.emptyTables - d.nestedColumns)
  }

  /**
   * The guards, run with the whole input read and before the closing boundary: an upload
   * without resources, one carrying fewer than (1 − maxStale) × what the server holds, and
   * (local state) one missing more than maxStale of the ids the previous upload sent.
   */
  async #checkGuards(): Promise<Pick<UploadResult, 'server' | 'stale'>> {
    const carried = this.#carried()
    const counted = await this.#serverCount
    const held = 'n' in counted ? counted.n : undefined
    const id = this.options.integrationId
    if (carried === 0 && !this.options.allowEmpty) {
      throw new SecodaError(
        'UPLOAD_EMPTY',
        `the upload carries no resources${this.#csv && this.#resources > 0 ? ` (the CSV format dropped all ${this.#resources})` : ''}: as a sync it would archive every resource integration ${id} holds${held !== undefined ? ` (${held} now)` : ''}; nothing was sent. Check the input; --allow-empty sends an empty sync on purpose`,
      )
    }
    let server: UploadResult['server']
    if ('error' in counted) {
      if (!this.#allowStale) throw counted.error
      server = { skipped: `--allow-stale: ${(counted.error as Error).message}` }
    } else if ('skipped' in counted) server = undefined
    else {
      server = { previous: counted.n, uploading: carried }
      const floor = (1 - this.#maxStale) * counted.n
      if (carried < floor && !this.#allowStale) {
        const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`
        throw new SecodaError(
          'UPLOAD_STALE',
          `integration ${id} holds ${counted.n} resources and this upload carries ${carried}: as a sync it would archive about ${counted.n - carried} (${pct((counted.n - carried) / counted.n)}, more than --max-stale ${pct(this.#maxStale)}); nothing was synced. If the removals are intended, rerun with --allow-stale`,
        )
      }
    }
    const stale = this.#guard?.check()
    const out: Pick<UploadResult, 'server' | 'stale'> = {}
    if (server) out.server = server
    if (stale) out.stale = stale
    return out
  }

  async #finish(): Promise<void> {
    if (this.#csv) {
      this.#csv.end(this.#csvEmit)
      const tail = this.#takeCsvOut()
      if (tail) await this.#main.add(tail)
    }
    await this.#main.flush()
    // The guards need the whole input: they run here, before the closing boundary, so a
    // refusal still leaves the server with an incomplete body (or no request at all).
    const guards = await this.#checkGuards()
    if (this.#lineageFile) {
      await this.#lineage!.flush()
      await endFile(this.#lineageFile)
    }
    const lineagePath =
      this.#format === 'jsonl' && (this.#edges > 0 || this.options.emptyLineagePart) ? path.join(this.#tmp, 'lineage') : undefined
    let status: number | undefined
    let response: string | undefined
    let bytes: number
    if (this.#live) {
      this.#start()
      if (lineagePath) {
        await this.#main.raw(this.#mp.next(this.#names.lineage, this.#names.lineageFilename, 'application/x-ndjson'))
        for await (const c of createReadStream(lineagePath)) await this.#main.raw(c as Buffer)
      }
      this.progress.closingBoundarySent = true
      await this.#main.raw(this.#mp.close())
      this.#body!.end()
      bytes = this.#main.bytes
      const res = await this.#response!
      ;({ status, body: response } = res)
    } else {
      if (this.#mainFile) await endFile(this.#mainFile)
      const body = this.#fileBody(path.join(this.#tmp, 'part1'), lineagePath)
      bytes = body.length!
      if (!this.options.dryRun) {
        const res = await this.options.client.send({
          method: 'POST',
          path: this.#path(),
          headers: { 'content-type': this.#mp.contentType },
          body,
          signal: this.#abort.signal,
        })
        ;({ status, body: response } = res)
      }
    }
    this.result = {
      integrationId: this.options.integrationId,
      endpoint: this.#format === 'csv' ? 'import_metadata' : 'import_jsonl_metadata',
      dryRun: this.options.dryRun ?? false,
      status,
      response,
      attempts: this.progress.attempts,
      bytes,
      framing: this.#live ? 'chunked' : 'content-length',
      resources: this.#resources,
      lineage: this.#edges,
      ...guards,
    }
    if (this.#format === 'jsonl') this.result.lineagePart = lineagePath !== undefined
    this.#cleanup()
    // After `result` is set: the server has the upload, so a state-file failure must not be
    // reported as "nothing synced" (destroy() only aborts while result is unset).
    if (!this.options.dryRun) this.#guard?.commit()
  }

  /** A replayable body over spooled part files, with its exact length; records when the closing boundary goes out. */
  #fileBody(part1: string, lineage: string | undefined): ReplayableBody {
    const n = this.#names
    const pieces: Array<Buffer | string> =
      this.#format === 'csv'
        ? [this.#mp.first(n.csv, n.csvFilename, 'text/csv'), part1]
        : [this.#mp.first(n.resources, n.resourcesFilename, 'application/x-ndjson'), part1]
    if (lineage) pieces.push(this.#mp.next(n.lineage, n.lineageFilename, 'application/x-ndjson'), lineage)
    const close = this.#mp.close()
    const dry = this.options.dryRun
    let length = close.length
    for (const p of pieces) length += typeof p === 'string' ? (dry && p === part1 ? this.#main.bytes : statSync(p).size) : p.length
    const progress = this.progress
    return {
      replayable: true,
      length,
      async *open() {
        progress.attempts++
        for (const p of pieces) {
          if (typeof p === 'string') yield* createReadStream(p, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>
          else yield p
        }
        progress.closingBoundarySent = true
        yield close
      },
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#onSignal) this.options.signal?.removeEventListener('abort', this.#onSignal)
    if (this.result === undefined) {
      // Not finished: cut the request so the closing boundary is never sent.
      const reason = err ?? new SecodaError('ABORTED', 'upload stopped before the end of the input; nothing was synced')
      this.#abort.abort(reason)
      this.#body?.destroy(reason)
      this.#response?.catch(() => undefined)
    }
    this.#mainFile?.destroy()
    this.#lineageFile?.destroy()
    this.#cleanup()
    cb(err)
  }

  #cleanup(): void {
    rmSync(this.#tmp, { recursive: true, force: true })
    liveSpools.delete(this.#tmp)
  }
}

/** A spool file: created exclusively (never an existing file or a planted link), readable by the owner only. */
function spoolFile(p: string): WriteStream {
  return createWriteStream(p, { flags: 'wx', mode: 0o600 })
}

function nullSink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() })
}

async function endFile(ws: WriteStream): Promise<void> {
  if (ws.writableFinished) return
  ws.end()
  await once(ws, 'finish')
}

/**
 * Create the upload sink. The lead's `--upload` wiring and library users put it where the
 * file writer would go: `pipeline(source, createValidator({report}), createUploadSink(opts))`.
 */
export function createUploadSink(options: UploadOptions): UploadSink {
  return new UploadSink(options)
}

/**
 * Upload a stream of (already validated) Secoda records; resolves with the result once the
 * server accepted it. Any error in `source` aborts the request before its closing boundary.
 */
export async function uploadRecords(
  source: Readable | AsyncIterable<SecodaRecord> | Iterable<SecodaRecord>,
  options: UploadOptions,
): Promise<UploadResult> {
  const sink = createUploadSink(options)
  await pipeline(source as Readable, sink)
  return sink.result!
}
