// Secoda API settings and HTTP client: resolves the base URL and API key from flags and
// environment, refuses unsafe settings, and sends requests over undici with timeouts,
// always-consumed response bodies, and retries (429/502/503/504, connection resets) with
// exponential backoff, jitter and Retry-After — only for bodies that can be replayed.
// The API key is held in an object that never prints it. Spec: Secoda's API reference
// (https://docs.secoda.co); what is assumed of it: docs/upload.md, "How an upload works".

import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { Agent, request, type Dispatcher } from 'undici'
import { SecodaError } from '../errors.js'

/** Base URLs of Secoda's hosted regions. */
export const REGION_URLS = {
  us: 'https://api.secoda.co/api/v1',
  eu: 'https://eapi.secoda.co/api/v1',
  apac: 'https://aapi.secoda.co/api/v1',
} as const
export type Region = keyof typeof REGION_URLS

const REDACTED = '[redacted]'

/**
 * An API key that never shows itself: `String(key)`, `JSON.stringify`, `util.inspect` and
 * template strings all give `[redacted]`, so a key cannot leak through a log or state file
 * by accident. Only the client reads it, to build the Authorization header.
 */
export class ApiKey {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  /** The key itself. Use only for the Authorization header. */
  reveal(): string {
    return this.#value
  }
  #pattern: RegExp | undefined
  /**
   * Replace every occurrence of the key in a text (e.g. a server's error body), whatever its
   * form: as it is, in any letter case, URL-encoded, JSON-escaped, or base64-encoded.
   */
  redact(text: string): string {
    if (this.#value.length < 4) return text
    if (this.#pattern === undefined) {
      const v = this.#value
      const forms = new Set([
        v,
        encodeURIComponent(v),
        JSON.stringify(v).slice(1, -1),
        Buffer.from(v).toString('base64').replace(/=+$/, ''),
        Buffer.from(v).toString('base64url'),
      ])
      const alternatives = [...forms].filter((f) => f.length >= 4).map((f) => f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      this.#pattern = new RegExp(alternatives.join('|'), 'gi')
    }
    return text.replace(this.#pattern, REDACTED)
  }
  toString(): string {
    return REDACTED
  }
  toJSON(): string {
    return REDACTED
  }
  [inspect.custom](): string {
    return REDACTED
  }
}

/** Where the settings may come from (flags win over the environment). */
export interface ApiSettingsInput {
  /** --api-url: full base URL, e.g. `https://secoda.example.com/api/v1`. */
  apiUrl?: string
  /** --region us|eu|apac. */
  region?: string
  /** --api-key-file: a file holding the key (first line; surrounding space trimmed). */
  apiKeyFile?: string
  /** --api-key: accepted, with a warning (shell history and process lists show it). */
  apiKey?: string
  /** Environment to read SECODA_API_URL / SECODA_API_KEY from. Default `process.env`. */
  env?: Record<string, string | undefined>
  /** Settings that need no key (dry runs): a missing key is not an error. */
  keyOptional?: boolean
}

/** Resolved, checked settings. */
export interface ApiSettings {
  /** Base URL without trailing slash, e.g. `https://api.secoda.co/api/v1`. */
  readonly baseUrl: string
  /** Undefined only with `keyOptional`. */
  readonly key: ApiKey | undefined
  /** Things the user should hear about (e.g. a key given on the command line). */
  readonly warnings: readonly string[]
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h)
}

/**
 * Resolve the base URL and key. Order: --api-url, then --region, then SECODA_API_URL, then
 * the US region; --api-key-file, then --api-key (warned), then SECODA_API_KEY.
 * Throws UPLOAD_CONFIG for an unknown region, a malformed URL, plain http:// to a host that
 * is not loopback (the key would cross the network in clear), or no key.
 */
export function resolveApiSettings(input: ApiSettingsInput = {}): ApiSettings {
  const env = input.env ?? process.env
  const warnings: string[] = []
  if (input.apiUrl !== undefined && input.region !== undefined) {
    throw new SecodaError('UPLOAD_CONFIG', 'give either --api-url or --region, not both')
  }
  let raw: string
  if (input.apiUrl !== undefined) raw = input.apiUrl
  else if (input.region !== undefined) {
    const r = input.region.toLowerCase()
    if (!(r in REGION_URLS)) throw new SecodaError('UPLOAD_CONFIG', `unknown region: expected us, eu or apac, got "${input.region}"`)
    raw = REGION_URLS[r as Region]
  } else raw = env.SECODA_API_URL || REGION_URLS.us
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new SecodaError('UPLOAD_CONFIG', `API URL is not a URL: got "${withoutUserinfo(raw)}"`)
  }
  if (url.username || url.password)
    throw new SecodaError('UPLOAD_CONFIG', 'API URL must not carry credentials: use SECODA_API_KEY or --api-key-file')
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) {
      throw new SecodaError(
        'UPLOAD_CONFIG',
        `refusing plain http:// to ${url.hostname}: the API key would cross the network unencrypted; use https:// (http:// is allowed to loopback only)`,
      )
    }
  } else if (url.protocol !== 'https:') {
    throw new SecodaError('UPLOAD_CONFIG', `API URL must be https://: got "${url.protocol}"`)
  }
  if (url.search || url.hash) throw new SecodaError('UPLOAD_CONFIG', 'API URL must not have a query or fragment')
  if (!/\/api\/v1\/?$/.test(url.pathname)) {
    warnings.push(
      `API URL ${url.origin}${url.pathname} does not end in /api/v1 (Secoda's API paths live under it; self-hosted instances need it)`,
    )
  }
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`

  let key: string | undefined
  if (input.apiKeyFile !== undefined) {
    try {
      key = readFileSync(input.apiKeyFile, 'utf8').split(/\r?\n/)[0]!.trim()
    } catch (e) {
      throw new SecodaError(
        'UPLOAD_CONFIG',
        `cannot read --api-key-file ${input.apiKeyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      )
    }
    if (!key) throw new SecodaError('UPLOAD_CONFIG', `--api-key-file ${input.apiKeyFile} is empty`)
  } else if (input.apiKey !== undefined) {
    warnings.push('--api-key puts the key in shell history and process lists: prefer SECODA_API_KEY or --api-key-file')
    key = input.apiKey.trim()
  } else key = env.SECODA_API_KEY?.trim()
  if (!key && !input.keyOptional) {
    throw new SecodaError('UPLOAD_CONFIG', 'no API key: set SECODA_API_KEY or pass --api-key-file FILE')
  }
  return Object.freeze({ baseUrl, key: key ? new ApiKey(key) : undefined, warnings: Object.freeze(warnings) })
}

