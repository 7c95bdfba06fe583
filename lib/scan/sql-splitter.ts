// SQL dump bytes → statements. A streaming splitter for pg_dump / psql scripts and
// mysqldump / MariaDB dumps that works on any chunking: it keeps only the bytes of the
// statement being read (schema-sized), and skips COPY data and INSERT statements by
// scanning bytes with indexOf, without decoding them (target: close to read speed; docs/sql.md,
// "Benchmark").

import { SecodaError } from '../errors.js'

/** Which lexical rules apply. */
export type SqlDialect = 'postgres' | 'mysql'

/**
 * What a statement is:
 * - `sql`: an ordinary statement, text without its delimiter (MySQL conditional-comment
 *   markers `/*!NNNNN` and `*\/` removed, their content kept: it is executable SQL);
 * - `meta`: a psql meta-command line (`\connect db`, `\restrict KEY`), text without newline;
 * - `copy`: a `COPY ... FROM stdin` statement, whose data lines were skipped;
 * - `insert`: an INSERT/REPLACE statement, skipped without reading it; text is its first bytes;
 * - `delimiter`: a MySQL client `DELIMITER x` line; text is the new delimiter.
 */
export type StatementKind = 'sql' | 'meta' | 'copy' | 'insert' | 'delimiter'

/** One statement of a dump. */
export interface SqlStatement {
  kind: StatementKind
  text: string
  /** 1-based line of the statement's first byte. */
  line: number
  /** Byte offset of the statement's first byte. */
  offset: number
  /** Set on the last statement when the input ended before its delimiter (it may be cut short). */
  unterminated?: boolean
}

/** Options of {@link SqlSplitter}. */
export interface SqlSplitterOptions {
  dialect: SqlDialect
  /** File name for error positions. */
  file?: string
  /**
   * Longest statement kept, in bytes (default {@link DEFAULT_MAX_STATEMENT}): a longer one is
   * RECORD_TOO_LARGE instead of an unbounded buffer. Skipped INSERT and COPY data is not kept.
   */
  maxStatement?: number
}

/** Default limit on one statement, field, line or record read whole: 64 MiB (docs/inputs.md "Limits"). */
export const DEFAULT_MAX_STATEMENT = 64 * 1024 * 1024

enum Mode {
  Between,
  Stmt,
  Quote,
  LineComment,
  BlockComment,
  Dollar,
  Copy,
  Insert,
}

const NL = 0x0a
const INSERT_PREFIX = 160
/** A dollar-quote tag longer than this is not taken for one (bounds the lookahead). */
const MAX_TAG = 64

function isIdent(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80
}
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c || c === 0x0b
}
/** Case-insensitive ASCII word at b[pos] followed by a non-identifier byte (or end). */
function wordAt(b: Buffer, pos: number, len: number, word: string): boolean | undefined {
  for (let i = 0; i < word.length; i++) {
    if (pos + i >= len) return undefined
    if ((b[pos + i]! | 0x20) !== word.charCodeAt(i)) return false
  }
  if (pos + word.length >= len) return undefined
  return !isIdent(b[pos + word.length]!)
}

const EMPTY = Buffer.alloc(0)

/**
 * Stream-free core: `push(chunk)` returns the statements completed by that chunk, `end()`
 * the rest. An unterminated quote, dollar quote, comment or COPY block at the end throws a
 * SQL_UNTERMINATED {@link SecodaError} with the line where it began.
 */
export class SqlSplitter {
  readonly dialect: SqlDialect
  readonly file: string | undefined
  /** Counters for summaries: bytes read, statements by kind, COPY data lines skipped. */
  readonly counters = { bytes: 0, statements: 0, copy: 0, insert: 0, meta: 0, copyLines: 0 }

