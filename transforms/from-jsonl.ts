// JSONL bytes → Secoda records (resources and lineage edges, told apart by shape), with
// line numbers. Works on bytes: lines are cut at 0x0A, so a UTF-8 character split across
// chunks is decoded whole; BOM, CRLF and blank lines are accepted; lines are capped.

import { isUtf8 } from 'node:buffer'
import { SecodaError } from '../lib/errors.js'
import type { Report } from '../lib/report.js'
import { BYTES_TO_RECORDS, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../lib/stream.js'
import { firstInvalidUtf8 } from '../lib/utf8.js'
import { type SecodaRecord, type LineageEdge, withSource, internalId, SOURCE_FILE, SOURCE_LINE } from '../lib/records.js'

/** The line a failed secoda-convert run writes at the end of JSONL on stdout, so that a
 * reader further down a pipe never mistakes a truncated stream for a complete one. */
export const ABORT_MARKER_KEY = '__secoda_convert_aborted__'

/**
 * The first line secoda-convert writes when it sends JSONL into a pipe. A reader that sees it
 * requires the matching {@link STREAM_END_KEY} trailer: a producer killed part-way (SIGKILL,
 * OOM) cannot write an abort marker, but it cannot write the trailer either (README "Pipes").
 */
export const STREAM_HEADER_KEY = '__secoda_convert_stream__'
/** The last line of a framed stream: `{"__secoda_convert_end__":{"records":N}}`. */
export const STREAM_END_KEY = '__secoda_convert_end__'
/** Version of the framing written in the header. */
export const STREAM_VERSION = 1

/** Options of the JSONL reader. */
export interface JsonlReaderOptions {
  /** Diagnostics go here (required: the reader reports bad lines and continues when allowed). */
  report: Report
  /** Name used in diagnostics. */
  file?: string
  /** Longest accepted line in bytes (default 64 MiB). */
  maxLineLength?: number
}

const NL = 0x0a
const DEFAULT_MAX_LINE = 64 * 1024 * 1024

/** {@link JsonlReaderOptions} with every default filled in. */
export type JsonlReaderSettings = Readonly<{ report: Report; file: string | undefined; maxLineLength: number }>

/** The reader's options, normalised once: a frozen copy, defaults filled in. */
export function jsonlReaderSettings(options: JsonlReaderOptions): JsonlReaderSettings {
  return Object.freeze({
    report: options.report,
    file: options.file,
    // the longest line JSON.parse is asked to hold; --max-line-length raises it
    maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE,
  })
}

/** Counters of one reader: bytes in, lines, records out, and lines that were not records. */
export interface JsonlInfo extends StageInfo {
  lines: number
  invalid: number
}
const DECODE_WINDOW = 64 * 1024

/** Column (1-based) of a JSON.parse error, from V8's message, when it names one. */
function jsonErrorColumn(message: string): number | undefined {
  const col = /column (\d+)/.exec(message)
  if (col) return Number(col[1])
  const pos = /position (\d+)/.exec(message)
  return pos ? Number(pos[1]) + 1 : undefined
}

/**
 * The stream-free core (lib/stream.ts protocol): feed byte chunks with
 * {@link JsonlParser.push}, then call {@link JsonlParser.end}; each complete record is passed
 * to `emit`. Bad lines are reported to the report (which throws once its error limit is
 * reached).
 */
export class JsonlParser implements StageCore<Uint8Array, SecodaRecord, JsonlInfo> {
  readonly mode = BYTES_TO_RECORDS
  readonly info: JsonlInfo = stageInfo({ lines: 0, invalid: 0 })
  readonly options: JsonlReaderSettings
  private readonly file: string | undefined
  private readonly report: Report
  private readonly maxLine: number
  /** Where records go: the emit of the push or end call under way. */
  private emit: Emit<SecodaRecord> = () => {}
  /** Bytes of the current, unfinished line. */
  private pending: Buffer[] = []
  private pendingLength = 0
  /** Byte offset of the start of the unfinished line. */
  private lineOffset = 0
  /** Inside a framed stream (header seen, trailer not yet): its header's line and records so far. */
  private framedAt = 0
  private framedRecords = 0

  constructor(options: JsonlReaderOptions) {
    this.options = jsonlReaderSettings(options)
    this.file = this.options.file
    this.report = this.options.report
    this.maxLine = this.options.maxLineLength
  }

  /** Feed the next chunk of bytes. */
  push(bytes: Uint8Array, emit: Emit<SecodaRecord>): void {
    this.emit = emit
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.info.bytesIn += chunk.length
    const last = chunk.lastIndexOf(NL)
    if (last === -1) {
      this.addPending(chunk)
      return
    }
    const buf = chunk
    let start = 0
    if (this.pendingLength > 0) {
      // finish the carried line with this chunk's first line
      const first = chunk.indexOf(NL)
      this.pending.push(chunk.subarray(0, first))
      const line = Buffer.concat(this.pending, this.pendingLength + first)
      this.pending = []
      this.pendingLength = 0
      this.line(line, 0, line.length)
      start = first + 1
    }
    const end = last + 1
    let pos = start
    while (pos < end) {
      // Decode at most DECODE_WINDOW bytes at a time, cut at a newline: V8 puts strings over
      // 128 KiB in large-object space, which made decoding 256 KiB chunks ~50x slower
      // (measured: 60 MB in 256 KiB pieces 960 ms, in 64 KiB pieces 10 ms).
      let stop = end - pos <= DECODE_WINDOW ? end : buf.lastIndexOf(NL, pos + DECODE_WINDOW - 1) + 1
      if (stop <= pos) stop = buf.indexOf(NL, pos) + 1 // one line longer than the window
      this.lines(buf, pos, stop)
      pos = stop
    }
    if (end < buf.length) this.addPending(buf.subarray(end))
  }

  /** Signal end of input: the last line may lack its newline. */
  end(emit: Emit<SecodaRecord>): undefined {
    this.emit = emit
    if (this.pendingLength > 0) {
      const line = Buffer.concat(this.pending, this.pendingLength)
      this.pending = []
      this.pendingLength = 0
      this.line(line, 0, line.length)
    }
    if (this.framedAt > 0) {
      throw new SecodaError(
        'UPSTREAM_ABORTED',
        `the secoda-convert stream begun at line ${this.framedAt} ends after ${this.framedRecords} records without its trailer: the command writing it was killed or failed; its output is incomplete`,
        { file: this.file, line: this.info.lines },
      )
    }
    return undefined
  }

  private addPending(part: Buffer): void {
    this.pending.push(part)
    this.pendingLength += part.length
    if (this.pendingLength > this.maxLine) {
      throw new SecodaError(
        'LINE_TOO_LONG',
        `line is longer than ${this.maxLine} bytes (use --max-line-length to raise the limit), at ${this.file ?? 'input'}:${this.info.lines + 1}`,
        { file: this.file, line: this.info.lines + 1, offset: this.lineOffset },
      )
    }
  }

  /** Complete lines buf[start, end) (end is just past a newline). */
  private lines(buf: Buffer, start: number, end: number): void {
    const piece = buf.subarray(start, end)
    if (isUtf8(piece)) {
      // fast path: decode the lines at once and cut the string; per-line byte offsets are
      // only worked out when a diagnostic needs one
      const text = piece.toString('utf8')
      const regionOffset = this.lineOffset
      this.lineOffset += piece.length
      let pos = 0
      while (pos < text.length) {
        const nl = text.indexOf('\n', pos)
        this.textLine(text, pos, nl, regionOffset)
        pos = nl + 1
      }
      return
    }
    let pos = start
    while (pos < end) {
      const nl = buf.indexOf(NL, pos)
      this.line(buf, pos, nl)
      pos = nl + 1
    }
  }

  private tooLong(lineNo: number, offset: number): SecodaError {
    return new SecodaError(
      'LINE_TOO_LONG',
      `line is longer than ${this.maxLine} bytes (use --max-line-length to raise the limit), at ${this.file ?? 'input'}:${lineNo}`,
      { file: this.file, line: lineNo, offset },
    )
  }

  /** One line: buf[start, end) without its newline, UTF-8 not yet checked. */
  private line(buf: Buffer, start: number, end: number): void {
    const lineNo = ++this.info.lines
    const offset = this.lineOffset
    this.lineOffset += end - start + 1
    if (end - start > this.maxLine) throw this.tooLong(lineNo, offset)
    if (!isUtf8(buf.subarray(start, end))) {
      this.info.invalid++
      const bad = firstInvalidUtf8(buf.subarray(start, end))
      this.report.error(
        'INPUT_UTF8',
        `invalid UTF-8 byte 0x${buf[start + bad]!.toString(16).padStart(2, '0')} at byte ${bad + 1} of the line`,
        { file: this.file, line: lineNo, offset: offset + bad },
      )
      return
    }
    const text = buf.toString('utf8', start, end)
    this.parse(text, lineNo, () => offset)
  }

  /** One line of decoded text: text[start, end); `regionOffset` is the byte offset of text[0]. */
  private textLine(text: string, start: number, end: number, regionOffset: number): void {
    const lineNo = ++this.info.lines
    if (end - start > this.maxLine) throw this.tooLong(lineNo, regionOffset + Buffer.byteLength(text.slice(0, start)))
    this.parse(
      start === 0 && end === text.length ? text : text.slice(start, end),
      lineNo,
      () => regionOffset + Buffer.byteLength(text.slice(0, start)),
    )
  }

  private parse(text: string, lineNo: number, offset: () => number): void {
    let end = text.length
    if (end > 0 && text.charCodeAt(end - 1) === 13) text = text.slice(0, --end) // CRLF
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1) // BOM
    if (text.length === 0) return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      if (text.trim() === '') return // a line of spaces is a blank line
      this.info.invalid++
      const message = (err as Error).message
      const column = jsonErrorColumn(message)
      this.report.error('JSON_SYNTAX', `invalid JSON: ${message}`, { file: this.file, line: lineNo, column, offset: offset() })
      return
    }
    this.value(value, lineNo)
  }

  private value(value: unknown, line: number): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.info.invalid++
      this.report.error(
        'JSONL_NOT_OBJECT',
        `expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
        { file: this.file, line },
      )
      return
    }
    const obj = value as Record<string, unknown>
    if (obj.entity_type !== undefined || obj.from_identifier !== undefined || obj.to_identifier !== undefined) {
      this.info.recordsOut++
      this.framedRecords++
      const rec = obj as unknown as Record<symbol, unknown>
      if (this.file !== undefined) rec[SOURCE_FILE] = this.file
      rec[SOURCE_LINE] = line
      this.emit(rec as unknown as SecodaRecord)
      return
    }
    if (obj.from_databuilder_id !== undefined || obj.to_databuilder_id !== undefined) {
      this.report.warn(
        'LINEAGE_OBSOLETE',
        'obsolete lineage form from_databuilder_id/to_databuilder_id: converted to from_identifier/to_identifier',
        { file: this.file, line },
      )
      const edge: LineageEdge = {
        from_identifier: internalId(obj.from_databuilder_id as string),
        to_identifier: internalId(obj.to_databuilder_id as string),
      }
      this.info.recordsOut++
      this.framedRecords++
      this.emit(withSource(edge, { file: this.file, line }))
      return
    }
    if (obj[STREAM_HEADER_KEY] !== undefined) {
      if (this.framedAt > 0)
        throw new SecodaError(
          'UPSTREAM_ABORTED',
          `a new secoda-convert stream begins before the one begun at line ${this.framedAt} ended: that one is incomplete`,
          {
            file: this.file,
            line,
          },
        )
      this.framedAt = line
      this.framedRecords = 0
      return
    }
    if (obj[STREAM_END_KEY] !== undefined) {
      const expected = (obj[STREAM_END_KEY] as { records?: unknown }).records
      if (this.framedAt === 0 || expected !== this.framedRecords)
        throw new SecodaError(
          'UPSTREAM_ABORTED',
          this.framedAt === 0
            ? 'a secoda-convert stream trailer without its header: the input is not one whole stream'
            : `the secoda-convert stream trailer counts ${String(expected)} records but ${this.framedRecords} came: the stream is incomplete`,
          { file: this.file, line },
        )
      this.framedAt = 0
      return
    }
    if (obj[ABORT_MARKER_KEY] !== undefined) {
      const info = obj[ABORT_MARKER_KEY] as { code?: string; message?: string }
      throw new SecodaError(
        'UPSTREAM_ABORTED',
        `the command writing this input failed (${info.code ?? 'unknown'}: ${info.message ?? 'no message'}); its output is incomplete`,
        { file: this.file, line },
      )
    }
    this.info.invalid++
    this.report.error(
      'RECORD_SHAPE',
      'object is neither a resource (no entity_type) nor a lineage edge (no from_identifier/to_identifier)',
      { file: this.file, line },
    )
  }
}

/**
 * A Transform from JSONL bytes to Secoda record objects (one per line). Reported problems
 * go to `options.report`; the stream errors when the report's error limit is reached.
 */
export function createJsonlReader(options: JsonlReaderOptions): StageStream<JsonlParser> {
  return asStream(new JsonlParser(options))
}
