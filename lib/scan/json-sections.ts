// JSON bytes → top-level sections and their entries, as byte extents: the streaming core the
// dbt manifest and catalog readers share. It tracks only JSON structure (strings with their
// escapes, nesting), so sections nobody wants (a manifest's `macros` are usually most of its
// bytes) are passed over without allocating, and each wanted entry (one dbt node) is handed
// over as one string for `JSON.parse`. Memory is bounded by the largest wanted entry.
// Why not stream-json: building each node's object with it ran at 0.37× the speed of
// JSON.parse of the whole file (README "Dependencies", bench/dbt-stream-json.ts); scanning
// bytes and parsing slices beats parsing everything.

import { isAscii } from 'node:buffer'
import { SecodaError } from '../errors.js'

/** What the scanner does with a top-level section's value. */
export type SectionMode =
  /** Pass over it, counting its direct entries (members of an object, items of an array). */
  | 'skip'
  /** Deliver the whole value as one string (small sections such as `metadata`). */
  | 'whole'
  /** Deliver each direct entry the handler wants as one string, count the others. */
  | 'entries'

/** Where a value starts in the input. */
export interface ScanPosition {
  /** Byte offset from the start of the input. */
  offset: number
  /** 1-based line. */
  line: number
}

/** Receives what {@link JsonSectionScanner} finds. */
export interface JsonSectionHandler {
  /** A top-level key was read: how to treat its value. */
  section(name: string, pos: ScanPosition): SectionMode
  /** The value of a `whole` section. */
  value?(name: string, text: string, pos: ScanPosition): void
  /** An entry of an `entries` section: collect it? (`key` is '' for array items.) */
  wantEntry(section: string, key: string): boolean
  /**
   * A wanted entry's value, as JSON text — without the members {@link fields} dropped or
   * deferred. `lazy` returns a deferred member's value, parsed on demand (only while the
   * call lasts).
   */
  entry(section: string, key: string, text: string, pos: ScanPosition, lazy: LazyMembers): void
  /**
   * Members of a section's entries (their top-level keys) to leave out of the text given to
   * `entry`: `drop` ones are never decoded; `lazy` ones only when asked for. Leaving out
   * what a conversion does not use (raw SQL next to compiled SQL, config blocks) saves
   * decoding, parsing and garbage collection.
   */
  fields?(section: string): EntryFields | undefined
  /** A section ended; `entries` counts its direct entries, wanted or not. */
  sectionEnd?(name: string, entries: number): void
}

/** See {@link JsonSectionHandler.fields}. */
export interface EntryFields {
  drop: ReadonlySet<string>
  lazy: ReadonlySet<string>
}

/** Deferred members of an entry. */
export interface LazyMembers {
  /** The member's parsed value, or undefined when the entry has no such member. */
  get(name: string): unknown
}

const NO_LAZY: LazyMembers = { get: () => undefined }

