// dbt manifest.json bytes (schema v1–v12, optionally joined with a catalog) → Secoda table,
// column and dashboard resources and internal lineage edges, streamed in one pass.
//
// Why one pass and this order: the byte scanner (json-sections.ts) hands over one node at a
// time, and a node is dropped once converted. Models and snapshots — the nodes with SQL, so
// nearly all of the bytes that produce output — are emitted as they arrive. A source often
// names the relation a seed builds, and the two must become ONE table (docs/dbt.md), so seeds are
// held, converted and without SQL, until the `sources` section has been read, and each
// source is emitted as it arrives, merged with the seeds it matches (in dbt's key order
// `sources` follows `nodes`; in another order sources are held until `nodes` is done). What
// the run keeps besides that is a compact summary per node (unique_id → relation id, the
// unique_ids it depends on, ephemeral models' dependencies, hashes of emitted column names),
// from which lineage is emitted at the end, with ephemeral models passed through and
// self-edges of merged relations dropped. A later node naming a relation already emitted
// (a source reading a model's table, a second source for one table) adds the columns it
// lacked; its description is then not merged. A second pass over a seekable file would
// avoid that case, but would read (and for stdin or gzip, buffer) the whole input twice.

import { SecodaError } from '../../lib/errors.js'
import { createIdBuilder, type IdBuilder } from '../../lib/ids.js'
import { internalId, withSource, type LineageEdge, type Resource, type SecodaRecord } from '../../lib/records.js'
import type { Report } from '../../lib/report.js'
import { BYTES_TO_RECORDS, type Emit, type StageCore, type StageInfo, type StageStream, asStream, stageInfo } from '../../lib/stream.js'
import type { CatalogTable, DbtCatalog } from './catalog.js'
import { type ColumnLineageOptions, DbtColumnLineage } from './column-lineage.js'
import {
  JsonSectionScanner,
  jsonErrorPosition,
  type EntryFields,
  type LazyMembers,
  type ScanPosition,
  type SectionMode,
} from '../../lib/scan/json-sections.js'

/** Options of the manifest converter. */
export interface DbtManifestOptions {
  /** Diagnostics, counters (`dbt.skipped.<kind>`, ...) and notes (`dbt.schema_version`). */
  report: Report
  /** Id builder (default: lower case, no prefix). */
  ids?: IdBuilder
  /** Catalog index to join (see transforms/dbt/catalog.ts). */
  catalog?: DbtCatalog
  /** File name for diagnostics and record positions. */
  file?: string
  /**
   * Column → column lineage from each model's compiled SQL (docs/dbt.md, "Column lineage");
   * `await loadSqlParser()` first.
   */
  columnLineage?: ColumnLineageOptions
}

/** {@link DbtManifestOptions} with every default filled in. */
export type DbtManifestSettings = Readonly<{ report: Report; ids: IdBuilder; catalog: DbtCatalog | undefined; file: string | undefined }>

/** The converter's options, normalised once: a frozen copy, defaults filled in. */
export function dbtManifestSettings(options: DbtManifestOptions): DbtManifestSettings {
  return Object.freeze({
    report: options.report,
    // lower-case ids, no prefix: what --id-prefix/--keep-case change
    ids: options.ids ?? createIdBuilder(),
    // without a catalog, columns come from the manifest's documented ones only
    catalog: options.catalog,
    file: options.file,
  })
}

/** Newest manifest schema version this converter knows. */
export const DBT_MANIFEST_MAX_VERSION = 12

/** Node kinds (unique_id prefixes) in `nodes` that become tables. */
const TABLE_KINDS = new Set(['model', 'seed', 'snapshot'])
/** Top-level sections passed over whose entries are counted, and the kind they count as. */
const COUNTED_SECTIONS: Record<string, string> = {
  macros: 'macro',
  docs: 'doc',
  disabled: 'disabled',
  metrics: 'metric',
  semantic_models: 'semantic_model',
  saved_queries: 'saved_query',
  unit_tests: 'unit_test',
  functions: 'function',
  groups: 'group',
}
/** Top-level keys that mark another dbt artifact that has no dbt_schema_version first. */
const OTHER_ARTIFACT_KEYS: Record<string, string> = {
  project_configuration: 'semantic_manifest.json',
  results: 'run_results.json',
  elapsed_time: 'run_results.json',
}