/** Client tuning; every field optional. */
export interface ClientOptions {
  /** Attempts for retryable failures, including the first. Default 5. */
  maxAttempts?: number
  /** First backoff delay. Default 1000 ms. */
  baseDelayMs?: number
  /** Backoff cap (also the cap for Retry-After). Default 60 000 ms. */
  maxDelayMs?: number
  /** Connect timeout. Default 10 000 ms. */
  connectTimeoutMs?: number
  /** Time to wait for response headers after the request was sent. Default 300 000 ms. */
  headersTimeoutMs?: number
  /** Time allowed between two chunks of the response body. Default 300 000 ms. */
  bodyTimeoutMs?: number
  /** Debug sink: one line per request and retry; never sees headers or the key. */
  debug?: (line: string) => void
  /** Undici dispatcher to use (tests, proxies). Default an Agent with the timeouts above. */
  dispatcher?: Dispatcher
  /** Random source for jitter (tests). Default Math.random. */
  random?: () => number
  /** Sleep (tests). Default a timer that the signal cancels. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Total time one request may spend waiting between attempts (--max-wait). Default 120 000 ms. */
  maxWaitMs?: number
  /** Secoda's rate window: a 429 without Retry-After waits this long (30 writes a minute). Default 60 000 ms. */
  rateWindowMs?: number
  /** Where waits the user should see go (printed without --verbose). Default: the debug sink. */
  notice?: (line: string) => void
}

/** A request body that can be sent again: a factory returning a fresh stream each time. */
export interface ReplayableBody {
  replayable: true
  /** A new body stream (or iterable) with the same bytes. */
  open(): NodeJS.ReadableStream | AsyncIterable<Uint8Array | string>
  /** Byte length when known (sent as Content-Length). */
  length?: number
}