/** Options of {@link JsonSectionScanner}. */
export interface JsonSectionScannerOptions {
  /** File name for error positions. */
  file?: string
  /** What the input is, for messages ("dbt manifest"). */
  what?: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d
const COLON = 0x3a
const COMMA = 0x2c
const NL = 0x0a
const SPACE = 0x20
const TAB = 0x09
const CR = 0x0d
const OBJ = 1
const ARR = 2

/** Role of the string being read. */
const STR_SKIP = 0
const STR_KEY = 1
const STR_MEMBER = 2

/**
 * UTF-8 bytes → string. Pure-ASCII text (most of a manifest) is decoded as latin1, which
 * skips UTF-8 decoding and is about ten times faster; `isAscii` is a SIMD pass.
 */
function decodeParts(parts: Uint8Array[], last: Uint8Array): string {
  const b = toBuffer(parts.length === 0 ? last : Buffer.concat([...parts, last]))
  return b.toString(isAscii(b) ? 'latin1' : 'utf8')
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

/**
 * Byte-level scanner over a JSON document whose top level is an object. Push chunks of any
 * size ({@link push}), then call {@link end}; the handler is called synchronously. The
 * output does not depend on how the input is cut into chunks.
 *
 * It checks structure (balanced brackets, terminated strings, keys where keys belong at the
 * two levels it reads) but not the full JSON grammar of skipped sections; wanted entries are
 * checked by `JSON.parse` in the handler. Structural errors throw a `DBT_JSON` {@link SecodaError}
 * carrying the byte offset and line.
 */
export class JsonSectionScanner {
  /** Bytes consumed so far. */
  bytes = 0
  /** Current 1-based line. */
  line = 1
  private readonly handler: JsonSectionHandler
  private readonly file: string | undefined
  private readonly what: string
  private stack = new Uint8Array(64)
  private depth = 0
  private inString = false
  private escaped = false
  private strRole = STR_SKIP
  /** Depth (1 or 2) at which a value is expected next; -1 = none. */
  private pendingValue = -1
  /** Depth-1 object: a key comes next. */
  private expectKey1 = false
  /** Depth-2 container is an object (else an array) and a key comes next. */
  private sectionIsObject = false
  private expectKey2 = false
  private topDone = false
  private sectionName = ''
  private mode: SectionMode = 'skip'
  private entryCount = 0
  private entryKey = ''
  /** Depth whose value is being collected (1 or 2), 0 = none. */
  private captureDepth = 0
  private captureParts: Uint8Array[] = []
  private captureStart = -1
  private capturePos: ScanPosition = { offset: 0, line: 1 }
  /** A scalar (number, true, false, null) at depth 1 or 2 is open. */
  private scalarDepth = 0
  private keyParts: Uint8Array[] = []
  private keyStart = -1
  private keyPos: ScanPosition = { offset: 0, line: 1 }
  /** Filtering the members of the entry being collected (depth 3 keys). */
  private filter: EntryFields | undefined
  private expectKey3 = false
  private atStart3 = true
  /** Absolute offsets: separator before the open member, its key's quote, its colon. */
  private sep3 = 0
  private memberStart = -1
  private memberKey: string | undefined
  /** Byte ranges (absolute, [start, end) pairs) removed from the entry's text. */
  private drops: number[] = []
  /** Deferred members: name → absolute [start, end) of the value. */
  private lazyRanges = new Map<string, [number, number]>()

  constructor(handler: JsonSectionHandler, options: JsonSectionScannerOptions = {}) {
    this.handler = handler
    this.file = options.file
    this.what = options.what ?? 'JSON document'
  }

  /** Scan one chunk. */
  push(chunk: Uint8Array): void {
    const n = chunk.length
    const base = this.bytes
    let i = 0
    // Resume a string cut by the previous chunk boundary.
    if (this.inString) {
      i = this.scanString(chunk, 0)
      if (i < 0) {
        this.carry(chunk)
        this.bytes += n
        return
      }
    }
    while (i < n) {
      const b = chunk[i]!
      if (b === QUOTE) {
        // A string: a key at the two levels read, else a value (maybe the start of one).
        const d = this.depth
        if ((d === 1 && this.expectKey1) || (d === 2 && this.expectKey2)) {
          this.strRole = STR_KEY
          this.keyStart = i + 1
          this.keyParts.length = 0
          this.keyPos = { offset: base + i, line: this.line }
        } else if (d === 3 && this.expectKey3) {
          this.strRole = STR_MEMBER
          this.keyStart = i + 1
          this.keyParts.length = 0
          this.memberStart = base + i
          this.expectKey3 = false
        } else {
          if (d === this.pendingValue) this.startValue(chunk, i, base)
          else if (d <= 2) this.unexpected(chunk, i, base)
          this.strRole = STR_SKIP
        }
        this.inString = true
        const j = this.scanString(chunk, i + 1)
        if (j < 0) {
          this.carry(chunk)
          this.bytes += n
          return
        }
        i = j
        continue
      }
      if (this.scalarDepth !== 0 && (b === COMMA || b === RBRACE || b === RBRACKET || b === SPACE || b === NL || b === CR || b === TAB)) {
        this.endValue(chunk, i)
        this.scalarDepth = 0
      }
      switch (b) {
        case NL:
          this.line++
          break
        case SPACE:
        case TAB:
        case CR:
          break
        case LBRACE:
        case LBRACKET: {
          const d = this.depth
          if (d === this.pendingValue) this.startValue(chunk, i, base)
          else if (d === 0) {
            if (this.topDone) this.fail('unexpected data after the end of the document', base + i)
            if (b !== LBRACE) this.fail(`the top level is an array, not an object: not a ${this.what}`, base + i, 'DBT_WRONG_ARTIFACT')
          } else if (d <= 2) this.unexpected(chunk, i, base)
          if (d === this.stack.length) this.growStack()
          this.stack[d] = b === LBRACE ? OBJ : ARR
          this.depth = d + 1
          if (d === 2 && this.filter !== undefined && this.captureDepth === 2 && b === LBRACE) {
            this.expectKey3 = true
            this.atStart3 = true
            this.sep3 = base + i
          }
          if (d === 0) this.expectKey1 = true
          else if (d === 1) {
            this.sectionIsObject = b === LBRACE
            this.expectKey2 = this.sectionIsObject
            this.pendingValue = this.sectionIsObject ? -1 : 2
          }
          break
        }
        case RBRACE:
        case RBRACKET: {
          const d = this.depth
          if (d === 0 || this.stack[d - 1] !== (b === RBRACE ? OBJ : ARR)) {
            this.fail(
              `unexpected '${String.fromCharCode(b)}'${d === 0 ? '' : `, expected '${this.stack[d - 1] === OBJ ? '}' : ']'}'`}`,
              base + i,
            )
          }
          // `{"a": }` or `{"a" }` at a level that is read.
          if ((d === 1 || d === 2) && this.pendingValue === d && (d === 1 || this.sectionIsObject)) this.fail('expected a value', base + i)
          if (d === 3 && this.memberKey !== undefined) this.endMember(base + i, true)
          this.depth = d - 1
          if (d - 1 === this.captureDepth) this.endValue(chunk, i + 1)
          if (d === 2) {
            this.pendingValue = -1
            this.handler.sectionEnd?.(this.sectionName, this.entryCount)
          } else if (d === 1) {
            this.topDone = true
            this.pendingValue = -1
          }
          break
        }
        case COLON:
          if (this.depth === 1) {
            if (this.pendingValue !== 1) this.fail("unexpected ':'", base + i)
          } else if (this.depth === 2 && this.sectionIsObject && this.pendingValue !== 2) this.fail("unexpected ':'", base + i)
          break
        case COMMA:
          if (this.depth === 1) {
            if (this.expectKey1 || this.pendingValue === 1) this.fail("unexpected ','", base + i)
            this.expectKey1 = true
          } else if (this.depth === 2) {
            if (this.sectionIsObject) {
              if (this.expectKey2 || this.pendingValue === 2) this.fail("unexpected ','", base + i)
              this.expectKey2 = true
            } else this.pendingValue = 2
          } else if (this.depth === 3 && this.memberKey !== undefined) {
            this.endMember(base + i, false)
            this.sep3 = base + i
            this.expectKey3 = true
          } else if (this.depth === 0) this.fail("unexpected ','", base + i)
          break
        default: {
          // Part of a number, true, false or null.
          const d = this.depth
          if (d === 0) {
            if (base + i < 3 && b === [0xef, 0xbb, 0xbf][base + i]) break // UTF-8 BOM
            this.fail(
              this.topDone ? 'unexpected data after the end of the document' : `the top level is not an object: not a ${this.what}`,
              base + i,
              this.topDone ? 'DBT_JSON' : 'DBT_WRONG_ARTIFACT',
            )
          }
          if (d === this.pendingValue) {
            this.startValue(chunk, i, base)
            this.scalarDepth = d
          } else if (d <= 2 && this.scalarDepth !== d) this.unexpected(chunk, i, base)
        }
      }
      i++
    }
    this.carry(chunk)
    this.bytes += n
  }