/**
 * Node members never used, left out before JSON.parse (see JsonSectionHandler.fields), and
 * the SQL members, decoded only for the one that becomes the definition. Together about a
 * third of a model node's bytes in dbt 1.x manifests.
 */
const NODE_FIELDS: EntryFields = {
  drop: new Set([
    'unrendered_config',
    'fqn',
    'checksum',
    'refs',
    'sources',
    'metrics',
    'functions',
    'tags',
    'meta',
    'docs',
    'patch_path',
    'build_path',
    'path',
    'original_file_path',
    'created_at',
    'relation_name',
    'extra_ctes',
    'extra_ctes_injected',
    'compiled_path',
    'contract',
    'doc_blocks',
    'group',
    'access',
    'language',
    'version',
    'latest_version',
    'deprecation_date',
    'time_spine',
    'config_call_dict',
    'unrendered_config_call_dict',
    'freshness',
    'quoting',
    'external',
    'loaded_at_field',
    'loaded_at_query',
    'source_meta',
    'loader',
    'source_description',
  ]),
  lazy: new Set(['raw_code', 'raw_sql', 'compiled_code', 'compiled_sql']),
}

type Json = Record<string, unknown>
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined)
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
/**
 * A name written already quoted in the project (`schema: '"ALEO"'`, to force its case in
 * Snowflake; `` `x` `` in BigQuery/Databricks) is the warehouse's name without the quotes,
 * as every other source sees it.
 */
export function unquoteName(v: string | undefined): string | undefined {
  if (v === undefined || v.length < 3) return v
  const q = v[0]
  if (q === '"' && v.endsWith('"')) return v.slice(1, -1).replace(/""/g, '"')
  if (q === '`' && v.endsWith('`')) return v.slice(1, -1).replace(/``/g, '`')
  if (q === '[' && v.endsWith(']')) return v.slice(1, -1).replace(/\]\]/g, ']')
  return v
}

/** A column of a table being built. */
interface ColumnPart {
  name: string
  description?: string | undefined
  type?: string | undefined
  sortOrder?: number | undefined
  isPk: boolean
}

/** A table being built from one node (before merging with other nodes of the same relation). */
interface TablePart {
  uid: string
  kind: string
  relId: string
  database: string
  schema: string
  title: string
  description: string | undefined
  definition: string | undefined
  nativeType: string
  columns: ColumnPart[]
  line: number
}

/**
 * A flat copy of a string. Ids are built by concatenation, which V8 keeps as a tree of
 * pieces (~250 bytes for a table id); the ids kept for lineage are flattened to ~50.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string
}

/** FNV-1a hash of a lower-cased column name, as two UTF-16 units. */
function nameHash(name: string): string {
  const l = name.toLowerCase()
  let h = 0x811c9dc5
  for (let i = 0; i < l.length; i++) h = Math.imul(h ^ l.charCodeAt(i), 0x01000193)
  return String.fromCharCode(h >>> 16, h & 0xffff)
}

function hasHash(all: string, h: string): boolean {
  for (let i = all.indexOf(h); i >= 0; i = all.indexOf(h, i + 1)) if ((i & 1) === 0) return true
  return false
}

/** The catalog's relation type as a native_type. */
function relationType(t: string | undefined): string | undefined {
  if (t === undefined) return undefined
  const l = t.toLowerCase()
  return l === 'base table' || l === 'table' ? 'table' : l
}

/** Markdown definition: the description, then the SQL in a fence longer than any run of backticks in it. */
function definitionOf(description: string | undefined, sql: string | undefined): string | undefined {
  if (sql === undefined || sql.trim() === '') return undefined
  let fence = '```'
  while (sql.includes(fence)) fence += '`'
  return (description !== undefined ? description.trim() + '\n\n' : '') + fence + 'sql\n' + sql.trimEnd() + '\n' + fence
}