/** A body that can be sent once (a live stream). */
export interface LiveBody {
  replayable: false
  stream: NodeJS.ReadableStream | AsyncIterable<Uint8Array | string>
  length?: number
}

/** What {@link SecodaClient.send} sends. */
export interface SendRequest {
  method: 'GET' | 'POST'
  /** Path under the base URL, starting with `/`, e.g. `/integration/integrations/`. Or an absolute URL on the same origin (paging links). */
  path: string
  headers?: Record<string, string>
  body?: string | ReplayableBody | LiveBody
  /** Aborts the request (and any backoff wait). */
  signal?: AbortSignal
  /** Retry connection resets too (safe for GET, and for bodies Secoda treats as a whole sync). Default true. */
  retryResets?: boolean
  /** Which statuses are retried: all of 429/502/503/504, or only 429 (a request that must not be repeated blindly). Default 'all'. */
  retryStatuses?: 'all' | 'rate-limit'
}

/** A 2xx answer, body read in full. */
export interface SendResult {
  status: number
  body: string
  attempts: number
}

const RETRY_STATUS = new Set([429, 502, 503, 504])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED'])

/** The HTTP status behind a SecodaError from {@link SecodaClient.send}, if it came from an answer. */
export function httpStatusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | undefined)?.status
  return typeof s === 'number' ? s : undefined
}

/** Parse Retry-After (delta-seconds or HTTP date) into milliseconds; undefined if absent or malformed. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return undefined
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.max(0, t - now)
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code
    if (typeof c === 'string' && c !== 'UND_ERR_ABORTED') return c
    cur = (cur as { cause?: unknown }).cause
  }
  return undefined
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * A small Secoda API client. Every response body is read to the end (undici keeps the
 * connection otherwise), errors become SecodaErrors whose text has the key redacted.
 */
export class SecodaClient {
  readonly baseUrl: string
  readonly options: Readonly<Required<Omit<ClientOptions, 'debug' | 'dispatcher' | 'notice'>>>
  readonly #key: ApiKey | undefined
  readonly #dispatcher: Dispatcher
  readonly #ownDispatcher: boolean
  readonly #debug: (line: string) => void
  readonly #notice: (line: string) => void

