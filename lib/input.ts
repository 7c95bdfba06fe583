// Input layer: a file path or '-' (stdin) → a Readable of bytes, gzip detected by its
// magic bytes and decompressed in the stream. Text decoding happens in the readers, which
// work on bytes so that UTF-8 split across chunks is never mis-decoded.

import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough, Readable, Transform, pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { SecodaError, isSecodaError } from './errors.js'
import { type InputKind, type InputReader, SNIFF_BYTES, checkInputKind, sniff } from './sniff.js'

/** Options of {@link openInput}. */
export interface InputOptions {
  signal?: AbortSignal
  /** The stream read for '-' (default process.stdin); tests pass their own. */
  stdin?: NodeJS.ReadableStream
  /** Read size for files (default 256 KiB: large reads are markedly faster for big inputs). */
  highWaterMark?: number
  /** Told the size of each chunk read from the file or stdin (before gzip decompression). */
  onRead?: (bytes: number) => void
}

/** What to call an input in messages: '<stdin>' for '-'. */
export function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file
}

/** True when the bytes start with the gzip signature 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b
}

function ioError(err: NodeJS.ErrnoException, name: string): SecodaError {
  if (err instanceof SecodaError) return err
  if (err.name === 'AbortError') return new SecodaError('ABORTED', 'interrupted', { file: name, cause: err })
  if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : 'is a directory'
    return new SecodaError('INPUT_NOT_FOUND', `cannot open input: ${why}: ${name}`, { file: name, cause: err })
  }
  return new SecodaError('INPUT_READ', `cannot read input: ${err.message}: ${name}`, { file: name, cause: err })
}

/**
 * Read the first bytes of a paused stream until `enough(head)` says so (or the stream ends),
 * without consuming them: they are put back in the same tick they were read in, since a
 * stream that ended meanwhile would refuse them. At the end of the stream they cannot be put
 * back, and the caller takes them as they are (`ended`).
 */
export function peekUntil(stream: Readable, enough: (head: Buffer) => boolean): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let length = 0
    const done = (ended: boolean): void => {
      cleanup()
      const head = Buffer.concat(parts, length)
      if (!ended && head.length > 0) stream.unshift(head)
      resolve({ head, ended })
    }
    const onEnd = (): void => done(true)
    const onReadable = (): void => {
      let c: Buffer | null
      while ((c = stream.read() as Buffer | null) !== null) {
        parts.push(c)
        length += c.length
        if (enough(parts.length === 1 ? c : Buffer.concat(parts, length))) return done(false)
      }
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(err)
    }
    const cleanup = (): void => {
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.off('error', onError)
    }
    stream.on('readable', onReadable)
    stream.once('end', onEnd)
    stream.once('error', onError)
  })
}

/**
 * Bytes in, bytes out, gzip decompressed when the first two bytes are its signature
 * (peeked across chunks, so a first chunk of one byte is fine). Concatenated gzip members
 * are decompressed as one stream, as gunzip(1) does. Destroying the result destroys the
 * source (stdin included), so an interrupted run does not hang on a pending read.
 */
export function gunzipIfNeeded(source: Readable, name = '<input>'): Readable {
  const out = new PassThrough({ highWaterMark: source.readableHighWaterMark })
  const fail = (err: unknown): void => {
    if (!out.destroyed) out.destroy(err as Error)
  }
  out.once('close', () => {
    if (!source.destroyed) source.destroy()
  })
  peekUntil(source, (head) => head.length >= 2).then(({ head, ended }) => {
    if (out.destroyed) return
    const from = ended ? Readable.from([head], { objectMode: false }) : source
    if (isGzip(head)) {
      // the gunzip stream's own error listener comes first, so the coded error is the one
      // the reader sees (pipeline() would otherwise pass zlib's raw error on)
      const gunzip = createGunzip()
      gunzip.on('error', (err) => {
        fail(
          isSecodaError(err)
            ? err
            : new SecodaError('INPUT_GZIP', `cannot decompress gzip input: ${err.message}, in ${name}`, { file: name, cause: err }),
        )
      })
      pipeline(from, gunzip, (err) => {
        if (err) fail(err)
      })
      gunzip.pipe(out)
    } else if (ended) {
      out.end(head)
    } else {
      pipeline(source, out, (err) => {
        if (err) fail(err)
      })
    }
  }, fail)
  return out
}

/**
 * Open a file, or stdin for '-', as a Readable of bytes, decompressing gzip. A missing or
 * unreadable file fails the stream with INPUT_NOT_FOUND; read errors become INPUT_READ.
 */