/** Unique non-empty texts joined by a blank line. */
function joinTexts(texts: (string | undefined)[]): string | undefined {
  const seen: string[] = []
  for (const t of texts) if (t !== undefined && !seen.includes(t.trim())) seen.push(t.trim())
  return seen.length === 0 ? undefined : seen.join('\n\n')
}

/** Lower-cased primary-key column names from model constraints, `primary_key` and column constraints. */
function primaryKeys(node: Json): Set<string> {
  const pk = new Set<string>()
  for (const c of arr(node['constraints'])) {
    const co = obj(c)
    if (co?.['type'] === 'primary_key') for (const name of arr(co['columns'])) if (typeof name === 'string') pk.add(name.toLowerCase())
  }
  for (const name of arr(node['primary_key'])) if (typeof name === 'string') pk.add(name.toLowerCase())
  return pk
}

/**
 * Columns: the union of the catalog's (warehouse order, type, comment) and the manifest's
 * documented ones (description, data_type), matched case-insensitively. The manifest's
 * spelling of a name wins (it is what the table id is built from); columns only in the
 * manifest keep their documented order when the node has no catalog entry.
 */
function columnsOf(node: Json, cat: CatalogTable | undefined): ColumnPart[] {
  const pk = primaryKeys(node)
  const fromCatalog: ColumnPart[] = []
  const byName = new Map<string, ColumnPart>()
  if (cat !== undefined) {
    for (let i = 0; i < cat.names.length; i++) {
      const c: ColumnPart = {
        name: cat.names[i]!,
        description: cat.comments[i],
        type: cat.types[i],
        sortOrder: cat.indexes[i],
        isPk: false,
      }
      const l = c.name.toLowerCase()
      if (byName.has(l)) continue
      byName.set(l, c)
      fromCatalog.push(c)
    }
    fromCatalog.sort((a, b) => (a.sortOrder ?? Infinity) - (b.sortOrder ?? Infinity))
  }
  const onlyManifest: ColumnPart[] = []
  let position = 0
  for (const [key, value] of Object.entries(obj(node['columns']) ?? {})) {
    const col = obj(value) ?? {}
    const name = text(col['name']) ?? key
    const l = name.toLowerCase()
    position++
    for (const c of arr(col['constraints'])) if (obj(c)?.['type'] === 'primary_key') pk.add(l)
    const description = text(col['description'])
    const dataType = text(col['data_type'])
    const existing = byName.get(l)
    if (existing !== undefined) {
      existing.name = name
      if (description !== undefined) existing.description = description
      if (existing.type === undefined) existing.type = dataType
      continue
    }
    const c: ColumnPart = { name, description, type: dataType, sortOrder: cat === undefined ? position : undefined, isPk: false }
    byName.set(l, c)
    onlyManifest.push(c)
  }
  const all = fromCatalog.concat(onlyManifest)
  for (const c of all) if (pk.has(c.name.toLowerCase())) c.isPk = true
  return all
}

/**
 * The stream-free converter (lib/stream.ts protocol). {@link push} manifest bytes, then
 * {@link end}; records go to `emit` synchronously, and `end` returns the lineage edges as an
 * iterable the stream pulls as its reader wants them (so the ~70k edges of a 1 GB manifest
 * are not all held at once). Structural JSON errors and a file that is not a manifest throw
 * a {@link SecodaError}; a bad node is reported (DBT_BAD_NODE, naming its unique_id) and
 * skipped.
 */
