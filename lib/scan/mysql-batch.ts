// Streaming reader for the tab-separated text `mysql --batch` (and `mariadb -B`) prints:
// bytes in any chunking → rows of string fields with their line numbers, the same shape
// lib/scan/csv.ts gives, so readers take either. Format: one row per line, fields split by
// TAB, a header line first; inside fields the client escapes \t \n \r \\ and NUL as \0, and
// writes SQL NULL as the bare word NULL (indistinguishable from the string 'NULL').

import { SecodaError } from '../errors.js'
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
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private rest = ''
  private readonly file: string | undefined
  private readonly maxRowChars: number

  constructor(options: MysqlBatchOptions = {}) {
    this.file = options.file
    this.maxRowChars = options.maxRowChars ?? 64 * 1024 * 1024
  }

  /** Feed bytes (UTF-8) or text; returns the complete rows. */
  push(chunk: Uint8Array | string): CsvRow[] {
    let text: string
    if (typeof chunk === 'string') text = chunk
    else {
      try {
        text = this.decoder.decode(chunk, { stream: true })
      } catch (cause) {
        // Find the line: the complete lines before the first undecodable byte.
        const lossy = this.rest + new TextDecoder('utf-8').decode(chunk)
        const bad = lossy.indexOf('\uFFFD')
        let line = this.line
        for (let k = lossy.indexOf('\n'); k !== -1 && (bad === -1 || k < bad); k = lossy.indexOf('\n', k + 1)) line++
        throw new SecodaError('INPUT_UTF8', `input is not valid UTF-8 on line ${line}`, { file: this.file, line, cause })
      }
    }
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
    let tail = ''
    try {
      tail = this.decoder.decode()
    } catch (cause) {
      throw new SecodaError('INPUT_UTF8', `input ends inside a UTF-8 character, on line ${this.line}`, {
        file: this.file,
        line: this.line,
        cause,
      })
    }
    const out: CsvRow[] = []
    const last = this.rest + tail
    this.rest = ''
    if (last !== '') this.row(last, out)
    return out
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