  private buf: Buffer = EMPTY
  /** Backing store that `buf` is a view of when it holds carried bytes (grown by doubling). */
  private store: Buffer = EMPTY
  private readonly maxStatement: number
  /** Absolute byte offset of buf[0]. */
  private base = 0
  private pos = 0
  private line = 1
  private mode: Mode = Mode.Between
  /** Mode to go back to after a quote or comment. */
  private ret: Mode = Mode.Between
  private delimiter: Buffer = Buffer.from(';')
  // current statement
  /** Absolute byte offset of the current statement. */
  private stmtOffset = 0
  private stmtLine = 0
  private segStart = 0
  private parts: string[] = []
  private condDepth = 0
  private insertText = ''
  /** True while the current statement's bytes are kept (not for skipped INSERTs). */
  private capture = false
  /** Next newline at or after the last counted position (-2 unknown, -1 none in buf). */
  private nextNl = -2
  // quote / comment / dollar state
  private quote = 0
  private backslash = false
  private bsCarry = 0
  private openLine = 0
  private commentDepth = 0
  private tag: Buffer = EMPTY
  private copyAtLineStart = false
  private out: SqlStatement[] = []
  private first = true
  private head = ''
  /**
   * The input starts with mysqldump's or MariaDB dump's header. Those tools escape every
   * newline inside string literals (\n), so in their output a `;` right before a raw newline
   * always ends the statement, and an INSERT's end is one indexOf(";\n") away.
   */
  private mysqldump = false
  /** Fast INSERT path: the previous chunk ended with `;`. */
  private semiPending = false
  private static readonly SEMI_NL = Buffer.from(';\n')
  private static readonly DUMP_HEADER = /^(?:\/\*M?!999999\\- enable the sandbox mode \*\/ ?\r?\n)?-- (?:MySQL|MariaDB) dump /

  constructor(options: SqlSplitterOptions) {
    this.dialect = options.dialect
    this.file = options.file
    this.maxStatement = options.maxStatement ?? DEFAULT_MAX_STATEMENT
  }

  /** Feed bytes; returns the statements they complete. */
  push(chunk: Buffer): SqlStatement[] {
    this.counters.bytes += chunk.length
    const keep = this.keepFrom()
    if (keep >= this.buf.length) {
      this.base += this.buf.length
      this.shift(this.buf.length)
      this.buf = chunk
    } else {
      this.base += keep
      this.shift(keep)
      const tail = this.buf.length - keep
      if (tail + chunk.length > this.maxStatement) this.tooLarge(this.stmtLine || this.openLine || this.line)
      // carried bytes live in a store grown by doubling, so one huge statement costs linear
      // time (a fresh tail + chunk copy per chunk was quadratic: 80 s for a 100 MB literal)
      const inStore = this.store.length > 0 && this.buf.buffer === this.store.buffer
      const start = inStore ? this.buf.byteOffset - this.store.byteOffset + keep : 0
      if (inStore && start + tail + chunk.length <= this.store.length) {
        chunk.copy(this.store, start + tail)
        this.buf = this.store.subarray(start, start + tail + chunk.length)
      } else {
        // allocUnsafe + copy: Buffer.concat is many times slower here (measured in bench/sql-dump.ts)
        const need = tail + chunk.length
        const b = need > 4 * 1024 * 1024 ? Buffer.allocUnsafeSlow(need * 2) : Buffer.allocUnsafe(need)
        this.buf.copy(b, 0, keep)
        chunk.copy(b, tail)
        this.store = need > 4 * 1024 * 1024 ? b : EMPTY
        this.buf = b.subarray(0, need)
      }
    }
    if (this.first) {
      this.sniff(chunk, false)
      // a split UTF-8 BOM: wait for its third byte before scanning
      if (this.head.length < 3 && '\xef\xbb\xbf'.startsWith(this.head)) return []
    }
    this.nextNl = -2
    this.scan(false)
    return this.take()
  }

  private tooLarge(line: number): never {
    throw new SecodaError(
      'RECORD_TOO_LARGE',
      `a statement is longer than ${this.maxStatement} bytes (it began at line ${line}; raise the limit with --max-record-size)`,
      { file: this.file, line },
    )
  }

