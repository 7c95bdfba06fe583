// Streaming RFC 4180 CSV scanner: bytes or text in any chunking → rows of string fields,
// each with the 1-based line it started on. The stream-free core every CSV reader here
// shares (information_schema exports; reusable for the Secoda CSV reader).
//
// Why hand-written: bench/info-schema-csv.ts measured csv-parse, papaparse and uDSV against
// this scanner on the same export (figures in docs/columns.md). csv-parse is correct but too
// slow for the 2× Python target; papaparse and uDSV are fast but are not chunking-invariant
// state machines with line numbers and coded errors. A resumable state machine is: a field
// that spans chunks keeps its partial text and state, so no row is ever re-scanned, and
// memory is bounded by the longest row, not the chunk count. Rows that lie whole inside a
// 64 KiB window (nearly all) take a faster path that splits them in one loop over the
// bytes; the state machine takes the rest, and a randomized test holds the two to the same
// reading.

import { isUtf8 } from 'node:buffer'
import { SecodaError } from '../errors.js'
import { TextToUtf8, countLines, firstInvalidUtf8, incompleteTail } from '../utf8.js'

/** One parsed row. */
export interface CsvRow {
  /** The fields, unquoted (doubled quotes collapsed), in order. */
  fields: string[]
  /** 1-based line of the input the row starts on (quoted newlines count as lines). */
  line: number
}

/** Options of a {@link CsvScanner}. */
export interface CsvScannerOptions {
  /** Field delimiter, one character. Default `,`. */
  delimiter?: string
  /** Name of the input for error positions, e.g. the file name. */
  file?: string
  /**
   * Longest row, in characters, kept in memory while it is incomplete; a longer one is a
   * CSV_SYNTAX error (most often an unclosed quote swallowing the rest of a large file).
   * Default 64 MiB.
   */
  maxRowChars?: number
  /**
   * Line number of the first byte, for a scanner that takes over in the middle of an input
   * at a row boundary (there is then no leading BOM to skip). Default 1.
   */
  startLine?: number
}

/** A latin1-decoded byte ≥ 0x80: part of a UTF-8 multi-byte character. */
const HIGH = /[\x80-\xff]/
/** Bytes decoded and scanned at a time (see push). */
export const SCAN_WINDOW = 64 * 1024
const QUOTE = 0x22
const LF = 0x0a
const CR = 0x0d

// Scanner states between characters (and between chunks).
const ROW_START = 0 // before the first character of a row (empty lines are skipped here)
const FIELD_START = 1 // after a delimiter
const UNQUOTED = 2 // inside an unquoted field
const QUOTED = 3 // inside a quoted field
const QUOTE_SEEN = 4 // a quote inside a quoted field: closing quote or first of a doubled one
const AFTER_CR = 5 // a row ended with CR: a following LF belongs to it

/**
 * Incremental CSV scanner (RFC 4180 plus LF and bare-CR line ends, a leading UTF-8 BOM, and
 * empty lines skipped). Feed it with {@link CsvScanner.push} in any chunking — bytes are
 * decoded as UTF-8 with multi-byte characters split across chunks handled — and call
 * {@link CsvScanner.end} once; both return the rows completed so far.
 *
 * Lenient where common exporters are (as Python's csv module is): a quote inside an
 * unquoted field is kept as a character. Strict where data would be lost: text after a
 * closing quote, and a quote still open at end of input, are CSV_SYNTAX errors that give
 * the line (the line where the quoted field began, for an unclosed quote).
 */
export class CsvScanner {
  /** Lines started so far (1-based number of the current line). */
  line = 1
  /** Rows returned so far. */
  rows = 0
  /** Characters scanned so far. */
  chars = 0
  private readonly delim: number
  private readonly file: string | undefined
  private readonly maxRowChars: number
  /** Bytes of a UTF-8 character split by the end of the last chunk (at most 3). */
  private carry: Buffer | null = null
  /** The bytes of the window being scanned (the scan text is their latin1 decoding, 1:1). */
  private win: Buffer = Buffer.alloc(0)
  /** Fields of the previous row: the next row's array is allocated at that size. */
  private width = 0
  /** Text chunks to bytes (a surrogate pair split between two is held back until whole). */
  private readonly text = new TextToUtf8()
  /** The field being scanned has bytes ≥ 0x80. */
  private hi = false
  private bomChecked = false
  /** Field indexes the caller needs; the others come back as '' without being copied. */
  private keep: readonly boolean[] | undefined
  /** Per column, the last unquoted value (see the hot loop in scan). */
  private readonly last: string[] = []
  private state = ROW_START
  private fields: string[] = []
  private partial = ''
  private rowLine = 1
  private fieldLine = 1
  private ended = false

