// dbt catalog.json bytes → a compact index (unique_id → relation type, comment, columns)
// that the manifest converter joins on. The catalog is read with the same byte scanner as
// the manifest and only what the join needs is kept: no stats, no owner, no raw objects.

import { SecodaError } from '../../lib/errors.js'
import type { Report } from '../../lib/report.js'
import { BYTES_TO_RECORDS, type Emit, type StageCore, type StageInfo, iterateStage, stageInfo } from '../../lib/stream.js'
import { JsonSectionScanner, jsonErrorPosition, type ScanPosition, type SectionMode } from '../../lib/scan/json-sections.js'

/** One catalog entry, compacted: parallel column arrays in catalog order. */
export interface CatalogTable {
  /** Relation type as the warehouse reports it (`BASE TABLE`, `VIEW`, ...). */
  type?: string
  /** Table comment. */
  comment?: string
  /** database, schema and name as the catalog gives them (column lineage finds relations by name). */
  relation?: [string | undefined, string, string]
  /** Column names as in the warehouse (may differ in case from the manifest). */
  names: string[]
  types: (string | undefined)[]
  indexes: (number | undefined)[]
  comments: (string | undefined)[]
}

/** The catalog index: entries of `nodes` and `sources`, keyed by unique_id. */
export class DbtCatalog {
  readonly tables = new Map<string, CatalogTable>()
  /** metadata.dbt_schema_version's version, e.g. `v1`. */
  schemaVersion?: string
  /** Catalog entries the manifest converter matched (to count the unmatched ones). */
  readonly matched = new Set<string>()

  /** Look up an entry and remember that it was used. */
  take(uniqueId: string): CatalogTable | undefined {
    const t = this.tables.get(uniqueId)
    if (t !== undefined) this.matched.add(uniqueId)
    return t
  }

  /** Number of entries no manifest node matched. */
  get unmatched(): number {
    return this.tables.size - this.matched.size
  }
}

/** Options of {@link DbtCatalogReader}. */
export interface DbtCatalogOptions {
  report: Report
  /** File name for positions. */
  file?: string
}

/** {@link DbtCatalogOptions} with every default filled in. */
export type DbtCatalogSettings = Readonly<{ report: Report; file: string | undefined }>