export class DbtManifestConverter implements StageCore<Uint8Array, SecodaRecord> {
  readonly mode = BYTES_TO_RECORDS
  /** bytesIn: manifest bytes scanned; recordsOut: resources and edges given out. */
  readonly info: StageInfo = stageInfo()
  readonly options: DbtManifestSettings
  private readonly report: Report
  private readonly ids: IdBuilder
  private readonly catalog: DbtCatalog | undefined
  private readonly file: string | undefined
  /** Where records go: the emit of the push or end call under way. */
  private emit: Emit<SecodaRecord> = () => {}
  private readonly scanner: JsonSectionScanner
  /**
   * Relation id → the columns already emitted, as 32-bit hashes of their lower-cased names
   * (two UTF-16 units each): 4 bytes a column instead of the names, which on a 1 GB
   * manifest (a million columns) is the difference between ~5 and ~100 MB. It is only read
   * when a later node names an emitted relation; a hash collision there (odds ~1e-7 for a
   * 50-column table) would drop one column of that later node.
   */
  private readonly emitted = new Map<string, string>()
  /** Seeds and sources held (see the header), until the other section is done. */
  private readonly pending = new Map<string, TablePart[]>()
  /** Which of `nodes` and `sources` have been read completely. */
  private readonly done = new Set<string>()
  /** unique_id → relation id of every node that became (part of) a table. */
  private readonly relOf = new Map<string, string>()
  /** Ephemeral model unique_id → the unique_ids it depends on. */
  private readonly ephemeral = new Map<string, string[]>()
  /** Nodes with dependencies: the target id and the unique_ids it reads. */
  private readonly dependents: { to: string; deps: string }[] = []
  private sawNodes = false
  private lastPosition: { file?: string; line: number } | undefined
  private manifestOnly = 0
  /** The first few of them, named in the warning. */
  private readonly manifestOnlyExamples: string[] = []
  private readonly columnLineage: DbtColumnLineage | undefined

  constructor(options: DbtManifestOptions) {
    this.options = dbtManifestSettings(options)
    this.report = this.options.report
    this.ids = this.options.ids
    this.catalog = this.options.catalog
    this.file = this.options.file
    this.columnLineage =
      options.columnLineage === undefined
        ? undefined
        : new DbtColumnLineage(options.columnLineage, this.report, this.ids, this.catalog, (r) => this.out(r))
    this.scanner = new JsonSectionScanner(
      {
        section: (name, pos) => this.section(name, pos),
        value: (_name, t, pos) => this.metadata(t, pos),
        wantEntry: (section, key) => this.wantEntry(section, key),
        entry: (section, key, t, pos, lazy) => this.entry(section, key, t, pos, lazy),
        fields: (section) => (section === 'exposures' ? undefined : NODE_FIELDS),
        sectionEnd: (name, n) => {
          const kind = COUNTED_SECTIONS[name]
          if (kind !== undefined && n > 0) this.report.bump(`dbt.skipped.${kind}`, n)
          if (name === 'nodes' || name === 'sources') {
            this.done.add(name)
            if (this.done.size === 2) this.flushPending()
          }
        },
      },
      { ...(this.file !== undefined ? { file: this.file } : {}), what: 'dbt manifest' },
    )
  }

  /** Emit the held seeds and sources, merged per relation. */
  private flushPending(): void {
    for (const parts of this.pending.values()) this.emitMerged(parts)
    this.pending.clear()
  }

  /** Scan one chunk of the manifest. */
  push(chunk: Uint8Array, emit: Emit<SecodaRecord>): void {
    this.emit = emit
    this.info.bytesIn += chunk.length
    this.scanner.push(chunk)
  }

  /** End of input: emits the held tables; returns the lineage edges (see the class comment). */
  end(emit: Emit<SecodaRecord>): Iterable<LineageEdge> {
    this.emit = emit
    this.endTables()
    return this.lineage()
  }

  private out(r: SecodaRecord): void {
    this.info.recordsOut++
    this.emit(r)
  }