export function openInput(file: string, options: InputOptions = {}): Readable {
  const name = displayName(file)
  const hwm = options.highWaterMark ?? 256 * 1024
  const raw: Readable = file === '-' ? asReadable(options.stdin ?? process.stdin) : createReadStream(file, { highWaterMark: hwm })
  // map I/O errors to coded ones where they happen, before anything else sees them
  const mapped = new PassThrough({ highWaterMark: hwm })
  raw.on('error', (err) => mapped.destroy(ioError(err as NodeJS.ErrnoException, name)))
  mapped.once('close', () => {
    if (!raw.destroyed) raw.destroy()
  })
  const onRead = options.onRead
  if (onRead !== undefined) raw.on('data', (c: Buffer) => onRead(c.length))
  raw.pipe(mapped)
  const out = gunzipIfNeeded(mapped, name)
  if (options.signal !== undefined) {
    const signal = options.signal
    const abort = (): void => {
      out.destroy(new SecodaError('ABORTED', 'interrupted', { file: name }))
    }
    if (signal.aborted) abort()
    else {
      signal.addEventListener('abort', abort, { once: true })
      out.once('close', () => signal.removeEventListener('abort', abort))
    }
  }
  return out
}

function asReadable(s: NodeJS.ReadableStream): Readable {
  return s instanceof Readable ? s : Readable.from(s as AsyncIterable<Buffer>, { objectMode: false })
}

/** Size in bytes of a regular file, or undefined for stdin, pipes and missing files. */
export async function inputSize(file: string): Promise<number | undefined> {
  if (file === '-') return undefined
  try {
    const s = await stat(file)
    return s.isFile() ? s.size : undefined
  } catch {
    return undefined
  }
}

/**
 * About how many resource ids some input files hold, from their sizes at `bytesPerId` bytes
 * an id, for sizing the validator's id index up front (growing it rehashes, and briefly holds
 * the old and the new index). stdin, non-files, unreadable and gzip-compressed files count as
 * unknown (the index then grows as needed); undefined when nothing is known.
 */
export async function estimateIdsFromSize(files: readonly string[], bytesPerId: number): Promise<number | undefined> {
  let total = 0
  for (const f of files) {
    if (f === '-') continue
    try {
      const fh = await open(f, 'r')
      try {
        const st = await fh.stat()
        if (!st.isFile()) continue
        const head = Buffer.alloc(2)
        await fh.read(head, 0, 2, 0)
        if (!isGzip(head)) total += st.size / bytesPerId
      } finally {
        await fh.close()
      }
    } catch {
      // unreadable: the conversion itself reports it
    }
  }
  return total > 0 ? Math.max(1024, Math.ceil(total)) : undefined
}

/** Options of {@link openSource}. */
export interface SourceOptions extends InputOptions {
  /** What the command reads: anything else fails with INPUT_FORMAT before parsing. */
  expect: InputReader
  /** Read a dump whose completion line is missing (see {@link requireDumpTrailer}). */
  allowTruncated?: boolean
}

/** The header line a dump tool starts with, and the line it ends a complete dump with. */
const DUMP_TOOLS: readonly { header: RegExp; trailer: RegExp; tool: string; line: string }[] = [
  {
    header: /^-- PostgreSQL database cluster dump\b/m,
    trailer: /^-- PostgreSQL database cluster dump complete\b/m,
    tool: 'pg_dumpall',
    line: '-- PostgreSQL database cluster dump complete',
  },
  {
    header: /^-- PostgreSQL database dump\b/m,
    trailer: /^-- PostgreSQL database dump complete\b/m,
    tool: 'pg_dump',
    line: '-- PostgreSQL database dump complete',
  },
  { header: /^-- (?:MySQL|MariaDB) dump\b/m, trailer: /^-- Dump completed\b/m, tool: 'mysqldump', line: '-- Dump completed' },
]

/**
 * When `head` starts with a dump tool's header, a pass-through that fails at the end of the
 * input with INPUT_TRUNCATED unless its last 4 KiB hold the tool's completion line: pg_dump,
 * pg_dumpall and mysqldump/mariadb-dump write one last, so a dump cut at a statement
 * boundary (a full disk, an interrupted copy) is told from a whole one. Undefined otherwise.
 */