  /** Look at the first bytes of the input: a UTF-8 BOM, mysqldump's header. */
  private sniff(chunk: Buffer, final: boolean): void {
    if (this.head.length < 160) this.head += chunk.toString('latin1', 0, 160 - this.head.length)
    if (this.head.length < 160 && !final) {
      // the BOM is skipped as soon as it is complete (the scanner must not see it)
      if (this.head.length >= 3 && this.base === 0 && this.head.startsWith('\xef\xbb\xbf') && this.pos < 3) this.pos = 3
      return
    }
    this.first = false
    const bom = this.head.startsWith('\xef\xbb\xbf')
    if (bom && this.base === 0 && this.pos < 3) this.pos = 3
    if (this.dialect === 'mysql') this.mysqldump = SqlSplitter.DUMP_HEADER.test(this.head.slice(bom ? 3 : 0))
  }

  /** Signal end of input; returns the last statements or throws SQL_UNTERMINATED. */
  end(): SqlStatement[] {
    if (this.first) this.sniff(EMPTY, true)
    this.scan(true)
    if (this.mode === Mode.LineComment) this.mode = this.ret
    const what = this.unterminated()
    if (what !== undefined) {
      throw new SecodaError('SQL_UNTERMINATED', `unterminated ${what} at end of input: it began at line ${this.openLine}`, {
        file: this.file,
        line: this.openLine,
      })
    }
    const before = this.out.length
    if (this.mode === Mode.Stmt) this.finishStatement(this.buf.length, 0)
    else if (this.mode === Mode.Insert) this.finishInsert()
    for (let i = before; i < this.out.length; i++) this.out[i]!.unterminated = true
    return this.take()
  }

  private unterminated(): string | undefined {
    if (this.condDepth > 0 && (this.mode === Mode.Stmt || this.mode === Mode.Quote)) {
      if (this.mode === Mode.Stmt) return 'conditional comment /*!'
    }
    switch (this.mode) {
      case Mode.Quote:
        return this.quote === 0x27 ? 'quoted string' : this.quote === 0x22 ? 'quoted identifier' : 'backtick-quoted identifier'
      case Mode.BlockComment:
        return 'comment /*'
      case Mode.Dollar:
        return `dollar-quoted string ${this.tag.toString()}`
      case Mode.Copy:
        return 'COPY data (no \\. line)'
      default:
        return undefined
    }
  }

  /**
   * Newlines in b[from, to). The next newline's position is cached: an unbounded indexOf
   * per call would rescan a megabyte-long extended-INSERT line for every string in it.
   */
  private countNl(b: Buffer, from: number, to: number): number {
    let n = 0
    let i = this.nextNl
    if (i !== -1 && i < from) i = b.indexOf(NL, from)
    while (i !== -1 && i < to) {
      n++
      i = b.indexOf(NL, i + 1)
    }
    this.nextNl = i
    return n
  }

  private take(): SqlStatement[] {
    const o = this.out
    this.out = []
    return o
  }

  private keepFrom(): number {
    if (this.capture) return this.segStart
    // inside a PostgreSQL INSERT, two bytes of look-behind: an E'' string is told by the
    // bytes before its quote. Elsewhere nothing is kept, so COPY data is never copied.
    if (this.dialect === 'postgres' && (this.mode === Mode.Insert || (this.mode === Mode.Quote && this.ret === Mode.Insert)))
      return Math.max(0, this.pos - 2)
    return this.pos
  }

  private shift(n: number): void {
    this.pos -= n
    this.segStart -= n
  }

  private emit(kind: StatementKind, text: string, line: number, offset: number): void {
    this.counters.statements++
    if (kind === 'copy' || kind === 'insert' || kind === 'meta') this.counters[kind]++
    this.out.push({ kind, text, line, offset })
  }