  constructor(options: CsvScannerOptions = {}) {
    const d = options.delimiter ?? ','
    if (d.length !== 1 || d === '"' || d === '\n' || d === '\r') {
      throw new SecodaError('USAGE', `CSV delimiter must be one character other than a quote or line end, got ${JSON.stringify(d)}`)
    }
    this.delim = d.charCodeAt(0)
    this.file = options.file
    this.maxRowChars = options.maxRowChars ?? 64 * 1024 * 1024
    if (options.startLine !== undefined) {
      this.line = this.rowLine = this.fieldLine = options.startLine
      this.bomChecked = true
    }
  }

  /** Scan one chunk: UTF-8 bytes, or text (encoded to UTF-8 first, so both kinds mix freely). */
  push(chunk: Uint8Array | string): CsvRow[] {
    if (this.ended) throw new SecodaError('INTERNAL', 'CsvScanner.push after end')
    const bytes = typeof chunk === 'string' ? this.text.push(chunk) : chunk
    const out: CsvRow[] = []
    // Strings over ~128 KiB go to V8's large-object space: decoding a 256 KiB chunk in one
    // piece measured 20× slower than in 64 KiB pieces, so big chunks are scanned in slices.
    for (let at = 0; at < bytes.length; at += SCAN_WINDOW) {
      const text = this.decode(bytes.subarray(at, Math.min(bytes.length, at + SCAN_WINDOW)))
      this.scan(text, out)
    }
    return out
  }

  /** Finish: flush the last row; an open quoted field is a CSV_SYNTAX error. */
  end(): CsvRow[] {
    if (this.ended) return []
    const out: CsvRow[] = [] // (a lone high surrogate held back at the end is dropped)
    if (this.carry !== null) {
      throw new SecodaError('INPUT_UTF8', `input ends inside a UTF-8 character, on line ${this.line}`, { file: this.file, line: this.line })
    }
    this.ended = true
    switch (this.state) {
      case QUOTED:
        throw new SecodaError(
          'CSV_SYNTAX',
          `unclosed quote: the quoted field that begins on line ${this.fieldLine} is still open at end of input`,
          { file: this.file, line: this.fieldLine },
        )
      case FIELD_START:
        this.fields.push('')
        this.emit(out)
        break
      case UNQUOTED:
        this.fields.push(this.take(this.partial))
        this.partial = ''
        this.emit(out)
        break
      case QUOTE_SEEN:
        this.fields.push(this.take(this.partial))
        this.partial = ''
        this.emit(out)
        break
      default:
        break
    }
    return out
  }

  /**
   * UTF-8 bytes → scanning text. TextDecoder in stream mode, and even Buffer#toString('utf8')
   * on mixed text, measured slower than the scan itself in Node 20 (they build two-byte
   * strings). All CSV syntax is ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte
   * character, so the scanner reads the bytes as latin1 (a plain copy, one char per byte)
   * and only the few fields that hold bytes ≥ 0x80 are re-decoded as UTF-8 ({@link take}).
   * A chunk is cut at its last complete character (the rest waits for the next chunk), so
   * validation with isUtf8 (SIMD in Node) sees whole characters and can report the line.
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
    if (!this.bomChecked && buf.length > 0) {
      this.bomChecked = true
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
    }
    // One validating pass (no separate isAscii: most windows of real exports hold some
    // non-ASCII text, and fields with such bytes are found while scanning).
    if (!isUtf8(buf)) {
      const line = this.line + invalidUtf8Line(buf)
      throw new SecodaError('INPUT_UTF8', `input is not valid UTF-8 on line ${line}`, { file: this.file, line })
    }
    this.win = buf
    return buf.toString('latin1')
  }

  /**
   * Only materialise the fields whose index is true in `keep` from the next row on; the
   * others are returned as ''. Rows keep their full length, so field counts stay checkable.
   * Saves the copying and garbage of columns a reader ignores (most of information_schema).
   */
  project(keep: readonly boolean[] | undefined): void {
    this.keep = keep
  }

  /** A complete field: re-decoded as UTF-8 when its latin1 text holds bytes ≥ 0x80. */
  private take(v: string): string {
    if (this.keep !== undefined && this.keep[this.fields.length] !== true) {
      this.hi = false
      return ''
    }
    if (!this.hi) return v
    this.hi = false
    return Buffer.from(v, 'latin1').toString('utf8')
  }