export function requireDumpTrailer(head: Buffer, name: string): Transform | undefined {
  const text = head.toString('latin1', 0, 2048)
  const tool = DUMP_TOOLS.find((d) => d.header.test(text))
  if (tool === undefined) return undefined
  let tail: Buffer = Buffer.alloc(0)
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tail = chunk.length >= 4096 ? chunk.subarray(chunk.length - 4096) : Buffer.concat([tail, chunk]).subarray(-4096)
      cb(null, chunk)
    },
    flush(cb) {
      if (tool.trailer.test(tail.toString('latin1'))) return cb()
      cb(
        new SecodaError(
          'INPUT_TRUNCATED',
          `${name} starts as a ${tool.tool} dump but lacks its last line "${tool.line}": the dump is cut short (a full disk, an interrupted copy or a killed ${tool.tool}); re-dump it, or pass --allow-truncated to read what is there`,
          { file: name },
        ),
      )
    },
  })
}

/** A source's bytes, with what its first bytes looked like. */
export type SourceStream = Readable & { readonly kind: InputKind }

/**
 * UTF-16 bytes (either byte order, with or without a BOM) → UTF-8 bytes. Unpaired
 * surrogates fail with INPUT_UTF8.
 */
export function createUtf16Decoder(bigEndian: boolean, name = '<input>'): Transform {
  const decoder = new TextDecoder(bigEndian ? 'utf-16be' : 'utf-16le', { fatal: true })
  let bytes = 0
  const fail = (err: unknown): SecodaError =>
    new SecodaError('INPUT_UTF8', `invalid UTF-16 (an unpaired surrogate or an odd byte count) near byte ${bytes}, in ${name}`, {
      file: name,
      offset: bytes,
      cause: err,
    })
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        const text = decoder.decode(chunk, { stream: true })
        bytes += chunk.length
        cb(null, text.length > 0 ? Buffer.from(text, 'utf8') : undefined)
      } catch (err) {
        cb(fail(err))
      }
    },
    flush(cb) {
      try {
        const text = decoder.decode()
        cb(null, text.length > 0 ? Buffer.from(text, 'utf8') : undefined)
      } catch (err) {
        cb(fail(err))
      }
    },
  })
}

async function classify(stream: Readable): Promise<{ kind: InputKind; head: Buffer; ended: boolean }> {
  const { head, ended } = await peekUntil(stream, (h) => h.length >= SNIFF_BYTES)
  return { kind: sniff(head, ended), head, ended }
}

/**
 * Open an input for a command that reads `options.expect`: missing files and directories
 * fail with coded errors before any stream exists; gzip is decompressed and UTF-16 decoded
 * to UTF-8; then the first bytes are classified ({@link sniff}) and an input the command
 * does not read fails with INPUT_FORMAT, naming what it looks like and what reads it.
 */
export async function openSource(file: string, options: SourceOptions): Promise<SourceStream> {
  const name = displayName(file)
  if (file !== '-') {
    let s: Awaited<ReturnType<typeof stat>>
    try {
      s = await stat(file)
    } catch (err) {
      throw ioError(err as NodeJS.ErrnoException, name)
    }
    if (s.isDirectory()) {
      const toc = await stat(join(file, 'toc.dat')).catch(() => undefined)
      if (toc?.isFile()) checkInputKind('pg-directory', options.expect, name)
      throw new SecodaError('INPUT_NOT_FOUND', `cannot open input: is a directory: ${name}`, { file: name })
    }
  }
  let stream: Readable = openInput(file, options)
  let { kind, head, ended } = await classify(stream)
  if (kind === 'utf16le' || kind === 'utf16be') {
    const from = ended ? Readable.from([head], { objectMode: false }) : stream
    const decoded = createUtf16Decoder(kind === 'utf16be', name)
    pipeline(from, decoded, (err) => {
      if (err && !decoded.destroyed) decoded.destroy(err)
    })
    stream = decoded
    ;({ kind, head, ended } = await classify(stream))
  }
  // an input that ended while it was classified cannot take its bytes back
  if (ended) stream = Readable.from(head.length > 0 ? [head] : [], { objectMode: false })
  try {
    checkInputKind(kind, options.expect, name)
  } catch (err) {
    stream.destroy()
    throw err
  }
  const check =
    options.allowTruncated === true || (kind !== 'sql-postgres' && kind !== 'sql-mysql') ? undefined : requireDumpTrailer(head, name)
  if (check !== undefined) {
    const from = stream
    check.once('close', () => from.destroy())
    pipeline(from, check, (err) => {
      if (err && !check.destroyed) check.destroy(err)
    })
    stream = check
  }
  // an error before the consumer attaches stays on the stream (readable.errored) for it to see
  stream.on('error', () => {})
  Object.defineProperty(stream, 'kind', { value: kind })
  return stream as SourceStream
}