  /** The scanner: runs until it needs more bytes (or, when final, until the end). */
  private scan(final: boolean): void {
    const b = this.buf
    const len = b.length
    const mysql = this.dialect === 'mysql'
    for (;;) {
      switch (this.mode) {
        case Mode.Between: {
          let p = this.pos
          while (p < len && isSpace(b[p]!)) {
            if (b[p] === NL) this.line++
            p++
          }
          this.pos = p
          if (p >= len) return
          const c = b[p]!
          if (c === 0x2d /* - */) {
            if (p + 1 >= len && !final) return
            if (b[p + 1] === 0x2d) {
              this.startLineComment(Mode.Between)
              continue
            }
          } else if (c === 0x23 /* # */ && mysql) {
            this.startLineComment(Mode.Between)
            continue
          } else if (c === 0x2f /* / */) {
            if (p + 1 >= len && !final) return
            if (b[p + 1] === 0x2a) {
              const cond = mysql ? this.conditional(p, len, final) : 0
              if (cond < 0) return
              if (cond === 0) {
                this.startBlockComment(Mode.Between, 2)
                continue
              }
              // a conditional comment starts a statement: fall through to statement start
            }
          } else if (c === 0x5c /* \ */ && !mysql) {
            const nl = b.indexOf(NL, p)
            if (nl === -1 && !final) return
            const end = nl === -1 ? len : nl
            this.emit('meta', b.toString('utf8', p, end).replace(/\r$/, ''), this.line, this.base + p)
            this.pos = end
            continue
          } else if (mysql && (c | 0x20) === 0x64 /* d */) {
            const w = wordAt(b, p, len, 'delimiter')
            if (w === undefined && !final) return
            if (w === true) {
              const nl = b.indexOf(NL, p)
              if (nl === -1 && !final) return
              const end = nl === -1 ? len : nl
              const d = b.toString('utf8', p + 9, end).trim()
              if (d !== '') this.delimiter = Buffer.from(d)
              this.emit('delimiter', d, this.line, this.base + p)
              this.pos = end
              continue
            }
          }
          // a statement starts here
          if ((c | 0x20) === 0x69 /* i */ || (mysql && (c | 0x20) === 0x72) /* r */) {
            const w = wordAt(b, p, len, (c | 0x20) === 0x69 ? 'insert' : 'replace')
            if (w === undefined && !final) return
            if (w === true) {
              this.stmtOffset = this.base + p
              this.segStart = p
              this.stmtLine = this.line
              // the prefix kept for diagnostics must not depend on chunk boundaries
              const nl = b.subarray(p, p + INSERT_PREFIX).indexOf(NL)
              if (nl === -1 && p + INSERT_PREFIX > len && !final) return
              const stop = Math.min(len, p + INSERT_PREFIX, nl === -1 ? len : p + nl)
              this.insertText = b.toString('utf8', p, stop)
              this.capture = false
              this.mode = Mode.Insert
              continue
            }
          }
          this.stmtOffset = this.base + p
          this.segStart = p
          this.stmtLine = this.line
          this.parts = []
          this.condDepth = 0
          this.capture = true
          this.mode = Mode.Stmt
          continue
        }
        case Mode.Stmt: {
          if (!this.scanStatement(b, len, final, mysql)) return
          continue
        }
        case Mode.Quote: {
          if (!this.scanQuote(b, len, final)) return
          continue
        }
        case Mode.LineComment: {
          const nl = b.indexOf(NL, this.pos)
          if (nl === -1) {
            this.pos = len
            return
          }
          this.pos = nl // the newline is counted by the mode we return to
          this.mode = this.ret
          continue
        }
        case Mode.BlockComment: {
          if (!this.scanBlockComment(b, len, final, mysql)) return
          continue
        }
        case Mode.Dollar: {
          const i = b.indexOf(this.tag, this.pos)
          if (i === -1) {
            // keep the last tag-length-1 bytes: the closing tag may straddle chunks
            const safe = Math.max(this.pos, len - this.tag.length + 1)
            this.line += this.countNl(b, this.pos, safe)
            this.pos = safe
            if (final) this.pos = len
            return
          }
          this.line += this.countNl(b, this.pos, i)
          this.pos = i + this.tag.length
          this.mode = Mode.Stmt
          continue
        }
        case Mode.Copy: {
          if (!this.scanCopy(b, len, final)) return
          continue
        }
        case Mode.Insert: {
          if (!this.scanInsert(b, len, final, mysql)) return
          continue
        }
      }
    }
  }

  private startLineComment(ret: Mode): void {
    this.ret = ret
    this.mode = Mode.LineComment
  }

  private startBlockComment(ret: Mode, skip: number): void {
    this.ret = ret
    this.openLine = this.line
    this.commentDepth = 1
    this.pos += skip
    this.mode = Mode.BlockComment
  }