  /** End of input: throws DBT_JSON when the document is incomplete. */
  end(): void {
    // A scalar still open here sits inside an unclosed object: the depth check reports it.
    this.scalarDepth = 0
    if (this.inString) this.fail('unexpected end of input inside a string (is the file truncated?)', this.bytes)
    if (this.depth > 0)
      this.fail(
        `unexpected end of input: ${this.depth} unclosed bracket${this.depth === 1 ? '' : 's'} (is the file truncated?)`,
        this.bytes,
      )
    if (!this.topDone) this.fail(`empty input: not a ${this.what}`, this.bytes, this.bytes === 0 ? 'DBT_WRONG_ARTIFACT' : 'DBT_JSON')
  }

  /**
   * Scan string content from `i`; return the index after the closing quote, or -1 when the
   * chunk ends first (state kept in `inString`/`escaped`). Finds quotes with the native
   * `indexOf`, then counts the backslashes before each one.
   */
  private scanString(chunk: Uint8Array, i: number): number {
    const n = chunk.length
    if (this.escaped) {
      if (i >= n) return -1
      this.escaped = false
      i++
    }
    // Most strings (keys, short values) end within a few bytes: a JS loop beats a native
    // call there. Long ones (SQL, descriptions) go to indexOf (memchr) below.
    const stop = Math.min(n, i + 48)
    while (i < stop) {
      const b = chunk[i]!
      if (b === QUOTE) return this.stringEnd(chunk, i)
      if (b === BACKSLASH) {
        if (i + 1 >= n) {
          this.escaped = true
          return -1
        }
        i += 2
      } else i++
    }
    if (i >= n) return -1
    for (;;) {
      const q = chunk.indexOf(QUOTE, i)
      if (q < 0) {
        let k = n - 1
        while (k >= i && chunk[k] === BACKSLASH) k--
        if (((n - 1 - k) & 1) === 1) this.escaped = true
        return -1
      }
      let k = q - 1
      while (k >= i && chunk[k] === BACKSLASH) k--
      if (((q - 1 - k) & 1) === 0) return this.stringEnd(chunk, q)
      i = q + 1
    }
  }

