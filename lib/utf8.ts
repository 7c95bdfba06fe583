// A pass-through byte stage that fails on invalid UTF-8 with the line it is on, for readers
// (like csv-parse) that would otherwise decode bad bytes to U+FFFD silently. Characters split
// across chunks are checked whole: up to 3 trailing bytes of a chunk are carried over.

import { isUtf8 } from 'node:buffer'
import { Transform, type TransformCallback } from 'node:stream'
import { SecodaError } from './errors.js'

/** Number of bytes at the end of `buf` that start a UTF-8 character not complete in `buf`. */
export function incompleteTail(buf: Uint8Array): number {
  const n = buf.length
  for (let back = 1; back <= Math.min(3, n); back++) {
    const c = buf[n - back]!
    if ((c & 0xc0) === 0x80) continue // continuation byte: look further back
    const width = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1
    return width > back ? back : 0
  }
  return 0
}

/**
 * Text chunks → UTF-8 bytes for a byte scanner: a surrogate pair split between two chunks is
 * held back until it is whole (encoding half a pair would write U+FFFD). `push` returns the
 * bytes of a chunk; a lone high surrogate at the very end is never returned.
 */
export class TextToUtf8 {
  private held = ''

  push(chunk: string): Buffer {
    let text = this.held + chunk
    this.held = ''
    const last = text.charCodeAt(text.length - 1)
    if (last >= 0xd800 && last <= 0xdbff) {
      this.held = text.slice(-1)
      text = text.slice(0, -1)
    }
    return Buffer.from(text, 'utf8')
  }
}

/**
 * Offset of the first byte of `buf` that does not start a valid UTF-8 character (one cut
 * off by the end counts as invalid), or -1. For error messages: it walks character by
 * character. (Looking for U+FFFD in a lossy decoding instead would stop at a U+FFFD that is
 * really in the text.)
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0
  while (i < buf.length) {
    const c = buf[i]!
    if (c < 0x80) {
      i++
      continue
    }
    const w = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0
    if (w === 0 || i + w > buf.length || !isUtf8(buf.subarray(i, i + w))) return i
    i += w
  }
  return -1
}

/** Count of LF bytes in buf[start, end). */
export function countLines(buf: Uint8Array, start = 0, end = buf.length): number {
  let n = 0
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  for (let i = b.indexOf(10, start); i !== -1 && i < end; i = b.indexOf(10, i + 1)) n++
  return n
}

/**
 * Stream-free core: {@link Utf8Checker.push} returns the bytes that are complete characters
 * (checked), keeping an incomplete trailing character for the next chunk; throws INPUT_UTF8
 * with line and byte offset on invalid input.
 */
export class Utf8Checker {
  private carry: Buffer | null = null
  private line = 1
  private offset = 0

  constructor(private readonly file?: string) {}

  push(chunk: Buffer): Buffer {
    const buf = this.carry === null ? chunk : Buffer.concat([this.carry, chunk])
    const tail = incompleteTail(buf)
    const body = tail === 0 ? buf : buf.subarray(0, buf.length - tail)
    this.carry = tail === 0 ? null : Buffer.from(buf.subarray(buf.length - tail))
    this.check(body)
    return body
  }

  /** The rest at end of input (an incomplete character there is an error). */
  end(): Buffer | null {
    const rest = this.carry
    this.carry = null
    if (rest !== null) this.check(rest)
    return rest
  }

  private check(buf: Buffer): void {
    if (isUtf8(buf)) {
      this.line += countLines(buf)
      this.offset += buf.length
      return
    }
    const i = firstInvalidUtf8(buf)
    this.line += countLines(buf, 0, i)
    throw new SecodaError(
      'INPUT_UTF8',
      `invalid UTF-8 byte 0x${buf[i]!.toString(16).padStart(2, '0')} at byte offset ${this.offset + i}, at ${this.file ?? 'input'}:${this.line}`,
      { file: this.file, line: this.line, offset: this.offset + i },
    )
  }
}

/** A pass-through Transform that fails on invalid UTF-8 (see {@link Utf8Checker}). */
export function createUtf8Guard(file?: string): Transform {
  const checker = new Utf8Checker(file)
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        cb(null, checker.push(chunk))
      } catch (err) {
        cb(err as Error)
      }
    },
    flush(cb: TransformCallback) {
      try {
        cb(null, checker.end() ?? undefined)
      } catch (err) {
        cb(err as Error)
      }
    },
  })
}