  /**
   * At `/*` in MySQL: length of a conditional-comment marker (`/*!`, `/*!40101`, `/*M!100100`)
   * or 0 for a plain comment; -1 when more bytes are needed. Versions ≥ 999999 are never
   * executed (MariaDB's sandbox line `/*M!999999\- enable the sandbox mode *\/`): a comment.
   */
  private conditional(p: number, len: number, final: boolean): number {
    const b = this.buf
    let q = p + 2
    if (q >= len) return final ? 0 : -1
    if (b[q] === 0x4d /* M */) {
      q++
      if (q >= len) return final ? 0 : -1
    }
    if (b[q] !== 0x21 /* ! */) return 0
    q++
    const digitsStart = q
    while (q < len && b[q]! >= 0x30 && b[q]! <= 0x39 && q - digitsStart < 6) q++
    if (q >= len && !final) return -1
    const digits = b.toString('latin1', digitsStart, q)
    if (digits.length >= 6 && Number(digits) >= 999999) return 0
    return q - p
  }

  /** Scan statement bytes; false when more input is needed. */
  private scanStatement(b: Buffer, len: number, final: boolean, mysql: boolean): boolean {
    const d0 = this.delimiter[0]!
    let p = this.pos
    while (p < len) {
      const c = b[p]!
      if (c === d0 && this.condDepth === 0) {
        const dl = this.delimiter.length
        if (dl === 1 || (p + dl <= len && b.subarray(p, p + dl).equals(this.delimiter))) {
          this.pos = p
          this.finishStatement(p, dl)
          return true
        }
        if (p + dl > len && !final) {
          this.pos = p
          return false
        }
      }
      switch (c) {
        case NL:
          this.line++
          break
        case 0x27:
        case 0x22: {
          // ' "
          this.pos = p + 1
          this.startQuote(c, mysql || (c === 0x27 && this.isEString(p)))
          return true
        }
        case 0x60: // `
          if (mysql) {
            this.pos = p + 1
            this.startQuote(c, false)
            return true
          }
          break
        case 0x2d: // -
          if (p + 2 >= len && !final) {
            this.pos = p
            return false
          }
          // MySQL needs a space (or control byte) after --; PostgreSQL does not
          if (b[p + 1] === 0x2d && (!mysql || p + 2 >= len || b[p + 2]! <= 0x20)) {
            this.pos = p
            this.startLineComment(Mode.Stmt)
            return true
          }
          break
        case 0x23: // #
          if (mysql) {
            this.pos = p
            this.startLineComment(Mode.Stmt)
            return true
          }
          break
        case 0x2f: {
          // /
          if (p + 1 >= len && !final) {
            this.pos = p
            return false
          }
          if (b[p + 1] !== 0x2a) break
          const cond = mysql ? this.conditional(p, len, final) : 0
          if (cond < 0) {
            this.pos = p
            return false
          }
          this.pos = p
          if (cond === 0) {
            this.startBlockComment(Mode.Stmt, 2)
            return true
          }
          // executable comment: drop the marker, keep its content
          if (p > this.segStart) this.parts.push(b.toString('utf8', this.segStart, p))
          this.pos = p + cond
          this.segStart = this.pos
          if (this.condDepth === 0) this.openLine = this.line
          this.condDepth++
          return true
        }
        case 0x2a: // *
          if (mysql && this.condDepth > 0) {
            if (p + 1 >= len && !final) {
              this.pos = p
              return false
            }
            if (b[p + 1] === 0x2f) {
              if (p > this.segStart) this.parts.push(b.toString('utf8', this.segStart, p))
              this.pos = p + 2
              this.segStart = this.pos
              this.condDepth--
              return true
            }
          }
          break
        case 0x24: // $
          if (!mysql) {
            const r = this.dollarTag(p, len, final)
            if (r === -1) {
              this.pos = p
              return false
            }
            if (r > 0) {
              this.tag = Buffer.from(b.subarray(p, p + r))
              this.openLine = this.line
              this.pos = p + r
              this.mode = Mode.Dollar
              return true
            }
          }
          break
      }
      p++
    }
    this.pos = p
    return false
  }