  constructor(settings: ApiSettings, options: ClientOptions = {}) {
    this.baseUrl = settings.baseUrl
    this.#key = settings.key
    this.options = Object.freeze({
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      baseDelayMs: options.baseDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 300_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 300_000,
      random: options.random ?? Math.random,
      sleep: options.sleep ?? abortableSleep,
      maxWaitMs: options.maxWaitMs ?? 120_000,
      rateWindowMs: options.rateWindowMs ?? 60_000,
    })
    this.#ownDispatcher = options.dispatcher === undefined
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connectTimeout: this.options.connectTimeoutMs,
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyTimeoutMs,
      })
    const debug = options.debug
    this.#debug = debug ? (l) => debug(this.redact(l)) : () => {}
    const notice = options.notice
    this.#notice = notice ? (l) => notice(this.redact(l)) : this.#debug
  }

  /** Remove the key from a text. */
  redact(text: string): string {
    return this.#key ? this.#key.redact(text) : text
  }

  /** Close the connection pool (only if the client created it). */
  async close(): Promise<void> {
    if (this.#ownDispatcher) await this.#dispatcher.close()
  }

  /** Backoff before attempt `attempt + 1` (attempt counts from 1): Retry-After if given, else exponential with jitter. */
  backoffMs(attempt: number, retryAfterMs: number | undefined): number {
    const { baseDelayMs, maxDelayMs, random } = this.options
    if (retryAfterMs !== undefined) return Math.min(maxDelayMs, retryAfterMs) + Math.floor(random() * Math.min(1000, baseDelayMs))
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
    // "Equal jitter": half fixed, half random, so retries from many clients spread out
    // without ever retrying immediately.
    return Math.floor(exp / 2 + random() * (exp / 2))
  }

  /** Send a request; resolves with a 2xx answer, throws a SecodaError otherwise. */
  async send(req: SendRequest): Promise<SendResult> {
    const url = this.#url(req.path)
    const body = req.body
    const replayable = body === undefined || typeof body === 'string' || body.replayable
    const maxAttempts = replayable ? this.options.maxAttempts : 1
    const retryStatus = req.retryStatuses === 'rate-limit' ? new Set([429]) : RETRY_STATUS
    let waited = 0
    for (let attempt = 1; ; attempt++) {
      const what = `${req.method} ${url.pathname}`
      let retryAfter: number | undefined
      let rateWindow = false
      let failure: SecodaError
      try {
        const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
        if (this.#key) headers.authorization = `Bearer ${this.#key.reveal()}`
        let payload: string | NodeJS.ReadableStream | AsyncIterable<Uint8Array | string> | undefined
        if (typeof body === 'string') payload = body
        else if (body) {
          payload = body.replayable ? body.open() : body.stream
          if (body.length !== undefined) headers['content-length'] = String(body.length)
        }
        this.#debug(
          `${what} attempt ${attempt}${body && typeof body !== 'string' ? (body.length !== undefined ? ` (${body.length} bytes)` : ' (chunked)') : ''}`,
        )
        const res = await request(url, {
          method: req.method,
          headers,
          body: payload as never,
          dispatcher: this.#dispatcher,
          signal: req.signal,
        })
        // always consume: undici keeps the socket busy otherwise; capped, with an overall deadline
        const read = await readCapped(res.body, this.options.bodyTimeoutMs)
        const text = this.redact(read.text)
        this.#debug(`${what} -> ${res.statusCode}`)
        if (res.statusCode >= 200 && res.statusCode < 300) {
          if (read.over) throw new SecodaError('UPLOAD_HTTP', `${what}: the answer is larger than ${MAX_RESPONSE_BYTES} bytes: refused`)
          return { status: res.statusCode, body: text, attempts: attempt }
        }
        failure = this.#statusError(res.statusCode, text, what)
        if (!retryStatus.has(res.statusCode)) throw failure
        retryAfter = parseRetryAfter(res.headers['retry-after'])
        // Secoda documents 30 writes a minute and no Retry-After: wait for the window to pass.
        if (retryAfter === undefined && res.statusCode === 429) {
          retryAfter = this.options.rateWindowMs
          rateWindow = true
        }
      } catch (e) {
        if (e instanceof SecodaError && e.code !== 'UPLOAD_NETWORK') throw e
        if (req.signal?.aborted) throw req.signal.reason ?? e
        const code = errorCode(e)
        failure = e instanceof SecodaError ? e : this.#networkError(e, code, what)
        if (!(code !== undefined && RESET_CODES.has(code) && req.retryResets !== false)) throw failure
      }
      if (!replayable) {
        throw withStatus(
          new SecodaError(
            failure.code,
            `${failure.message}; not retried: the body was a live stream that cannot be sent again (drop --chunked to send a spooled body that can be retried)`,
            { cause: failure },
          ),
          failure,
        )
      }
      if (attempt >= maxAttempts) {
        throw withStatus(
          new SecodaError(failure.code, `${failure.message}; gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}`, {
            cause: failure,
          }),
          failure,
        )
      }
      const wait =
        retryAfter !== undefined
          ? retryAfter + Math.floor(this.options.random() * Math.min(1000, this.options.baseDelayMs))
          : this.backoffMs(attempt, undefined)
      if (waited + wait > this.options.maxWaitMs) {
        throw withStatus(
          new SecodaError(
            failure.code,
            `${failure.message}; gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: the next wait (${Math.ceil(wait / 1000)} s${retryAfter !== undefined ? ', the rate window or Retry-After' : ''}) would exceed --max-wait ${Math.round(this.options.maxWaitMs / 1000)} s`,
            { cause: failure },
          ),
          failure,
        )
      }
      waited += wait
      const line = `${what}: ${failure.message}; waiting ${Math.round(wait / 100) / 10} s${rateWindow ? ' for the rate window (Secoda allows 30 writes a minute)' : ''} before attempt ${attempt + 1} of ${maxAttempts}`
      if (httpStatusOf(failure) === 429) this.#notice(line)
      else this.#debug(line)
      await this.options.sleep(wait, req.signal)
    }
  }

  /** GET or POST JSON and parse the answer. */
  async json<T = unknown>(method: 'GET' | 'POST', path: string, payload?: unknown, signal?: AbortSignal): Promise<T> {
    const req: SendRequest = { method, path, signal, retryResets: method === 'GET' }
    if (payload !== undefined) {
      req.body = JSON.stringify(payload)
      req.headers = { 'content-type': 'application/json' }
    }
    const res = await this.send(req)
    try {
      return JSON.parse(res.body) as T
    } catch {
      throw new SecodaError(
        'UPLOAD_HTTP',
        `${method} ${path}: the answer is not JSON: got ${JSON.stringify(this.redact(res.body.slice(0, 200)))}`,
      )
    }
  }

  #url(p: string): URL {
    const base = new URL(this.baseUrl)
    if (/^https?:\/\//.test(p)) {
      const u = new URL(p)
      // Paging links come from the server: follow them only on the same origin, so the key
      // is never sent elsewhere.
      if (u.origin !== base.origin)
        throw new SecodaError('UPLOAD_HTTP', `the server sent a link to another origin (${u.origin}); refusing to send the key there`)
      return u
    }
    return new URL(this.baseUrl + p)
  }

  #statusError(status: number, text: string, what: string): SecodaError {
    const detail = this.redact(summarizeBody(text))
    if (status === 401 || status === 403) {
      const e = new SecodaError(
        'UPLOAD_AUTH',
        `${what}: ${status} ${status === 401 ? 'unauthorized' : 'forbidden'}${detail ? ` (${detail})` : ''}: check the API key (SECODA_API_KEY / --api-key-file), that the API URL or --region matches the workspace (${this.baseUrl}), and that the key's owner has the rights to manage integrations`,
      )
      return withStatus(e, status)
    }
    const hint = status === 411 ? ' (the server refuses chunked bodies: drop --chunked)' : ''
    return withStatus(new SecodaError('UPLOAD_HTTP', `${what}: HTTP ${status}${detail ? `: ${detail}` : ''}${hint}`), status)
  }

  #networkError(e: unknown, code: string | undefined, what: string): SecodaError {
    const msg = this.redact((e as Error)?.message ?? String(e))
    const hint =
      code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
        ? ' (timed out; see --timeout)'
        : ''
    return new SecodaError('UPLOAD_NETWORK', `${what}: ${code ?? 'network error'}: ${msg}${hint}`, { cause: e })
  }
}