/** The reader's options, normalised once: a frozen copy. */
export function dbtCatalogSettings(options: DbtCatalogOptions): DbtCatalogSettings {
  return Object.freeze({ report: options.report, file: options.file })
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined

/** Compact one catalog entry (exported for tests). */
export function compactCatalogEntry(entry: Record<string, unknown>): CatalogTable {
  const meta = obj(entry['metadata']) ?? {}
  const t: CatalogTable = { names: [], types: [], indexes: [], comments: [] }
  const type = str(meta['type'])
  if (type !== undefined) t.type = type
  const comment = str(meta['comment'])
  if (comment !== undefined && comment !== '') t.comment = comment
  const schema = str(meta['schema'])
  const name = str(meta['name'])
  if (schema !== undefined && name !== undefined) t.relation = [str(meta['database']), schema, name]
  const cols = obj(entry['columns']) ?? {}
  for (const [key, c] of Object.entries(cols)) {
    const col = obj(c) ?? {}
    t.names.push(str(col['name']) ?? key)
    t.types.push(str(col['type']))
    const idx = col['index']
    t.indexes.push(typeof idx === 'number' && Number.isInteger(idx) ? idx : undefined)
    const cc = str(col['comment'])
    t.comments.push(cc === '' ? undefined : cc)
  }
  return t
}

/**
 * The stream-free catalog reader (lib/stream.ts protocol): {@link push} bytes, then
 * {@link end} emits the one finished index (also on `catalog`). A file that is not a
 * catalog (a manifest given as catalog) throws DBT_WRONG_ARTIFACT.
 */
export class DbtCatalogReader implements StageCore<Uint8Array, DbtCatalog> {
  readonly mode = BYTES_TO_RECORDS
  /** bytesIn: catalog bytes read; entries: entries indexed; recordsOut: 1 once the index is out. */
  readonly info: StageInfo & { entries: number } = stageInfo({ entries: 0 })
  readonly options: DbtCatalogSettings
  readonly catalog = new DbtCatalog()
  private readonly scanner: JsonSectionScanner
  private readonly report: Report
  private readonly file: string | undefined
  private sawEntries = false

  constructor(options: DbtCatalogOptions) {
    this.options = dbtCatalogSettings(options)
    this.report = this.options.report
    this.file = this.options.file
    this.scanner = new JsonSectionScanner(
      {
        section: (name) => this.section(name),
        value: (_name, text, pos) => this.metadata(text, pos),
        wantEntry: () => true,
        entry: (_section, key, text, pos) => this.entry(key, text, pos),
      },
      { ...(this.file !== undefined ? { file: this.file } : {}), what: 'dbt catalog' },
    )
  }

  /** Scan one chunk (nothing is emitted before the end). */
  push(chunk: Uint8Array, _emit: Emit<DbtCatalog>): void {
    this.info.bytesIn += chunk.length
    this.scanner.push(chunk)
  }

  /** End of input: emits the finished index. */
  end(emit: Emit<DbtCatalog>): undefined {
    this.scanner.end()
    if (!this.sawEntries) throw this.wrong('no "nodes" or "sources" section', { offset: 0, line: 1 })
    this.info.recordsOut++
    emit(this.catalog)
    return undefined
  }

  private section(name: string): SectionMode {
    if (name === 'metadata') return 'whole'
    if (name === 'nodes' || name === 'sources') {
      this.sawEntries = true
      return 'entries'
    }
    return 'skip'
  }

  private metadata(text: string, pos: ScanPosition): void {
    let m: unknown
    try {
      m = JSON.parse(text)
    } catch (e) {
      throw new SecodaError('DBT_JSON', `invalid JSON in dbt catalog metadata: ${(e as Error).message}`, this.at(pos, e))
    }
    const v = str(obj(m)?.['dbt_schema_version'])
    const match = v === undefined ? null : /\/dbt\/([a-z-]+)\/(v\d+)\.json$/.exec(v)
    if (match !== null && match[1] !== 'catalog') throw this.wrong(`it is a dbt ${match[1]} (${v}), not a catalog`, pos)
    if (match === null) {
      this.report.warn(
        'DBT_SCHEMA_VERSION',
        `dbt catalog: ${v === undefined ? 'no metadata.dbt_schema_version' : `unknown schema version ${JSON.stringify(v)}`}; reading it as catalog v1`,
        this.at(pos),
      )
    } else this.catalog.schemaVersion = match[2]!
  }

  private entry(key: string, text: string, pos: ScanPosition): void {
    let e: unknown
    try {
      e = JSON.parse(text)
    } catch (err) {
      this.report.error('DBT_BAD_NODE', `catalog entry ${key}: invalid JSON: ${(err as Error).message}`, {
        ...this.at(jsonErrorPosition(text, err, pos)),
        path: `catalog.${key}`,
      })
      return
    }
    const o = obj(e)
    if (o === undefined) {
      this.report.error('DBT_BAD_NODE', `catalog entry ${key}: not an object`, this.at(pos))
      return
    }
    this.catalog.tables.set(str(o['unique_id']) ?? key, compactCatalogEntry(o))
    this.info.entries = this.catalog.tables.size
  }

  private wrong(msg: string, pos: ScanPosition): SecodaError {
    return new SecodaError('DBT_WRONG_ARTIFACT', `not a dbt catalog: ${msg}`, this.at(pos))
  }

  private at(pos: ScanPosition, cause?: unknown): { file?: string; line: number; offset: number; cause?: unknown } {
    return {
      ...(this.file !== undefined ? { file: this.file } : {}),
      line: pos.line,
      offset: pos.offset,
      ...(cause !== undefined ? { cause } : {}),
    }
  }
}

/** Read a whole catalog from a byte stream (file stream, stdin) into its index. */
export async function readDbtCatalog(source: AsyncIterable<Uint8Array>, options: DbtCatalogOptions): Promise<DbtCatalog> {
  const reader = new DbtCatalogReader(options)
  for await (const _ of iterateStage(reader, source)) {
    // the one index, emitted at the end, is reader.catalog
  }
  return reader.catalog
}