  /** `E'...'`: the quote follows an E that is not part of a longer identifier. */
  private isEString(p: number): boolean {
    const b = this.buf
    if (p < 1 || (b[p - 1]! | 0x20) !== 0x65) return false
    return p - 2 < this.segStart || !isIdent(b[p - 2]!)
  }

  /** Length of a dollar-quote opener `$tag$` at p, 0 if none, -1 if more bytes are needed. */
  private dollarTag(p: number, len: number, final: boolean): number {
    const b = this.buf
    if (p > this.segStart && isIdent(b[p - 1]!)) return 0 // part of an identifier like a$b
    let q = p + 1
    if (q >= len) return final ? 0 : -1
    const first = b[q]!
    if (first === 0x24) return 2
    if (!(isIdent(first) && !(first >= 0x30 && first <= 0x39))) return 0
    while (q < len && q - p <= MAX_TAG && isIdent(b[q]!)) q++
    if (q >= len) return final ? 0 : -1
    return b[q] === 0x24 ? q - p + 1 : 0
  }

  private startQuote(q: number, backslash: boolean): void {
    this.quote = q
    this.backslash = backslash
    this.bsCarry = 0
    this.openLine = this.line
    this.ret = this.mode === Mode.Insert ? Mode.Insert : Mode.Stmt
    this.mode = Mode.Quote
  }

  /** Find the closing quote with indexOf; false when more input is needed. */
  private scanQuote(b: Buffer, len: number, final: boolean): boolean {
    let from = this.pos
    for (;;) {
      const i = b.indexOf(this.quote, from)
      if (i === -1) {
        this.line += this.countNl(b, this.pos, len)
        if (this.backslash) {
          let k = len - 1
          while (k >= this.pos && b[k] === 0x5c) k--
          const run = len - 1 - k
          this.bsCarry = k < this.pos ? this.bsCarry + run : run
        }
        this.pos = len
        void final
        return false
      }
      if (this.backslash) {
        let k = i - 1
        while (k >= this.pos && b[k] === 0x5c) k--
        const run = i - 1 - k + (k < this.pos ? this.bsCarry : 0)
        if (run % 2 === 1) {
          // escaped quote: keep searching (the backslash run now ends before `from`)
          this.line += this.countNl(b, this.pos, i + 1)
          this.pos = i + 1
          this.bsCarry = 0
          from = i + 1
          continue
        }
      }
      this.line += this.countNl(b, this.pos, i)
      this.pos = i + 1
      this.mode = this.ret
      return true
    }
  }

  /** Block comments nest in PostgreSQL, not in MySQL. */
  private scanBlockComment(b: Buffer, len: number, final: boolean, mysql: boolean): boolean {
    let p = this.pos
    while (p < len) {
      const c = b[p]!
      if (c === NL) this.line++
      else if (c === 0x2a || c === 0x2f) {
        if (p + 1 >= len) {
          if (!final) {
            this.pos = p
            return false
          }
          break
        }
        if (c === 0x2a && b[p + 1] === 0x2f) {
          p += 2
          if (--this.commentDepth === 0) {
            this.pos = p
            this.mode = this.ret
            return true
          }
          continue
        }
        if (c === 0x2f && b[p + 1] === 0x2a && !mysql) {
          this.commentDepth++
          p += 2
          continue
        }
      }
      p++
    }
    this.pos = len
    return false
  }

  private finishStatement(end: number, delimLen: number): void {
    const b = this.buf
    if (end - this.segStart > this.maxStatement) this.tooLarge(this.stmtLine)
    let text = b.toString('utf8', this.segStart, end)
    if (this.parts.length > 0) text = this.parts.join('') + text
    text = text.trim()
    const line = this.stmtLine
    const offset = this.stmtOffset
    this.pos = end + delimLen
    this.capture = false
    this.parts = []
    this.mode = Mode.Between
    if (text === '') return
    if (this.dialect === 'postgres' && /^copy\b[\s\S]*\bfrom\s+stdin\b/i.test(text)) {
      this.emit('copy', text, line, offset)
      this.openLine = this.line
      this.copyAtLineStart = false
      this.mode = Mode.Copy
      return
    }
    this.emit('sql', text, line, offset)
  }