/** Carry the HTTP status (a number, or the one of another error) on an error. */
function withStatus(e: SecodaError, from: number | SecodaError): SecodaError {
  const status = typeof from === 'number' ? from : httpStatusOf(from)
  if (status !== undefined) Object.defineProperty(e, 'status', { value: status, enumerable: false })
  return e
}

/** A URL-like text with any `user:password@` part removed, for messages. */
export function withoutUserinfo(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#@\s]*@/i, '$1[redacted]@')
}

/** Most of a response body read: answers are small JSON; a larger one is cut (errors) or refused (2xx). */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * Read a response body up to {@link MAX_RESPONSE_BYTES} within `deadlineMs` overall (the
 * idle timeout alone lets a body that trickles a byte a minute run forever). A larger
 * body is cut there and the rest discarded; `over` tells.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], deadlineMs: number): Promise<{ text: string; over: boolean }> {
  const parts: Buffer[] = []
  let length = 0
  let over = false
  const timer = setTimeout(
    () => body.destroy(Object.assign(new Error(`the answer took longer than ${deadlineMs} ms`), { code: 'UND_ERR_BODY_TIMEOUT' })),
    deadlineMs,
  )
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (length + chunk.length > MAX_RESPONSE_BYTES) {
        parts.push(chunk.subarray(0, MAX_RESPONSE_BYTES - length))
        length = MAX_RESPONSE_BYTES
        over = true
        body.destroy()
        break
      }
      parts.push(chunk)
      length += chunk.length
    }
  } finally {
    clearTimeout(timer)
  }
  return { text: Buffer.concat(parts, length).toString('utf8'), over }
}

/** A short, single-line form of an error body: `detail` of a JSON body, else the text. */
function summarizeBody(text: string): string {
  let s = text
  try {
    const j = JSON.parse(text) as unknown
    if (j && typeof j === 'object' && 'detail' in j) s = String((j as { detail: unknown }).detail)
  } catch {
    /* not JSON: keep the text */
  }
  s = s.replace(/\s+/g, ' ').trim()
  return s.length > 300 ? s.slice(0, 300) + '…' : s
}