  /** End of input, first half: emits the held tables and reports what is left to report. */
  private endTables(): void {
    this.scanner.end()
    if (!this.sawNodes) {
      throw new SecodaError(
        'DBT_WRONG_ARTIFACT',
        'not a dbt manifest: it has no "nodes" or "sources" section',
        this.at({ offset: 0, line: 1 }),
      )
    }
    this.flushPending()
    this.columnLineage?.end()
    if (this.catalog !== undefined) {
      if (this.manifestOnly > 0) {
        this.report.bump('dbt.catalog.missing', this.manifestOnly)
        this.report.warn(
          'DBT_CATALOG_UNMATCHED',
          `${this.manifestOnly} manifest node${this.manifestOnly === 1 ? ' has' : 's have'} no catalog entry (not built, or catalog older than the manifest): ${this.manifestOnly === 1 ? 'its' : 'their'} columns come from the manifest only (${this.manifestOnlyExamples.join(', ')}${this.manifestOnly > 3 ? ', ...' : ''})`,
          this.at(),
        )
      }
      const unmatched = this.catalog.unmatched
      if (unmatched > 0) {
        const examples: string[] = []
        for (const k of this.catalog.tables.keys()) if (!this.catalog.matched.has(k) && examples.push(k) === 3) break
        this.report.bump('dbt.catalog.unmatched', unmatched)
        this.report.warn(
          'DBT_CATALOG_UNMATCHED',
          `${unmatched} catalog entr${unmatched === 1 ? 'y matches' : 'ies match'} no enabled manifest node: ignored (${examples.join(', ')}${unmatched > 3 ? ', ...' : ''})`,
          this.at(),
        )
      }
    }
  }

  private at(pos?: ScanPosition): { file?: string; line?: number; offset?: number } {
    return { ...(this.file !== undefined ? { file: this.file } : {}), ...(pos !== undefined ? { line: pos.line, offset: pos.offset } : {}) }
  }

  private section(name: string, pos: ScanPosition): SectionMode {
    const other = OTHER_ARTIFACT_KEYS[name]
    if (other !== undefined && !this.sawNodes) {
      throw new SecodaError('DBT_WRONG_ARTIFACT', `not a dbt manifest: top-level key "${name}" looks like ${other}`, this.at(pos))
    }
    if (name === 'metadata') return 'whole'
    if (name === 'nodes' || name === 'sources' || name === 'exposures') {
      if (name !== 'exposures') this.sawNodes = true
      return 'entries'
    }
    return 'skip'
  }

  private metadata(t: string, pos: ScanPosition): void {
    let m: unknown
    try {
      m = JSON.parse(t)
    } catch (e) {
      const p = jsonErrorPosition(t, e, pos)
      throw new SecodaError(
        'DBT_JSON',
        `invalid JSON in dbt manifest metadata: ${(e as Error).message} (at byte ${p.offset}, line ${p.line})`,
        { ...this.at(p), cause: e },
      )
    }
    const meta = obj(m) ?? {}
    const url = str(meta['dbt_schema_version'])
    const match = url === undefined ? null : /\/dbt\/([a-z_-]+)\/v(\d+)\.json$/.exec(url)
    if (match !== null && match[1] !== 'manifest') {
      throw new SecodaError(
        'DBT_WRONG_ARTIFACT',
        `not a dbt manifest: metadata.dbt_schema_version says it is a dbt ${match[1]} (${url})`,
        this.at(pos),
      )
    }
    const version = match === null ? undefined : Number(match[2])
    this.columnLineage?.setAdapter(str(meta['adapter_type']))
    const dbtVersion = str(meta['dbt_version'])
    if (dbtVersion !== undefined) this.report.notes['dbt.version'] = dbtVersion
    if (version === undefined || version < 1 || version > DBT_MANIFEST_MAX_VERSION) {
      this.report.notes['dbt.schema_version'] = url ?? 'unknown'
      this.report.warn(
        'DBT_SCHEMA_VERSION',
        `dbt manifest: ${url === undefined ? 'no metadata.dbt_schema_version' : `unknown schema version ${JSON.stringify(url)}`}; converting it as v${DBT_MANIFEST_MAX_VERSION} (unknown fields are ignored)`,
        this.at(pos),
      )
    } else this.report.notes['dbt.schema_version'] = `v${version}`
  }