  /**
   * The ASCII field s[a, j) of column k. Exports repeat most values from row to row (catalog,
   * schema, table name, types, YES/NO): the previous row's string for the column is reused
   * when it is the same (compared on the window's bytes: a loop beat startsWith on the
   * text), which saves the allocation (and the garbage) of most fields.
   */
  private cut(s: string, a: number, j: number, k: number): string {
    const prev = this.last[k]
    if (prev !== undefined && prev.length === j - a && sameAscii(this.win, a, prev)) return prev
    return (this.last[k] = s.slice(a, j))
  }

  private emit(out: CsvRow[]): void {
    out.push({ fields: this.fields, line: this.rowLine })
    this.rows++
    this.fields = []
  }

  private tooLong(): SecodaError {
    return new SecodaError(
      'CSV_SYNTAX',
      `row starting on line ${this.rowLine} is longer than ${this.maxRowChars} characters (an unclosed quote?)`,
      { file: this.file, line: this.rowLine },
    )
  }

  /**
   * The fast path: split the row that starts at `from` if it ends inside this window, emit
   * it and return the index after its line end; else return -1, having changed nothing, and
   * the resumable state machine in scan() takes the row (rows that span windows, and every
   * error, so errors are reported in one place). Bytes are compared on the window's Buffer
   * (a byte read measured about twice as fast as charCodeAt); fields are cut from the latin1
   * text, which is cheaper than decoding each from the bytes; the row's array is allocated
   * at the previous row's width.
   */
  private row(s: string, from: number, out: CsvRow[]): number {
    const b = this.win
    const n = b.length
    const delim = this.delim
    const keep = this.keep
    const fields: string[] = this.width > 0 ? new Array<string>(this.width) : []
    let k = 0
    let j = from
    let lines = 0
    let lf = -1
    for (;;) {
      if (j >= n) return -1
      let c = b[j]!
      let v: string
      if (c === QUOTE) {
        // quoted: jump from quote to quote; a doubled quote is a literal one
        const start = j + 1
        let q = s.indexOf('"', start)
        let doubled = false
        while (q !== -1 && q + 1 < n && b[q + 1] === QUOTE) {
          doubled = true
          q = s.indexOf('"', q + 2)
        }
        if (q === -1 || q + 1 >= n) return -1
        c = b[q + 1]!
        if (c !== delim && c !== LF && c !== CR) return -1 // text after the closing quote: scan() reports it
        // newlines inside the quotes count as lines (the next one is looked up once per row)
        if (lf < start) lf = indexOrEnd(s, '\n', start)
        while (lf < q) {
          lines++
          lf = indexOrEnd(s, '\n', lf + 1)
        }
        if (keep !== undefined && keep[k] !== true) v = ''
        else {
          v = s.slice(start, q)
          if (doubled) v = v.replaceAll('""', '"')
          if (HIGH.test(v)) v = Buffer.from(v, 'latin1').toString('utf8')
        }
        j = q + 1
      } else {
        const a = j
        let high = 0
        while (c !== delim && c !== LF && c !== CR) {
          high |= c
          if (++j >= n) return -1
          c = b[j]!
        }
        if (keep !== undefined && keep[k] !== true) v = ''
        else if (high > 0x7f) v = b.toString('utf8', a, j)
        else v = this.cut(s, a, j, k)
      }
      fields[k++] = v
      // b[j] is the delimiter or line end after the field
      if (c !== delim) break
      j++
    }
    if (k !== fields.length) fields.length = k
    this.width = k
    out.push({ fields, line: this.rowLine })
    this.rows++
    this.line += lines + 1
    return j + 1
  }

