// Streaming RFC 4180 CSV scanner: bytes or text in any chunking → rows of string fields,
// each with the 1-based line it started on. The stream-free core every CSV reader here
// shares (information_schema exports; reusable for the Secoda CSV reader).
//
// Why hand-written: bench/info-schema-csv.ts measured csv-parse, papaparse and uDSV against
// this scanner on the same export (figures in docs/columns.md). csv-parse is correct but too
// slow for the 2× Python target; papaparse and uDSV are fast but are not chunking-invariant
// state machines with line numbers and coded errors. A resumable state machine is: a field
// that spans chunks keeps its partial text and state, so no row is ever re-scanned, and
// memory is bounded by the longest row, not the chunk count.

import { SecodaError } from './errors.js'

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
}

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
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  private state = ROW_START
  private fields: string[] = []
  private partial = ''
  private rowLine = 1
  private fieldLine = 1
  private rowChars = 0
  private started = false
  private ended = false

  constructor(options: CsvScannerOptions = {}) {
    const d = options.delimiter ?? ','
    if (d.length !== 1 || d === '"' || d === '\n' || d === '\r') {
      throw new SecodaError('USAGE', `CSV delimiter must be one character other than a quote or line end, got ${JSON.stringify(d)}`)
    }
    this.delim = d.charCodeAt(0)
    this.file = options.file
    this.maxRowChars = options.maxRowChars ?? 64 * 1024 * 1024
  }

  /** Scan one chunk (bytes are UTF-8; strings are taken as decoded text). */
  push(chunk: Uint8Array | string): CsvRow[] {
    if (this.ended) throw new SecodaError('INTERNAL', 'CsvScanner.push after end')
    let text: string
    if (typeof chunk === 'string') text = chunk
    else {
      try {
        text = this.decoder.decode(chunk, { stream: true })
      } catch (cause) {
        const line = this.line + invalidUtf8Line(chunk)
        throw new SecodaError('INPUT_UTF8', `input is not valid UTF-8 on line ${line}`, { file: this.file, line, cause })
      }
    }
    const out: CsvRow[] = []
    this.scan(text, out)
    return out
  }

  /** Finish: flush the last row; an open quoted field is a CSV_SYNTAX error. */
  end(): CsvRow[] {
    if (this.ended) return []
    const out: CsvRow[] = []
    let tail: string
    try {
      tail = this.decoder.decode()
    } catch (cause) {
      throw new SecodaError('INPUT_UTF8', `input ends inside a UTF-8 character, on line ${this.line}`, { file: this.file, line: this.line, cause })
    }
    if (tail !== '') this.scan(tail, out)
    this.ended = true
    switch (this.state) {
      case QUOTED:
        throw new SecodaError('CSV_SYNTAX', `unclosed quote: the quoted field that begins on line ${this.fieldLine} is still open at end of input`, { file: this.file, line: this.fieldLine })
      case FIELD_START:
        this.fields.push('')
        this.emit(out)
        break
      case UNQUOTED:
        this.fields.push(this.partial)
        this.partial = ''
        this.emit(out)
        break
      case QUOTE_SEEN:
        this.fields.push(this.partial)
        this.partial = ''
        this.emit(out)
        break
      default:
        break
    }
    return out
  }

  private emit(out: CsvRow[]): void {
    out.push({ fields: this.fields, line: this.rowLine })
    this.rows++
    this.fields = []
    this.rowChars = 0
  }

  private tooLong(): SecodaError {
    return new SecodaError('CSV_SYNTAX', `row starting on line ${this.rowLine} is longer than ${this.maxRowChars} characters (an unclosed quote?)`, { file: this.file, line: this.rowLine })
  }

  // The hot loop. Each state consumes as much of `s` as it can in one go: unquoted fields by
  // a tight charCode loop, quoted fields by indexOf jumps to the next quote.
  private scan(s: string, out: CsvRow[]): void {
    const n = s.length
    this.chars += n
    let i = 0
    if (!this.started && n > 0) {
      this.started = true
      // TextDecoder strips a byte BOM already (ignoreBOM false); strings may still carry one.
      if (s.charCodeAt(0) === 0xfeff) i = 1
    }
    const delim = this.delim
    let state = this.state
    let line = this.line
    while (i < n) {
      switch (state) {
        case AFTER_CR:
          if (s.charCodeAt(i) === LF) i++
          state = ROW_START
          break
        case ROW_START: {
          const c = s.charCodeAt(i)
          if (c === LF) { line++; i++; break } // empty line: skipped
          if (c === CR) { line++; i++; state = AFTER_CR; break }
          this.rowLine = line
          state = FIELD_START
          break
        }
        case FIELD_START:
          if (s.charCodeAt(i) === QUOTE) {
            this.fieldLine = line
            this.partial = ''
            state = QUOTED
            i++
            break
          }
          state = UNQUOTED
          continue
        case UNQUOTED: {
          let j = i
          let c = 0
          while (j < n) {
            c = s.charCodeAt(j)
            if (c === delim || c === LF || c === CR) break
            j++
          }
          if (j === n) {
            this.partial = this.partial === '' ? s.slice(i) : this.partial + s.slice(i)
            if (this.rowChars + this.partial.length > this.maxRowChars) throw this.tooLong()
            i = n
            break
          }
          if (this.partial === '') this.fields.push(s.slice(i, j))
          else {
            this.fields.push(this.partial + s.slice(i, j))
            this.partial = ''
          }
          i = j + 1
          if (c === delim) state = FIELD_START
          else {
            line++
            this.line = line
            this.emit(out)
            state = c === CR ? AFTER_CR : ROW_START
          }
          break
        }
        case QUOTED: {
          const q = s.indexOf('"', i)
          const stop = q === -1 ? n : q
          // Count the newlines the quoted text holds, so later line numbers stay right.
          for (let k = s.indexOf('\n', i); k !== -1 && k < stop; k = s.indexOf('\n', k + 1)) line++
          this.partial += s.slice(i, stop)
          if (q === -1) {
            if (this.rowChars + this.partial.length > this.maxRowChars) { this.line = line; throw this.tooLong() }
            i = n
          } else {
            i = q + 1
            state = QUOTE_SEEN
          }
          break
        }
        case QUOTE_SEEN: {
          const c = s.charCodeAt(i)
          if (c === QUOTE) { // doubled quote: one literal quote, still inside the field
            this.partial += '"'
            state = QUOTED
            i++
            break
          }
          if (c === delim) {
            this.fields.push(this.partial)
            this.partial = ''
            state = FIELD_START
            i++
            break
          }
          if (c === LF || c === CR) {
            this.fields.push(this.partial)
            this.partial = ''
            line++
            this.line = line
            this.emit(out)
            state = c === CR ? AFTER_CR : ROW_START
            i++
            break
          }
          this.line = line
          throw new SecodaError('CSV_SYNTAX', `unexpected ${JSON.stringify(s[i])} after the closing quote of a field on line ${line} (a quote inside a quoted field must be doubled)`, { file: this.file, line })
        }
      }
      // Bound memory for fields already complete in a row that has not ended yet.
      if (state === FIELD_START && this.fields.length > 0 && (this.rowChars += this.fields[this.fields.length - 1]!.length) > this.maxRowChars) {
        this.line = line
        throw this.tooLong()
      }
    }
    this.state = state
    this.line = line
  }
}