  private wantEntry(section: string, key: string): boolean {
    if (section !== 'nodes') return true
    const dot = key.indexOf('.')
    const kind = dot < 0 ? key : key.slice(0, dot)
    if (TABLE_KINDS.has(kind)) return true
    // Tests, analyses, operations, ...: counted from the unique_id prefix, never parsed.
    this.report.bump(`dbt.skipped.${kind === '' ? 'unknown' : kind}`)
    return false
  }

  private entry(section: string, key: string, t: string, pos: ScanPosition, lazy: LazyMembers): void {
    let node: Json | undefined
    let problem: string | undefined
    let where = pos
    try {
      node = obj(JSON.parse(t))
      if (node === undefined) problem = 'not an object'
    } catch (e) {
      problem = `invalid JSON: ${(e as Error).message}`
      where = jsonErrorPosition(t, e, pos)
    }
    if (node !== undefined) {
      try {
        if (section === 'exposures') this.exposure(key, node, pos)
        else this.tableNode(section === 'sources' ? 'source' : undefined, key, node, pos, lazy)
        return
      } catch (e) {
        if (e instanceof SecodaError) throw e
        problem = (e as Error).message
      }
    }
    this.report.error('DBT_BAD_NODE', `${section} entry ${key}: ${problem ?? 'cannot be converted'}`, {
      ...this.at(where),
      path: `${section}.${key}`,
    })
  }

  private tableNode(sourceKind: string | undefined, key: string, node: Json, pos: ScanPosition, lazy: LazyMembers): void {
    const uid = str(node['unique_id']) ?? key
    const config = obj(node['config']) ?? {}
    const kind = sourceKind ?? str(node['resource_type']) ?? key.slice(0, key.indexOf('.'))
    if (!TABLE_KINDS.has(kind) && kind !== 'source') {
      this.report.bump(`dbt.skipped.${kind}`)
      return
    }
    const deps = arr(obj(node['depends_on'])?.['nodes']).filter((d): d is string => typeof d === 'string')
    const materialized = text(config['materialized'])
    if (kind === 'model' && materialized === 'ephemeral') {
      // Ephemeral models are CTEs inlined into their dependents: no relation, only a hop in lineage.
      this.ephemeral.set(uid, deps)
      if (key !== uid) this.ephemeral.set(key, deps)
      this.report.bump('dbt.ephemeral')
      return
    }
    const schema = unquoteName(text(node['schema']))
    const name = unquoteName(
      kind === 'source' ? (text(node['identifier']) ?? text(node['name'])) : (text(node['alias']) ?? text(node['name'])),
    )
    if (schema === undefined || name === undefined)
      throw new Error(`no ${schema === undefined ? 'schema' : kind === 'source' ? 'identifier or name' : 'alias or name'}`)
    const database = unquoteName(text(node['database']))
    const relId = flat(this.ids.table(database, schema, name))
    const cat = this.catalog?.take(uid)
    if (this.catalog !== undefined && cat === undefined && this.manifestOnly++ < 3) this.manifestOnlyExamples.push(uid)
    const description = text(node['description']) ?? cat?.comment
    const member = (name: string): string | undefined => text(node[name] ?? lazy.get(name))
    const sql = member('compiled_code') ?? member('compiled_sql') ?? member('raw_code') ?? member('raw_sql')
    const part: TablePart = {
      // Secoda requires a table's database; adapters without one (Spark, Hive) get the
      // schema, as MySQL databases do (docs/secoda-formats.md). The id leaves it out.
      uid,
      kind,
      relId,
      database: database ?? schema,
      schema,
      title: name,
      description,
      definition: definitionOf(description, sql),
      nativeType: kind === 'source' ? (relationType(cat?.type) ?? 'source') : (materialized ?? relationType(cat?.type) ?? kind),
      columns: columnsOf(node, cat),
      line: pos.line,
    }
    this.relOf.set(uid, relId)
    // depends_on names nodes by their key in the manifest; it is the unique_id in every dbt
    // release, but a hand-edited or third-party manifest may disagree.
    if (key !== uid) this.relOf.set(key, relId)
    if (deps.length > 0) this.dependents.push({ to: relId, deps: deps.join('\n') })
    // Compiled SQL only (raw SQL is Jinja); before the columns are emitted: they may inherit descriptions.
    const compiled = this.columnLineage !== undefined ? (member('compiled_code') ?? member('compiled_sql')) : undefined
    if (compiled !== undefined && this.columnLineage !== undefined) {
      this.columnLineage.model(uid, relId, compiled, part.columns, this.position(pos.line), () => this.emitMerged([part]))
    } else if ((kind === 'seed' || kind === 'source') && this.done.size < 2) {
      // Once the other section is done (in dbt's order: a source, after all nodes), nothing
      // else can arrive to merge with but another source naming the same relation (rare):
      // emit now, merged with what is held, so sources are never held in dbt's order.
      const other = kind === 'seed' ? 'sources' : 'nodes'
      const held = this.pending.get(relId)
      if (this.done.has(other)) {
        if (held !== undefined) this.pending.delete(relId)
        this.emitMerged(held === undefined ? [part] : [...held, part])
      } else if (held === undefined) this.pending.set(relId, [part])
      else held.push(part)
    } else this.emitMerged([part])
  }

