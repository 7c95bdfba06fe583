// Input layer: a file path or '-' (stdin) → a Readable of bytes, gzip detected by its
// magic bytes and decompressed in the stream. Text decoding happens in the readers, which
// work on bytes so that UTF-8 split across chunks is never mis-decoded.

import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { SecodaError } from './errors.js'

/** Options of {@link openInput}. */
export interface InputOptions {
  signal?: AbortSignal
  /** The stream read for '-' (default process.stdin); tests pass their own. */
  stdin?: NodeJS.ReadableStream
  /** Read size for files (default 256 KiB: large reads are markedly faster for big inputs). */
  highWaterMark?: number
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

/** A Buffer view of the bytes (no copy). */
function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

/**
 * Bytes in, bytes out, gzip decompressed when the first two bytes are its signature
 * (peeked across chunks, so a first chunk of one byte is fine). Concatenated gzip members
 * are decompressed as one stream, as gunzip(1) does.
 */
export async function* gunzipIfNeeded(source: AsyncIterable<Uint8Array>, name = '<input>'): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]()
  let head: Buffer = Buffer.alloc(0)
  try {
    while (head.length < 2) {
      const r = await it.next()
      if (r.done) {
        if (head.length > 0) yield head
        return
      }
      head = head.length === 0 ? asBuffer(r.value) : Buffer.concat([head, r.value])
    }
    if (!isGzip(head)) {
      yield head
      for (;;) {
        const r = await it.next()
        if (r.done) return
        yield asBuffer(r.value)
      }
    }
    const compressed = Readable.from((async function* () {
      yield head
      for (;;) {
        const r = await it.next()
        if (r.done) return
        yield r.value
      }
    })(), { objectMode: false })
    const gunzip = createGunzip()
    compressed.on('error', (err) => gunzip.destroy(err))
    compressed.pipe(gunzip)
    try {
      for await (const chunk of gunzip) yield chunk as Buffer
    } catch (err) {
      if (err instanceof SecodaError) throw err
      throw new SecodaError('INPUT_GZIP', `cannot decompress gzip input: ${(err as Error).message}, in ${name}`, { file: name, cause: err })
    } finally {
      compressed.destroy()
      gunzip.destroy()
    }
  } finally {
    await it.return?.()
  }
}

async function* readRaw(raw: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of raw) yield chunk
  } catch (err) {
    throw ioError(err as NodeJS.ErrnoException, name)
  }
}

/**
 * Open a file, or stdin for '-', as a Readable of bytes, decompressing gzip. A missing or
 * unreadable file fails the stream with INPUT_NOT_FOUND; read errors become INPUT_READ.
 */
export function openInput(file: string, options: InputOptions = {}): Readable {
  const name = displayName(file)
  const hwm = options.highWaterMark ?? 256 * 1024
  const raw: AsyncIterable<Uint8Array> = file === '-'
    ? (options.stdin ?? process.stdin) as AsyncIterable<Uint8Array>
    : createReadStream(file, { highWaterMark: hwm, signal: options.signal })
  return Readable.from(gunzipIfNeeded(readRaw(raw, name), name), { objectMode: false, highWaterMark: hwm, signal: options.signal } as never)
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