  private finishInsert(): void {
    this.emit('insert', this.insertText, this.stmtLine, this.stmtOffset)
    this.mode = Mode.Between
  }

  /** COPY data: lines up to one that is exactly `\.`. The hot loop of data-heavy dumps. */
  private scanCopy(b: Buffer, len: number, final: boolean): boolean {
    let p = this.pos
    let lines = 0
    let atStart = this.copyAtLineStart
    let more = false
    for (;;) {
      if (atStart) {
        if (p + 2 > len && !final) {
          more = true
          break
        }
        if (b[p] === 0x5c && b[p + 1] === 0x2e) {
          const c = b[p + 2]
          if (c === undefined && !final) {
            more = true
            break
          }
          if (c === undefined || c === NL || c === 0x0d) {
            this.line += lines
            this.counters.copyLines += lines
            this.pos = p + 2
            this.copyAtLineStart = false
            this.mode = Mode.Between
            return true
          }
        }
      }
      const nl = b.indexOf(NL, p)
      if (nl === -1) {
        p = len
        atStart = false
        more = true
        break
      }
      lines++
      p = nl + 1
      atStart = true
    }
    void more
    this.line += lines
    this.counters.copyLines += lines
    this.pos = p
    this.copyAtLineStart = atStart
    return false
  }

  /**
   * INSERT/REPLACE: find the delimiter outside quotes without decoding anything. Between
   * strings (a few bytes: `),(42,`) a byte loop; inside strings, where the bytes are, indexOf
   * finds the closing quote. Comments inside INSERT statements are not recognised (dump
   * tools do not write them there).
   */
  private scanInsert(b: Buffer, len: number, final: boolean, mysql: boolean): boolean {
    const d0 = this.delimiter[0]!
    const dl = this.delimiter.length
    let p = this.pos
    if (this.mysqldump && dl === 1 && d0 === 0x3b) {
      if (this.semiPending && p < len) {
        this.semiPending = false
        if (b[p] === NL) {
          this.finishInsert()
          return true
        }
      }
      const i = b.indexOf(SqlSplitter.SEMI_NL, p)
      if (i === -1) {
        this.line += this.countNl(b, p, len)
        this.pos = len
        this.semiPending = len > p && b[len - 1] === 0x3b
        return false
      }
      this.line += this.countNl(b, p, i)
      this.pos = i + 1
      this.finishInsert()
      return true
    }
    while (p < len) {
      const c = b[p]!
      if (c === 0x27 || c === 0x22 || (c === 0x60 && mysql)) {
        const bs = mysql ? c !== 0x60 : c === 0x27 && p > 0 && (b[p - 1]! | 0x20) === 0x65 && !isIdent(b[p - 2] ?? 0x20)
        let q = p + 1
        let close = -1
        for (;;) {
          const i = b.indexOf(c, q)
          if (i === -1) break
          if (bs) {
            let k = i - 1
            while (k >= q && b[k] === 0x5c) k--
            if ((i - 1 - k) % 2 === 1) {
              q = i + 1
              continue
            }
          }
          close = i
          break
        }
        if (close === -1) {
          // the string goes on in the next chunk: the generic quote scanner carries it over
          this.pos = p + 1
          this.startQuote(c, bs)
          return true
        }
        this.line += this.countNl(b, p, close)
        p = close + 1
        continue
      }
      if (c === d0) {
        if (dl > 1) {
          if (p + dl > len && !final) {
            this.pos = p
            return false
          }
          if (!b.subarray(p, p + dl).equals(this.delimiter)) {
            p++
            continue
          }
        }
        this.pos = p + dl
        this.finishInsert()
        return true
      }
      if (c === NL) this.line++
      p++
    }
    this.pos = p
    return false
  }
}

/** Split a whole string or buffer (tests, small inputs). */
export function splitSql(input: string | Buffer, options: SqlSplitterOptions): SqlStatement[] {
  const s = new SqlSplitter(options)
  return [...s.push(typeof input === 'string' ? Buffer.from(input) : input), ...s.end()]
}
