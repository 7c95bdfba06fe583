// Secoda records → the same records, checked. Per-record checks (required fields per
// entity type, value types, enums, lineage identifier rules) happen as records pass;
// cross-record checks (duplicate ids, parents and internal lineage ids that name no
// resource) use a compact id index and are completed at end of stream, where the stage
// fails if any error was reported, so no writer or uploader ever commits invalid output.

import type { Position } from '../lib/errors.js'
import { IdIndex, PendingRefs, hash64, type Hash64 } from '../lib/id-index.js'
import {
  ENTITY_TYPES,
  LINEAGE_ID_TYPES,
  RESOURCE_FIELDS,
  type EntityType,
  type LineageEdge,
  type Resource,
  type SecodaRecord,
  isLineage,
  sourceFile,
  sourceLine,
} from '../lib/records.js'
import type { Report } from '../lib/report.js'
import { RECORDS_TO_RECORDS, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../lib/stream.js'

/** Options of the validator. */
export interface ValidatorOptions {
  report: Report
  /** Also check what the CSV format needs (no periods in names). */
  forCsv?: boolean
  /** Check duplicate ids and references (default true). */
  references?: boolean
  /** Warn about fields the format does not define (default true). */
  unknownFields?: boolean
  /** Expected number of ids, to size the index up front (optional). */
  expectedIds?: number
  /**
   * Records another stage checked (and wrote) before this validator takes the rest of their
   * input: they count as checked, and later records are checked against their ids as if
   * they had passed through here. The direct path of transforms/info-schema/direct-csv.ts hands
   * over this way (transforms/info-schema/hand-over.ts).
   */
  checkedBefore?: CheckedBefore
  /**
   * Whether no record at all is an error (a source command whose input was not empty
   * produced nothing: the wrong file, or one it cannot read) or a warning (default).
   */
  emptyIsError?: boolean
}

/** Records checked before a validator starts: see {@link ValidatorOptions.checkedBefore}. */
export interface CheckedBefore {
  /** How many records. */
  count: number
  /**
   * Their ids, in batches of one entity type: each id's 64-bit hash (`hash64` of
   * lib/id-index.ts) and the line it was on. Empty when no record can follow.
   */
  ids: Iterable<CheckedIds>
}

/** A batch of {@link CheckedBefore.ids}: entries 0 to count − 1 of the three arrays. */
export interface CheckedIds {
  type: EntityType
  file: string | undefined
  hi: Uint32Array
  lo: Uint32Array
  line: Uint32Array
  count: number
}

/** {@link ValidatorOptions} with every default filled in. */
export type ValidatorSettings = Readonly<{
  report: Report
  forCsv: boolean
  references: boolean
  unknownFields: boolean
  expectedIds: number
  emptyIsError: boolean
}>

/** The validator's options, normalised once: a frozen copy, defaults filled in. */
export function validatorSettings(options: ValidatorOptions): ValidatorSettings {
  return Object.freeze({
    report: options.report,
    // the CSV naming rules only matter when the output is CSV
    forCsv: options.forCsv ?? false,
    // off only for callers that check one record at a time, with no stream to look across
    references: options.references ?? true,
    unknownFields: options.unknownFields ?? true,
    // sizes the id index up front; it grows (doubling) past this
    expectedIds: options.expectedIds ?? 40_000,
    emptyIsError: options.emptyIsError ?? false,
  })
}

const TYPE_CODE: Record<string, number> = Object.fromEntries(ENTITY_TYPES.map((t, i) => [t, i + 1]))
const bit = (t: EntityType): number => 1 << TYPE_CODE[t]!
const ANY_TYPE = 0xffff
/** Which entity types a parent may have, per child type code (index 0: invalid type). */
const PARENT_TYPES: readonly number[] = [
  ANY_TYPE,
  ...ENTITY_TYPES.map((t) =>
    t === 'column'
      ? bit('table') | bit('column')
      : t === 'chart'
        ? bit('dashboard')
        : t === 'dashboard'
          ? bit('dashboard_group')
          : ANY_TYPE,
  ),
]
const TABLE = TYPE_CODE.table!
const COLUMN = TYPE_CODE.column!
const DASHBOARD = TYPE_CODE.dashboard!
const CHART = TYPE_CODE.chart!
/** Value kinds of resource fields (entity_type is checked against its enum apart). */
const ENUM = 0
const STRING = 1
const BOOLEAN = 2
const INTEGER = 3
const DATETIME = 4
const UNKNOWN = 5
/** The value kind of each resource field. */
const FIELD_KIND: Record<string, number> = Object.assign(
  Object.create(null) as Record<string, number>,
  Object.fromEntries(
    RESOURCE_FIELDS.map((f) => [
      f,
      f === 'entity_type'
        ? ENUM
        : f === 'is_pk' || f === 'hidden'
          ? BOOLEAN
          : f === 'sort_order'
            ? INTEGER
            : f === 'external_updated_at'
              ? DATETIME
              : STRING,
    ]),
  ),
)

/**
 * The keys a record of some entity type was last seen with, in for-in order, and the kind
 * of each. A source emits records of one shape per type (the same keys in the same order),
 * so comparing each key to the remembered one (a pointer comparison of internalized
 * strings) replaces a dictionary lookup per key; on the first key that differs the
 * validator looks the rest up and remembers the new sequence.
 */
interface Shape {
  keys: string[]
  kinds: number[]
}
const NO_SHAPE: Shape = { keys: [], kinds: [] }
const KNOWN_EDGE_FIELDS = new Set(['from_identifier', 'to_identifier'])
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/
/** Dangling references whose id text is kept for the message (the rest are reported by line). */
const KEEP_REF_TEXT = 10_000

function describeMask(mask: number): string {
  return ENTITY_TYPES.filter((t) => mask & bit(t)).join(' or ')
}

/**
 * The stream-free core (lib/stream.ts protocol): {@link Validator.push} checks a record and
 * passes it on when it added no error, {@link Validator.end} completes the reference checks
 * and throws VALIDATION_FAILED if anything was wrong. {@link Validator.check} and
 * {@link Validator.finish} are the same checks without passing records on; problems go to
 * the report.
 */
export class Validator implements StageCore<SecodaRecord, SecodaRecord> {
  readonly mode = RECORDS_TO_RECORDS
  /** recordsIn: records checked (with those handed over, see checkedBefore); recordsOut: passed on. */
  readonly info: StageInfo = stageInfo()
  readonly options: ValidatorSettings
  private readonly report: Report
  private readonly ids: IdIndex
  private readonly pending = new PendingRefs()
  private readonly pendingText = new Map<number, string>()
  private readonly files = new Map<string, number>()
  private readonly fileNames: string[] = ['']
  private readonly h: Hash64 = { hi: 0, lo: 0 }
  /** Set by checkEdge: the edge just checked joins two columns (for the summary's count). */
  private columnEdge = false
  /** The last reference target found in the index, and its type (see reference()). */
  private lastParent: string | undefined
  private lastParentType = 0
  /** The id the last record added to the index (not a duplicate), and its type. */
  private lastAdded: string | undefined
  private lastAddedType = 0
  /** The last file name seen and its index (see fileIndex()). */
  private lastFile: string | undefined
  private lastFileIdx = 0
  /** The last valid entity_type value seen and its code. */
  private lastType: unknown = undefined
  private lastTypeCode = 0
  /** Per entity type code (0: invalid type), the last key sequence seen (see Shape). */
  private readonly shapes: Shape[] = Array.from({ length: ENTITY_TYPES.length + 1 }, () => NO_SHAPE)

  constructor(options: ValidatorOptions) {
    this.options = validatorSettings(options)
    this.report = this.options.report
    this.ids = new IdIndex(Math.ceil(this.options.expectedIds / 0.7) + 1)
    if (options.checkedBefore !== undefined) {
      this.info.recordsIn = options.checkedBefore.count
      if (this.options.references) for (const batch of options.checkedBefore.ids) this.addIds(batch)
    }
  }

  /** Check a record and pass it on unless it added an error (the run fails anyway, and
   * writers downstream may rely on what validation guarantees). */
  push(r: SecodaRecord, emit: Emit<SecodaRecord>): void {
    const before = this.report.errors
    this.check(r)
    if (this.report.errors === before) {
      this.info.recordsOut++
      emit(r)
    }
  }

  /** End of input: {@link finish}, then fail if the report holds any error. */
  end(_emit: Emit<SecodaRecord>): undefined {
    this.finish()
    this.report.throwIfFailed()
    return undefined
  }

  /** Bytes held by the id index (for benchmarks). */
  get indexBytes(): number {
    return this.ids.byteLength
  }

  /** Check one record. Throws (via the report) once the error limit is reached. */
  check(r: SecodaRecord): void {
    this.info.recordsIn++
    if (typeof r !== 'object' || r === null) return
    const file = sourceFile(r)
    const line = sourceLine(r)
    if (isLineage(r) || (r as Partial<LineageEdge>).to_identifier !== undefined) this.checkEdge(r as LineageEdge, file, line)
    else this.checkResource(r as Resource, file, line)
    this.report.countRecord(r, this.columnEdge)
    this.columnEdge = false
  }

  private pos(file: string | undefined, line: number | undefined, path?: string, databuilderId?: string): Position {
    const p: Position = {}
    if (file !== undefined) p.file = file
    if (line !== undefined) p.line = line
    if (path !== undefined) p.path = path
    if (databuilderId !== undefined) p.databuilderId = databuilderId
    return p
  }

  private checkResource(r: Resource, file: string | undefined, line: number | undefined): void {
    const report = this.report
    const id = typeof r.databuilder_id === 'string' ? r.databuilder_id : undefined
    const type = r.entity_type
    // the last entity type seen is remembered: consecutive records mostly share it, and a
    // comparison of the same string is cheaper than a lookup by a varying key
    let typeCode: number
    if (type === this.lastType) typeCode = this.lastTypeCode
    else {
      typeCode = (ENTITY_TYPES as readonly unknown[]).indexOf(type) + 1
      if (typeCode !== 0) {
        this.lastType = type
        this.lastTypeCode = typeCode
      }
    }
    if (typeCode === 0)
      report.error(
        'FIELD_ENUM',
        `entity_type must be one of ${ENTITY_TYPES.join(', ')}, got ${JSON.stringify(type)}`,
        this.pos(file, line, 'entity_type', id),
      )
    if (id === undefined || id === '')
      report.error(
        'FIELD_REQUIRED',
        'databuilder_id is required and must be a non-empty string',
        this.pos(file, line, 'databuilder_id', id),
      )
    // one pass over the keys the record has (usually 6-9), each compared with the key at the
    // same place in the last record of this type (see Shape)
    const obj = r as unknown as Record<string, unknown>
    const shape = this.shapes[typeCode]!
    let keys = shape.keys
    let kinds = shape.kinds
    let learning = false
    let i = 0
    for (const k in obj) {
      let kind: number
      if (k === keys[i]) kind = kinds[i]!
      else {
        if (!learning) {
          keys = keys.slice(0, i)
          kinds = kinds.slice(0, i)
          learning = true
        }
        kind = FIELD_KIND[k] ?? UNKNOWN
        keys.push(k)
        kinds.push(kind)
      }
      i++
      const v = obj[k]
      if (v === undefined || v === null) continue
      if (kind === STRING) {
        if (typeof v !== 'string') report.error('FIELD_TYPE', `${k} must be a string, got ${typeof v}`, this.pos(file, line, k, id))
        // a NUL ends the name in C-based tools and databases: it is never part of one
        else if (k !== 'description' && k !== 'definition' && v.includes('\u0000'))
          report.error('FIELD_TYPE', `${k} holds a NUL character (U+0000), which no name or id may`, this.pos(file, line, k, id))
      } else if (kind === BOOLEAN) {
        if (typeof v !== 'boolean')
          report.error('FIELD_TYPE', `${k} must be true or false, got ${JSON.stringify(v)}`, this.pos(file, line, k, id))
      } else if (kind === INTEGER) {
        if (!Number.isInteger(v))
          report.error('FIELD_TYPE', `${k} must be an integer, got ${JSON.stringify(v)}`, this.pos(file, line, k, id))
      } else if (kind === DATETIME) {
        if (typeof v !== 'string') report.error('FIELD_TYPE', `${k} must be a string, got ${typeof v}`, this.pos(file, line, k, id))
        else if (!ISO_WITH_OFFSET.test(v))
          report.error(
            'FIELD_TYPE',
            `external_updated_at must be an ISO 8601 datetime with offset (2000-10-31T01:30:00.000-05:00), got ${JSON.stringify(v)}`,
            this.pos(file, line, k, id),
          )
      } else if (kind === UNKNOWN && this.options.unknownFields) {
        report.warn(
          'FIELD_UNKNOWN',
          `field ${JSON.stringify(k)} is not a Secoda resource field; it is dropped`,
          this.pos(file, line, k, id),
        )
      }
    }
    if (learning || i !== keys.length)
      this.shapes[typeCode] = { keys: learning ? keys : keys.slice(0, i), kinds: learning ? kinds : kinds.slice(0, i) }
    const parent = typeof r.parent_databuilder_id === 'string' && r.parent_databuilder_id !== '' ? r.parent_databuilder_id : undefined
    if (typeCode !== 0) {
      // the fields each type requires beyond entity_type and databuilder_id, in this order
      if (typeCode === TABLE) {
        this.required(r.database, 'database', type, file, line, id)
        this.required(r.schema, 'schema', type, file, line, id)
      } else if (typeCode === COLUMN) {
        this.required(r.parent_databuilder_id, 'parent_databuilder_id', type, file, line, id)
      } else if (typeCode === DASHBOARD) {
        this.required(r.group, 'group', type, file, line, id)
      } else if (typeCode === CHART) {
        this.required(r.parent_databuilder_id, 'parent_databuilder_id', type, file, line, id)
        this.required(r.product, 'product', type, file, line, id)
      }
      if (this.options.forCsv) {
        if (typeCode === TABLE) {
          this.csvName(r.database, 'database name', 'database', file, line, id)
          this.csvName(r.schema, 'schema name', 'schema', file, line, id)
          this.csvName(r.title, 'table name', 'title', file, line, id)
        } else if (typeCode === COLUMN) this.csvName(r.title, 'column name', 'title', file, line, id)
      }
    }
    if (!this.options.references || id === undefined || id === '') return
    const fileIdx = this.fileIndex(file)
    const prev = this.ids.add(hash64(id, this.h), typeCode, fileIdx, line ?? 0)
    if (prev !== -1) {
      const first = this.ids.entryAt(prev)
      const where =
        first.line > 0 ? ` (first at ${this.fileNames[first.file] ? this.fileNames[first.file] + ':' : 'line '}${first.line})` : ''
      report.error('ID_DUPLICATE', `duplicate databuilder_id ${JSON.stringify(id)}${where}`, this.pos(file, line, 'databuilder_id', id))
    }
    if (parent !== undefined) this.reference(parent, PARENT_TYPES[typeCode]!, 0, fileIdx, file, line, id)
    // remembered after the reference check, which wants the id added before this record
    if (prev === -1) {
      this.lastAdded = id
      this.lastAddedType = typeCode
    }
  }

  private required(
    v: unknown,
    field: string,
    type: string,
    file: string | undefined,
    line: number | undefined,
    id: string | undefined,
  ): void {
    if (v === undefined || v === null || v === '')
      this.report.error('FIELD_REQUIRED', `${field} is required for a ${type}`, this.pos(file, line, field, id))
  }

  /** CSV rule: the Secoda CSV format has no quoting for periods in names. */
  private csvName(
    v: unknown,
    what: string,
    field: string,
    file: string | undefined,
    line: number | undefined,
    id: string | undefined,
  ): void {
    if (typeof v === 'string' && v.includes('.')) {
      this.report.error(
        'CSV_NAME_PERIOD',
        `${what} ${JSON.stringify(v)} contains a period, which the Secoda CSV format forbids (write JSONL instead)`,
        this.pos(file, line, field, id),
      )
    }
  }

  private reference(
    target: string,
    mask: number,
    kind: number,
    fileIdx: number,
    file: string | undefined,
    line: number | undefined,
    from: string | undefined,
  ): void {
    // the columns of a table name the same parent one after another: once that parent is in
    // the index its type cannot change, so its lookup is reused instead of hashed again
    if (target === this.lastParent) {
      const t = this.lastParentType
      if (kind === 0 && mask !== ANY_TYPE && t !== 0 && (mask & (1 << t)) === 0)
        this.checkParentType(t, mask, target, this.pos(file, line, 'parent_databuilder_id', from))
      return
    }
    // a table's first column names the id added just before it: known without a lookup
    if (target === this.lastAdded) {
      this.lastParent = target
      this.lastParentType = this.lastAddedType
      if (kind === 0) this.checkParentType(this.lastAddedType, mask, target, this.pos(file, line, 'parent_databuilder_id', from))
      return
    }
    const h = hash64(target, this.h)
    const slot = this.ids.find(h)
    if (slot !== -1) {
      this.lastParent = target
      this.lastParentType = this.ids.typeAt(slot)
    }
    if (slot === -1) {
      if (this.pending.size < KEEP_REF_TEXT) this.pendingText.set(this.pending.size, target)
      this.pending.push(h, mask, kind, fileIdx, line ?? 0, this.info.recordsIn)
      return
    }
    if (kind === 0) this.checkParentType(this.ids.typeAt(slot), mask, target, this.pos(file, line, 'parent_databuilder_id', from))
  }

  private checkParentType(typeCode: number, mask: number, target: string | undefined, pos: Position): void {
    if (mask === ANY_TYPE || typeCode === 0 || (mask & (1 << typeCode)) !== 0) return
    const got = ENTITY_TYPES[typeCode - 1]
    this.report.error(
      'PARENT_TYPE',
      `parent ${target === undefined ? '' : JSON.stringify(target) + ' '}is a ${got}, expected a ${describeMask(mask)}`,
      pos,
    )
  }

  private checkEdge(e: LineageEdge, file: string | undefined, line: number | undefined): void {
    const report = this.report
    const ends = ['from_identifier', 'to_identifier'] as const
    let internal = 0
    let external = 0
    let columnEnds = 0
    let valid = true
    for (const end of ends) {
      const id = e[end] as unknown as Record<string, unknown> | undefined
      const at = (f?: string): Position => this.pos(file, line, f === undefined ? end : `${end}.${f}`)
      if (typeof id !== 'object' || id === null || Array.isArray(id)) {
        report.error(id === undefined ? 'FIELD_REQUIRED' : 'FIELD_TYPE', `${end} must be an object with a type`, at())
        valid = false
        continue
      }
      const type = id.type
      if (typeof type !== 'string' || !(LINEAGE_ID_TYPES as readonly string[]).includes(type)) {
        report.error('FIELD_ENUM', `${end}.type must be one of ${LINEAGE_ID_TYPES.join(', ')}, got ${JSON.stringify(type)}`, at('type'))
        valid = false
        continue
      }
      const str = (f: string, required: boolean): boolean => {
        const v = id[f]
        if (v === undefined || v === null || v === '') {
          if (required) {
            report.error('FIELD_REQUIRED', `${end}.${f} is required for ${type}`, at(f))
            valid = false
          }
          return false
        }
        if (typeof v !== 'string') {
          report.error('FIELD_TYPE', `${end}.${f} must be a string, got ${typeof v}`, at(f))
          valid = false
          return false
        }
        return true
      }
      if (type === 'internal_resource') {
        internal++
        if (str('databuilder_id', true) && this.options.references) {
          this.reference(id.databuilder_id as string, ANY_TYPE, 1, this.fileIndex(file), file, line, undefined)
          // reference() leaves a target it found in lastParent (ids not seen yet stay unknown)
          if (this.lastParent === id.databuilder_id && this.lastParentType === COLUMN) columnEnds++
        }
      } else if (type === 'tables_from_query') {
        str('sql', true)
        if (end === 'to_identifier') {
          report.error('LINEAGE_QUERY_TARGET', 'tables_from_query may only be used as from_identifier', at('type'))
          valid = false
        }
      } else {
        external++
        str('table', true)
        if (type === 'external_column' && str('column', true)) columnEnds++
        const missing = ['cluster', 'database', 'schema'].filter((f) => !str(f, false))
        if (missing.length > 0)
          report.warn('LINEAGE_EXTERNAL_PARTIAL', `${end} (${type}) has no ${missing.join(', ')}: Secoda may not find the table`, at())
      }
    }
    if (!valid) return
    this.columnEdge = columnEnds === 2
    if (internal === 0) {
      if (external === 2 && e.from_identifier.type === 'external_table' && e.to_identifier.type === 'external_table')
        report.warn('LINEAGE_EXTERNAL_ONLY', 'edge joins two external tables and no resource of this integration', this.pos(file, line))
      else
        report.error(
          'LINEAGE_NO_INTERNAL',
          'edge has no internal_resource end: at least one end must be a resource of this integration',
          this.pos(file, line),
        )
    }
    if (this.options.unknownFields) {
      for (const k in e) {
        if (!KNOWN_EDGE_FIELDS.has(k))
          report.warn('FIELD_UNKNOWN', `field ${JSON.stringify(k)} is not a lineage field; it is dropped`, this.pos(file, line, k))
      }
    }
  }

  private fileIndex(file: string | undefined): number {
    if (file === undefined) return 0
    if (file === this.lastFile) return this.lastFileIdx
    let i = this.files.get(file)
    if (i === undefined) {
      i = this.fileNames.length < 255 ? this.fileNames.length : 0
      if (i !== 0) {
        this.files.set(file, i)
        this.fileNames.push(file)
      }
    }
    this.lastFile = file
    this.lastFileIdx = i
    return i
  }

  /** Ids checked before this validator (see {@link ValidatorOptions.checkedBefore}) into the index. */
  private addIds(batch: CheckedIds): void {
    const code = TYPE_CODE[batch.type]!
    const fileIdx = this.fileIndex(batch.file)
    const { hi, lo, line } = batch
    const h = this.h
    for (let i = 0; i < batch.count; i++) {
      h.hi = hi[i]!
      h.lo = lo[i]!
      this.ids.add(h, code, fileIdx, line[i]!)
    }
  }

  /** End-of-stream checks: references that named ids not seen yet. Throws via the report. */
  finish(): void {
    if (this.info.recordsIn === 0 && this.options.emptyIsError)
      this.report.error('INPUT_EMPTY', 'the input is not empty but produced no records (nothing this command converts was found in it)')
    else if (this.info.recordsIn === 0) this.report.warn('INPUT_EMPTY', 'the input holds no records')
    let n = 0
    this.pending.forEach((h, mask, kind, fileIdx, line) => {
      const i = n++
      const slot = this.ids.find(h)
      const text = this.pendingText.get(i)
      const pos: Position = {}
      if (fileIdx !== 0) pos.file = this.fileNames[fileIdx]
      if (line !== 0) pos.line = line
      pos.path = kind === 0 ? 'parent_databuilder_id' : 'databuilder_id'
      if (slot === -1) {
        const what = text === undefined ? 'an id' : JSON.stringify(text)
        if (kind === 0) this.report.error('PARENT_MISSING', `parent_databuilder_id ${what} names no resource in the input`, pos)
        else this.report.error('LINEAGE_MISSING', `internal_resource ${what} names no resource in the input`, pos)
      } else if (kind === 0) {
        this.checkParentType(this.ids.typeAt(slot), mask, text, pos)
      }
    })
  }
}

/**
 * A Transform (objects in, the same objects out) that validates Secoda records. At end of
 * stream it completes the reference checks and fails the stream if the report holds any
 * error, so downstream writers never finish on invalid input.
 */
export function createValidator(options: ValidatorOptions): StageStream<Validator> {
  return asStream(new Validator(options))
}