  // The resumable state machine (rows that span windows, and every error). Each state
  // consumes as much of `s` as it can in one go: unquoted fields by a tight charCode loop,
  // quoted fields by indexOf jumps to the next quote. Complete rows take row() instead.
  private scan(s: string, out: CsvRow[]): void {
    const n = s.length
    this.chars += n
    let i = 0
    const delim = this.delim
    let state = this.state
    let line = this.line
    while (i < n) {
      if (state === FIELD_START) {
        if (s.charCodeAt(i) === QUOTE) {
          this.fieldLine = line
          this.partial = ''
          state = QUOTED
          i++
          continue
        }
        state = UNQUOTED
      }
      // The hot path, reached straight from FIELD_START: runs of unquoted fields in one tight
      // loop, without going back through the state switch between them.
      if (state === UNQUOTED) {
        const keep = this.keep
        let fields = this.fields
        for (;;) {
          let j = i
          let c = 0
          let high = 0
          while (j < n) {
            c = s.charCodeAt(j)
            if (c === delim || c === LF || c === CR) break
            high |= c
            j++
          }
          if (high > 0x7f) this.hi = true
          if (j === n) {
            // the field goes on in the next chunk
            this.partial = this.partial === '' ? s.slice(i) : this.partial + s.slice(i)
            i = n
            break
          }
          if (keep !== undefined && keep[fields.length] !== true) {
            fields.push('')
            this.hi = false
            this.partial = ''
          } else if (this.partial === '') {
            if (this.hi) fields.push(this.take(s.slice(i, j)))
            else fields.push(this.cut(s, i, j, fields.length))
          } else {
            fields.push(this.take(this.partial + s.slice(i, j)))
            this.partial = ''
          }
          i = j + 1
          if (c !== delim) {
            line++
            this.line = line
            this.emit(out)
            state = c === CR ? AFTER_CR : ROW_START
            break
          }
          if (i === n || s.charCodeAt(i) === QUOTE) {
            state = FIELD_START
            break
          }
          fields = this.fields
        }
        continue
      }
      switch (state) {
        case AFTER_CR:
          if (s.charCodeAt(i) === LF) i++
          state = ROW_START
          break
        case ROW_START: {
          const c = s.charCodeAt(i)
          if (c === LF) {
            line++
            i++
            break
          } // empty line: skipped
          if (c === CR) {
            line++
            i++
            state = AFTER_CR
            break
          }
          this.rowLine = line
          // The fast path: a whole row in this window is split in one go (see row()).
          this.line = line
          const next = this.row(s, i, out)
          if (next !== -1) {
            line = this.line
            i = next
            if (i > 0 && s.charCodeAt(i - 1) === CR) state = AFTER_CR
            break
          }
          state = FIELD_START
          break
        }
        case QUOTED: {
          const q = s.indexOf('"', i)
          const stop = q === -1 ? n : q
          // Count the newlines the quoted text holds, so later line numbers stay right.
          for (let k = s.indexOf('\n', i); k !== -1 && k < stop; k = s.indexOf('\n', k + 1)) line++
          const seg = s.slice(i, stop)
          if (!this.hi && HIGH.test(seg)) this.hi = true
          this.partial += seg
          if (q === -1) {
            i = n
          } else {
            i = q + 1
            state = QUOTE_SEEN
          }
          break
        }
        case QUOTE_SEEN: {
          const c = s.charCodeAt(i)
          if (c === QUOTE) {
            // doubled quote: one literal quote, still inside the field
            this.partial += '"'
            state = QUOTED
            i++
            break
          }
          if (c === delim) {
            this.fields.push(this.take(this.partial))
            this.partial = ''
            state = FIELD_START
            i++
            break
          }
          if (c === LF || c === CR) {
            this.fields.push(this.take(this.partial))
            this.partial = ''
            line++
            this.line = line
            this.emit(out)
            state = c === CR ? AFTER_CR : ROW_START
            i++
            break
          }
          this.line = line
          throw new SecodaError(
            'CSV_SYNTAX',
            `unexpected ${JSON.stringify(s[i])} after the closing quote of a field on line ${line} (a quote inside a quoted field must be doubled)`,
            { file: this.file, line },
          )
        }
      }
    }
    this.state = state
    this.line = line
    // Bound memory for a row that spans chunks: checked once per chunk, not per field.
    if (state !== ROW_START && state !== AFTER_CR) {
      let size = this.partial.length
      for (const f of this.fields) size += f.length
      if (size > this.maxRowChars) throw this.tooLong()
    }
  }
}

/** Index of `c` in `s` from `from`, or s.length when there is none. */
function indexOrEnd(s: string, c: string, from: number): number {
  const k = s.indexOf(c, from)
  return k === -1 ? s.length : k
}

/** Whether the bytes at b[at..] spell the ASCII string `v` (a loop beat startsWith on the text). */
function sameAscii(b: Uint8Array, at: number, v: string): boolean {
  for (let x = 0; x < v.length; x++) if (b[at + x] !== v.charCodeAt(x)) return false
  return true
}

/** Lines (LFs) before the first invalid UTF-8 sequence of a chunk (the chunk starts on a character). */
function invalidUtf8Line(chunk: Uint8Array): number {
  const bad = firstInvalidUtf8(chunk)
  return countLines(chunk, 0, bad === -1 ? chunk.length : bad)
}

/** Parse a whole CSV text or buffer at once (tests and small inputs). */
export function parseCsv(input: string | Uint8Array, options: CsvScannerOptions = {}): CsvRow[] {
  const s = new CsvScanner(options)
  const rows = s.push(input)
  for (const r of s.end()) rows.push(r)
  return rows
}