/**
 * Lines (LFs) before the first invalid UTF-8 sequence of a chunk the fatal decoder rejected.
 * Leading continuation bytes finish a character begun in the previous chunk, so skip them.
 */
function invalidUtf8Line(chunk: Uint8Array): number {
  let start = 0
  while (start < 3 && start < chunk.length && (chunk[start]! & 0xc0) === 0x80) start++
  const text = new TextDecoder('utf-8').decode(chunk.subarray(start))
  const bad = text.indexOf('\uFFFD')
  let lines = 0
  for (let k = text.indexOf('\n'); k !== -1 && (bad === -1 || k < bad); k = text.indexOf('\n', k + 1)) lines++
  return lines
}

/** Parse a whole CSV text or buffer at once (tests and small inputs). */
export function parseCsv(input: string | Uint8Array, options: CsvScannerOptions = {}): CsvRow[] {
  const s = new CsvScanner(options)
  const rows = s.push(input)
  for (const r of s.end()) rows.push(r)
  return rows
}

/**
 * Quote one field for RFC 4180 output with a comma delimiter: unchanged when it holds no
 * comma, quote, CR or LF, else in double quotes with inner quotes doubled.
 */
export function quoteCsvField(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c === 0x2c || c === QUOTE || c === LF || c === CR) return '"' + v.replaceAll('"', '""') + '"'
  }
  return v
}