  private exposure(key: string, node: Json, pos: ScanPosition): void {
    const name = text(node['name'])
    if (name === undefined) throw new Error('no name')
    const id = this.ids.table('dbt-exposure', text(node['package_name']) ?? 'dbt', name)
    const owner = obj(node['owner']) ?? {}
    const ownerName = text(owner['name'])
    const email = text(owner['email'])
    const description = text(node['description'])
    const url = text(node['url'])
    const lines: string[] = []
    if (description !== undefined) lines.push(description.trim())
    if (url !== undefined) lines.push(`**URL:** <${url}>`)
    const maturity = text(node['maturity'])
    if (maturity !== undefined) lines.push(`**Maturity:** ${maturity}`)
    if (ownerName !== undefined || email !== undefined)
      lines.push(`**Owner:** ${[ownerName, email !== undefined ? `<${email}>` : undefined].filter((x) => x !== undefined).join(' ')}`)
    const r: Resource = {
      entity_type: 'dashboard',
      databuilder_id: id,
      title: text(node['label']) ?? name,
      description,
      definition: lines.length > 0 ? lines.join('\n\n') : undefined,
      native_type: text(node['type']) ?? 'exposure',
      group: ownerName ?? email ?? 'dbt',
    }
    this.out(this.src(r, pos.line))
    const deps = arr(obj(node['depends_on'])?.['nodes']).filter((d): d is string => typeof d === 'string')
    if (deps.length > 0) this.dependents.push({ to: id, deps: deps.join('\n') })
    void key
  }

  private src<T extends SecodaRecord>(r: T, line: number): T {
    return withSource(r, this.position(line))
  }

  /** One shared position object per line (records of one node share it). */
  private position(line: number): { file?: string; line: number } {
    if (this.lastPosition?.line !== line) this.lastPosition = this.file !== undefined ? { file: this.file, line } : { line }
    return this.lastPosition
  }