  /** The closing quote of a string is at `q`. */
  private stringEnd(chunk: Uint8Array, q: number): number {
    this.inString = false
    if (this.strRole === STR_KEY) this.keyEnd(chunk, q)
    else if (this.strRole === STR_MEMBER) {
      this.memberKey = this.keyText(chunk, q)
      if (!this.filter!.drop.has(this.memberKey) && !this.filter!.lazy.has(this.memberKey)) this.memberKey = ''
    } else if (this.captureDepth !== 0 && this.captureDepth === this.depth) this.endValue(chunk, q + 1)
    return q + 1
  }

  private keyText(chunk: Uint8Array, q: number): string {
    const raw = decodeParts(this.keyParts, chunk.subarray(this.keyStart, q))
    this.keyParts.length = 0
    this.keyStart = -1
    if (!raw.includes('\\')) return raw
    try {
      return JSON.parse('"' + raw + '"') as string
    } catch {
      return this.fail('invalid escape in a key', this.keyPos.offset)
    }
  }

  /**
   * The member opened at `memberStart` ends at the separator at `end` (a ',' or, when
   * `close`, the entry's '}'). A member that is left out is cut with one adjacent comma, so
   * the rest stays valid JSON: `{A,X,B}` → `{A,B}`, `{X,B}` → `{B}`, `{A,X}` → `{A}`.
   */
  private endMember(end: number, close: boolean): void {
    const key = this.memberKey!
    this.memberKey = undefined
    if (key === '') {
      this.atStart3 = false
      return
    }
    if (this.filter!.lazy.has(key)) {
      // The value starts after the colon that follows the key; JSON.parse skips whitespace.
      this.lazyRanges.set(key, [this.memberStart, end])
    }
    if (this.atStart3) this.drops.push(this.memberStart, close ? end : end + 1)
    else this.drops.push(this.sep3, end)
  }

  private keyEnd(chunk: Uint8Array, q: number): void {
    const key = this.keyText(chunk, q)
    if (this.depth === 1) {
      this.expectKey1 = false
      this.pendingValue = 1
      this.sectionName = key
      this.mode = this.handler.section(key, this.keyPos)
      this.entryCount = 0
    } else {
      this.expectKey2 = false
      this.pendingValue = 2
      this.entryKey = key
    }
  }

  private startValue(_chunk: Uint8Array, i: number, base: number): void {
    const d = this.pendingValue
    this.pendingValue = -1
    let want = false
    if (d === 1) want = this.mode === 'whole'
    else {
      this.entryCount++
      if (this.mode === 'entries') want = this.handler.wantEntry(this.sectionName, this.sectionIsObject ? this.entryKey : '')
    }
    if (!want) return
    this.captureDepth = d
    this.captureStart = i
    this.captureParts.length = 0
    this.capturePos = { offset: base + i, line: this.line }
    this.filter = d === 2 ? this.handler.fields?.(this.sectionName) : undefined
    this.memberKey = undefined
  }

