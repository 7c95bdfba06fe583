// Streaming reader for the tab-separated text `mysql --batch` (and `mariadb -B`) prints:
// bytes in any chunking → rows of string fields with their line numbers, the same shape
// lib/scan/csv.ts gives, so readers take either. Format: one row per line, fields split by
// TAB, a header line first; inside fields the client escapes \t \n \r \\ and NUL as \0, and
// writes SQL NULL as the bare word NULL (indistinguishable from the string 'NULL').

import { isUtf8 } from 'node:buffer'
import { SecodaError } from '../errors.js'
import { countLines, firstInvalidUtf8, incompleteTail } from '../utf8.js'
import type { CsvRow } from './csv.js'

/** Options of {@link MysqlBatchScanner}. */
export interface MysqlBatchOptions {
  file?: string
  /** Longest line kept while incomplete, in characters (default 64 MiB). */
  maxRowChars?: number
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', b: '\b', Z: '\x1a' }

/** Undo the client's backslash escapes (unknown escapes keep the character, as MySQL does). */
export function unescapeMysqlBatch(v: string): string {
  if (!v.includes('\\')) return v
  return v.replace(/\\(.?)/gs, (_m, c: string) => ESCAPES[c] ?? c)
}

/** Incremental `mysql --batch` reader: {@link push} chunks, {@link end} once. */
export class MysqlBatchScanner {
  /** 1-based number of the line being read. */
  line = 1
  rows = 0
  /** Bytes of a UTF-8 character split by the end of the last chunk (at most 3). */
  private carry: Buffer | null = null
  private rest = ''
  private readonly file: string | undefined
  private readonly maxRowChars: number

  constructor(options: MysqlBatchOptions = {}) {
    this.file = options.file
    this.maxRowChars = options.maxRowChars ?? 64 * 1024 * 1024
  }

  /** Feed bytes (UTF-8) or text; returns the complete rows. */
  push(chunk: Uint8Array | string): CsvRow[] {
    const text = typeof chunk === 'string' ? chunk : this.decode(chunk)
    const s = this.rest === '' ? text : this.rest + text
    const out: CsvRow[] = []
    let at = 0
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', at)) {
      this.row(s.slice(at, nl), out)
      at = nl + 1
    }
    this.rest = s.slice(at)
    if (this.rest.length > this.maxRowChars)
      throw new SecodaError('CSV_SYNTAX', `line ${this.line} is longer than ${this.maxRowChars} characters`, {
        file: this.file,
        line: this.line,
      })
    return out
  }

  /** End of input: the last line, if it has no newline. */
  end(): CsvRow[] {
    if (this.carry !== null) {
      throw new SecodaError('INPUT_UTF8', `input ends inside a UTF-8 character, on line ${this.line}`, { file: this.file, line: this.line })
    }
    const out: CsvRow[] = []
    const last = this.rest
    this.rest = ''
    if (last !== '') this.row(last, out)
    return out
  }

  /**
   * UTF-8 bytes → text, a character split by the chunk's end held for the next chunk. Invalid
   * bytes are an error on the line of the first of them (found on the bytes: a U+FFFD of a
   * lossy decoding could be one that is really in the text).
   */
  private decode(chunk: Uint8Array): string {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, buf])
      this.carry = null
    }
    const tail = incompleteTail(buf)
    if (tail > 0) {
      this.carry = Buffer.from(buf.subarray(buf.length - tail))
      buf = buf.subarray(0, buf.length - tail)
    }
    if (!isUtf8(buf)) {
      // this.line is the line of the text held back (it holds no line end)
      const line = this.line + countLines(buf, 0, firstInvalidUtf8(buf))
      throw new SecodaError('INPUT_UTF8', `input is not valid UTF-8 on line ${line}`, { file: this.file, line })
    }
    return buf.toString('utf8')
  }

  private row(text: string, out: CsvRow[]): void {
    const line = this.line++
    if (text.endsWith('\r')) text = text.slice(0, -1)
    if (text === '') return
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    const fields = text.split('\t')
    for (let i = 0; i < fields.length; i++) fields[i] = unescapeMysqlBatch(fields[i]!)
    out.push({ fields, line })
    this.rows++
  }
}