  /**
   * Emit one table from the parts that name its relation: descriptions joined, columns
   * united by lower-cased name. When the relation was already emitted (a model, then a
   * source naming the same relation), only the columns it lacked are added.
   */
  private emitMerged(parts: TablePart[]): void {
    const first = parts[0]!
    const relId = first.relId
    // One part (every model): its columns are already unique by lower-cased name.
    let cols: ColumnPart[] = first.columns
    const byName = new Map<string, ColumnPart>()
    if (parts.length > 1) cols = []
    for (const p of parts.length > 1 ? parts : []) {
      for (const c of p.columns) {
        const l = c.name.toLowerCase()
        const e = byName.get(l)
        if (e === undefined) {
          const copy = { ...c }
          byName.set(l, copy)
          cols.push(copy)
          continue
        }
        e.description = joinTexts([e.description, c.description])
        e.type ??= c.type
        e.sortOrder ??= c.sortOrder
        e.isPk ||= c.isPk
      }
    }
    const done = this.emitted.get(relId)
    if (done === undefined) {
      if (parts.length > 1) this.report.bump('dbt.merged', parts.length - 1)
      // The node that builds the relation (a seed) describes it better than a source reading it.
      const builder = parts.find((p) => p.kind !== 'source') ?? first
      const description = joinTexts(parts.map((p) => p.description))
      const table: Resource = {
        entity_type: 'table',
        databuilder_id: relId,
        title: builder.title,
        description,
        definition: parts.map((p) => p.definition).find((d) => d !== undefined),
        native_type: builder.nativeType,
        database: builder.database,
        schema: builder.schema,
      }
      this.out(this.src(table, builder.line))
    } else this.report.bump('dbt.merged', parts.length)
    const hashes: string[] = []
    const emittedCols: ColumnPart[] | undefined = this.columnLineage !== undefined ? [] : undefined
    for (const c of cols) {
      const h = nameHash(c.name)
      if (done !== undefined && hasHash(done, h)) continue
      hashes.push(h)
      const r: Resource = {
        entity_type: 'column',
        databuilder_id: this.ids.columnOf(relId, c.name),
        parent_databuilder_id: relId,
        title: c.name,
        description: c.description,
        // A column added to a relation emitted earlier has no place in its order.
        sort_order: done === undefined ? c.sortOrder : undefined,
        type: c.type,
        is_pk: c.isPk ? true : undefined,
      }
      this.out(this.src(r, first.line))
      emittedCols?.push(c)
    }
    this.emitted.set(relId, (done ?? '') + hashes.join(''))
    if (emittedCols !== undefined) this.columnLineage?.relationEmitted(first.database, first.schema, first.title, relId, emittedCols)
  }

  /** Relation ids a unique_id stands for: itself, or through ephemeral models what they read. */
  private resolve(uid: string, memo: Map<string, string[]>, visiting: Set<string>): string[] {
    const rel = this.relOf.get(uid)
    if (rel !== undefined) return [rel]
    const deps = this.ephemeral.get(uid)
    if (deps === undefined) {
      this.report.bump('dbt.lineage.unresolved')
      return []
    }
    const known = memo.get(uid)
    if (known !== undefined) return known
    if (visiting.has(uid)) return []
    visiting.add(uid)
    const out = new Set<string>()
    for (const d of deps) for (const r of this.resolve(d, memo, visiting)) out.add(r)
    visiting.delete(uid)
    const list = [...out]
    memo.set(uid, list)
    return list
  }

  /** The lineage edges, from the summaries kept: call once, after {@link endTables}. */
  private *lineage(): Generator<LineageEdge> {
    const memo = new Map<string, string[]>()
    const seen = new Set<string>()
    for (const { to, deps } of this.dependents) {
      for (const d of deps.split('\n')) {
        for (const from of this.resolve(d, memo, new Set())) {
          if (from === to) continue
          const k = from + '\n' + to
          if (seen.has(k)) continue
          seen.add(k)
          this.info.recordsOut++
          yield { from_identifier: internalId(from), to_identifier: internalId(to) }
        }
      }
    }
  }
}

/**
 * A Transform from manifest bytes to Secoda records (objectMode on the readable side).
 * Errors (DBT_JSON, DBT_WRONG_ARTIFACT, VALIDATION_FAILED from the report) end the stream.
 */
export function createDbtManifestStream(options: DbtManifestOptions): StageStream<DbtManifestConverter> {
  return asStream(new DbtManifestConverter(options), { objectHighWaterMark: 1024 })
}

/** Convert a whole manifest held in memory (tests, small files): the records in output order. */
export function convertDbtManifest(bytes: Uint8Array, options: DbtManifestOptions): SecodaRecord[] {
  const out: SecodaRecord[] = []
  const emit = (r: SecodaRecord): void => {
    out.push(r)
  }
  const c = new DbtManifestConverter(options)
  c.push(bytes, emit)
  for (const edge of c.end(emit)) out.push(edge)
  return out
}