  private endValue(chunk: Uint8Array, end: number): void {
    const d = this.captureDepth
    if (d === 0 || d !== this.depth) return
    const last = chunk.subarray(this.captureStart, end)
    let text: string
    let lazy = NO_LAZY
    if (this.drops.length === 0) text = decodeParts(this.captureParts, last)
    else {
      const all = toBuffer(this.captureParts.length === 0 ? last : Buffer.concat([...this.captureParts, last]))
      const origin = this.capturePos.offset
      const keep: Uint8Array[] = []
      let at = 0
      for (let k = 0; k < this.drops.length; k += 2) {
        const from = this.drops[k]! - origin
        if (from > at) keep.push(all.subarray(at, from))
        at = Math.max(at, this.drops[k + 1]! - origin)
      }
      keep.push(all.subarray(at))
      text = decodeParts(keep.slice(0, -1), keep[keep.length - 1]!)
      if (this.lazyRanges.size > 0) {
        const ranges = new Map(this.lazyRanges)
        lazy = {
          get(name: string): unknown {
            const r = ranges.get(name)
            if (r === undefined) return undefined
            const member = decodeParts([], all.subarray(r[0] - origin, r[1] - origin))
            // The range is the whole `"key": value` member: parse it as a one-member object.
            return (JSON.parse('{' + member + '}') as Record<string, unknown>)[name]
          },
        }
      }
      this.drops.length = 0
      this.lazyRanges.clear()
    }
    this.captureParts.length = 0
    this.captureStart = -1
    this.captureDepth = 0
    this.filter = undefined
    this.expectKey3 = false
    if (d === 1) this.handler.value?.(this.sectionName, text, this.capturePos)
    else this.handler.entry(this.sectionName, this.sectionIsObject ? this.entryKey : '', text, this.capturePos, lazy)
  }

  /** Keep the parts of a key or value that continue into the next chunk. */
  private carry(chunk: Uint8Array): void {
    if (this.captureDepth !== 0) {
      this.captureParts.push(chunk.subarray(this.captureStart))
      this.captureStart = 0
    }
    if (this.inString && this.strRole !== STR_SKIP) {
      this.keyParts.push(chunk.subarray(this.keyStart))
      this.keyStart = 0
    }
  }

  private growStack(): void {
    if (this.stack.length >= 1 << 16) this.fail('nesting too deep', this.bytes)
    const s = new Uint8Array(this.stack.length * 2)
    s.set(this.stack)
    this.stack = s
  }

  private unexpected(chunk: Uint8Array, i: number, base: number): never {
    const b = chunk[i]!
    const ch = b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`
    return this.fail(
      `unexpected ${ch}, expected ${this.depth === 0 ? 'an object' : (this.depth === 1 ? this.expectKey1 : this.expectKey2) ? 'a key' : "',' or a closing bracket"}`,
      base + i,
    )
  }

  private fail(message: string, offset: number, code: 'DBT_JSON' | 'DBT_WRONG_ARTIFACT' = 'DBT_JSON'): never {
    const where = `byte ${offset}, line ${this.line}`
    throw new SecodaError(code, `${code === 'DBT_JSON' ? `invalid JSON in ${this.what}: ` : ''}${message} (at ${where})`, {
      ...(this.file !== undefined ? { file: this.file } : {}),
      line: this.line,
      offset,
    })
  }
}

/**
 * Where inside `text` (which starts at `start`) a `JSON.parse` SyntaxError points. V8 gives
 * "at position N" for some errors only (not for an unexpected token in Node 20), so the
 * position is found by a small validator; it runs only after JSON.parse has failed.
 */
export function jsonErrorPosition(text: string, error: unknown, start: ScanPosition): ScanPosition {
  const m = /at position (\d+)/.exec(error instanceof Error ? error.message : '')
  const at = m === null ? findJsonError(text) : Math.min(Number(m[1]), text.length)
  const before = text.slice(0, at)
  let line = start.line
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++
  return { offset: start.offset + Buffer.byteLength(before), line }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** Index of the first JSON syntax error in `text` (its length when the text just ends early). */
export function findJsonError(text: string): number {
  let i = 0
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++
  }
  const fail = (): never => {
    throw i
  }
  const str = (): void => {
    i++
    for (;;) {
      const c = text.charCodeAt(i)
      if (Number.isNaN(c) || c < 0x20) fail()
      if (c === 0x22) {
        i++
        return
      }
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail()
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else {
          i++
          fail()
        }
      } else i++
    }
  }
  const value = (depth: number): void => {
    ws()
    const c = text[i]
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      i++
      ws()
      if (text[i] === close) {
        i++
        return
      }
      for (;;) {
        if (c === '{') {
          ws()
          if (text[i] !== '"') fail()
          str()
          ws()
          if (text[i] !== ':') fail()
          i++
        }
        value(depth + 1)
        ws()
        if (text[i] === ',') i++
        else if (text[i] === close) {
          i++
          return
        } else fail()
      }
    }
    if (c === '"') return str()
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length
        return
      }
    }
    NUMBER.lastIndex = i
    if (NUMBER.exec(text) === null) fail()
    i = NUMBER.lastIndex
  }
  try {
    value(0)
    ws()
    return i
  } catch (at) {
    return Math.min(at as number, text.length)
  }
}
