// Secoda records → one multipart upload: an objectMode Writable that streams validated
// resources into the body of a single import_jsonl_metadata/ request (lineage spooled to a
// temporary file and sent as the second part), or CSV rows into import_metadata/. The
// closing multipart boundary is written only from final(), i.e. only after upstream ended
// without error and the stale guard agreed; destroy(err) aborts the request instead, so a
// server never receives a complete body for an invalid or truncated input (a complete body
// would be a sync that archives everything missing from it).

import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough, Writable, type Readable } from 'node:stream'
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import { SecodaError } from '../errors.js'
import type { ReplayableBody, SecodaClient } from './http.js'
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
  /** Write the whole body to temporary files first, then send it with Content-Length (retryable). Default false. */
  spool?: boolean
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
  /** Body framing used. */
  framing: 'content-length' | 'chunked'
  resources: number
  lineage: number
  /** Stale-guard counts (undefined when the guard is off). */
  stale?: StaleCounts
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
  readonly #mp = new Multipart()
  readonly #format: 'jsonl' | 'csv'
  readonly #names: Required<PartNames>
  readonly #live: boolean
  readonly #guard: StaleGuard | undefined
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
    this.#guard =
      options.stale === false
        ? undefined
        : new StaleGuard({ ...options.stale, baseUrl: options.client.baseUrl, integrationId: options.integrationId })
    this.#live = !options.spool && !options.dryRun
    this.#tmp = mkdtempSync(path.join(options.tmpDir ?? tmpdir(), 'secoda-upload-'))
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
    } else {
      this.#mainFile = createWriteStream(path.join(this.#tmp, 'part1'))
      this.#main = new ChunkWriter(options.dryRun && !options.spool ? nullSink() : this.#mainFile, chunk, failed)
    }
    if (this.#mainFile) this.#watch(this.#mainFile)
    if (this.#format === 'jsonl') {
      this.#lineageFile = this.#watch(createWriteStream(path.join(this.#tmp, 'lineage')))
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
   * Open the live request. Called with the first record (or at the end of an empty input),
   * not at construction: an input that cannot even be opened then costs no request.
   */
  #start(): void {
    if (this.#response || !this.#live) return
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

  async #finish(): Promise<void> {
    this.#start()
    if (this.#csv) {
      this.#csv.end(this.#csvEmit)
      const tail = this.#takeCsvOut()
      if (tail) await this.#main.add(tail)
    }
    await this.#main.flush()
    // The stale check needs the complete id list: it runs here, before the closing
    // boundary, so refusing still leaves the server with an incomplete body.
    const stale = this.#guard?.check()
    if (this.#lineageFile) {
      await this.#lineage!.flush()
      await endFile(this.#lineageFile)
    }
    const lineagePath = path.join(this.#tmp, 'lineage')
    let status: number | undefined
    let response: string | undefined
    let attempts = 0
    let bytes: number
    if (this.#live) {
      if (this.#format === 'jsonl') {
        await this.#main.raw(this.#mp.next(this.#names.lineage, this.#names.lineageFilename, 'application/x-ndjson'))
        for await (const c of createReadStream(lineagePath)) await this.#main.raw(c as Buffer)
      }
      await this.#main.raw(this.#mp.close())
      this.#body!.end()
      bytes = this.#main.bytes
      const res = await this.#response!
      ;({ status, body: response, attempts } = res)
    } else {
      await endFile(this.#mainFile!)
      const body = this.#fileBody(path.join(this.#tmp, 'part1'), this.#format === 'jsonl' ? lineagePath : undefined)
      bytes = body.length!
      if (!this.options.dryRun) {
        const res = await this.options.client.send({
          method: 'POST',
          path: this.#path(),
          headers: { 'content-type': this.#mp.contentType },
          body,
          signal: this.#abort.signal,
        })
        ;({ status, body: response, attempts } = res)
      }
    }
    this.result = {
      integrationId: this.options.integrationId,
      endpoint: this.#format === 'csv' ? 'import_metadata' : 'import_jsonl_metadata',
      dryRun: this.options.dryRun ?? false,
      status,
      response,
      attempts,
      bytes,
      framing: this.#live ? 'chunked' : 'content-length',
      resources: this.#resources,
      lineage: this.#edges,
    }
    if (stale) this.result.stale = stale
    this.#cleanup()
    // After `result` is set: the server has the upload, so a state-file failure must not be
    // reported as "nothing synced" (destroy() only aborts while result is unset).
    if (!this.options.dryRun) this.#guard?.commit()
  }

  /** A replayable body over spooled part files, with its exact length. */
  #fileBody(part1: string, lineage: string | undefined): ReplayableBody {
    const n = this.#names
    const pieces: Array<Buffer | string> =
      this.#format === 'csv'
        ? [this.#mp.first(n.csv, n.csvFilename, 'text/csv'), part1, this.#mp.close()]
        : [
            this.#mp.first(n.resources, n.resourcesFilename, 'application/x-ndjson'),
            part1,
            this.#mp.next(n.lineage, n.lineageFilename, 'application/x-ndjson'),
            lineage!,
            this.#mp.close(),
          ]
    const dry = this.options.dryRun && !this.options.spool
    let length = 0
    for (const p of pieces) length += typeof p === 'string' ? (dry && p === part1 ? this.#main.bytes : statSync(p).size) : p.length
    return {
      replayable: true,
      length,
      async *open() {
        for (const p of pieces) {
          if (typeof p === 'string') yield* createReadStream(p, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>
          else yield p
        }
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
  }
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
