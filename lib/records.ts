// The canonical Secoda record model: resources (resources.jsonl) and lineage edges
// (lineage.jsonl), their field lists in output order, and the one JSONL serializer.
// Spec: Secoda's custom-integration documentation (https://docs.secoda.co); the rules checked are in README "Validation".

/** The seven Secoda entity types, in the order they usually appear. */
export const ENTITY_TYPES = ['database', 'schema', 'table', 'column', 'dashboard_group', 'dashboard', 'chart'] as const
export type EntityType = (typeof ENTITY_TYPES)[number]

/** A resources.jsonl line. Absent fields are `undefined` (never written). */
export interface Resource {
  entity_type: EntityType
  databuilder_id: string
  parent_databuilder_id?: string
  title?: string
  description?: string
  /** Markdown documentation, e.g. a view's SQL in a fenced block. */
  definition?: string
  /** ISO 8601 datetime with offset. */
  external_updated_at?: string
  /** The source's own kind: view, materialized view, seed, incremental, ... */
  native_type?: string
  /** Columns: position. */
  sort_order?: number
  /** Columns: data type. */
  type?: string
  /** Columns: primary key. */
  is_pk?: boolean
  hidden?: boolean
  /** Tables: schema name (required for tables). */
  schema?: string
  /** Tables: database name (required for tables). */
  database?: string
  /** Dashboards: group. */
  group?: string
  /** Charts: product, e.g. tableau. */
  product?: string
}

/** Resource fields in the fixed order the serializer writes them. */
export const RESOURCE_FIELDS = [
  'entity_type',
  'databuilder_id',
  'parent_databuilder_id',
  'title',
  'description',
  'definition',
  'external_updated_at',
  'native_type',
  'sort_order',
  'type',
  'is_pk',
  'hidden',
  'database',
  'schema',
  'group',
  'product',
] as const satisfies readonly (keyof Resource)[]

/** The four lineage identifier types. */
export const LINEAGE_ID_TYPES = ['internal_resource', 'external_table', 'external_column', 'tables_from_query'] as const
export type LineageIdType = (typeof LINEAGE_ID_TYPES)[number]

/** A resource of this integration. */
export interface InternalResourceId {
  type: 'internal_resource'
  databuilder_id: string
}
/** A table in another integration. */
export interface ExternalTableId {
  type: 'external_table'
  cluster?: string
  database?: string
  schema?: string
  table: string
}
/** A column in another integration. */
export interface ExternalColumnId {
  type: 'external_column'
  cluster?: string
  database?: string
  schema?: string
  table: string
  column: string
}
/** SQL whose source tables Secoda finds itself; valid only as `from_identifier`. */
export interface TablesFromQueryId {
  type: 'tables_from_query'
  sql: string
}
/** One end of a lineage edge: a Secoda resource by id, an external table or column, or SQL. */
export type LineageId = InternalResourceId | ExternalTableId | ExternalColumnId | TablesFromQueryId

/** A lineage.jsonl line. */
export interface LineageEdge {
  from_identifier: LineageId
  to_identifier: LineageId
}

/** What flows between stages: a resource or a lineage edge. */
export type SecodaRecord = Resource | LineageEdge

/** Identifier fields per type, in output order. */
export const LINEAGE_ID_FIELDS: Readonly<Record<LineageIdType, readonly string[]>> = {
  internal_resource: ['type', 'databuilder_id'],
  external_table: ['type', 'cluster', 'database', 'schema', 'table'],
  external_column: ['type', 'cluster', 'database', 'schema', 'table', 'column'],
  tables_from_query: ['type', 'sql'],
}

/** True when the record is a lineage edge (told apart from resources by shape). */
export function isLineage(r: SecodaRecord): r is LineageEdge {
  return (r as Partial<LineageEdge>).from_identifier !== undefined
}

/** True when the record is a resource. */
export function isResource(r: SecodaRecord): r is Resource {
  return (r as Partial<Resource>).entity_type !== undefined
}

/** Shorthand for an internal lineage id. */
export function internalId(databuilderId: string): InternalResourceId {
  return { type: 'internal_resource', databuilder_id: databuilderId }
}

/** Where a record came from, for diagnostics. */
export interface RecordSource {
  file?: string
  line?: number
}

/** Symbols under which readers attach a record's file and line (the serializer never
 * writes them). Two plain properties instead of one object: no allocation per record. */
export const SOURCE_FILE: unique symbol = Symbol.for('secoda-convert.file')
export const SOURCE_LINE: unique symbol = Symbol.for('secoda-convert.line')

interface Located {
  [SOURCE_FILE]?: string
  [SOURCE_LINE]?: number
}

/** Read the source position a reader attached, if any. */
export function recordSource(r: SecodaRecord): RecordSource | undefined {
  const l = r as Located
  const file = l[SOURCE_FILE]
  const line = l[SOURCE_LINE]
  if (file === undefined && line === undefined) return undefined
  const src: RecordSource = {}
  if (file !== undefined) src.file = file
  if (line !== undefined) src.line = line
  return src
}

/** Attach a source position (returns the same record). */
export function withSource<T extends SecodaRecord>(r: T, src: RecordSource): T {
  const l = r as Located
  if (src.file !== undefined) l[SOURCE_FILE] = src.file
  if (src.line !== undefined) l[SOURCE_LINE] = src.line
  return r
}

/** The file and line a reader attached, without allocating (undefined when absent). */
export function sourceFile(r: SecodaRecord): string | undefined {
  return (r as Located)[SOURCE_FILE]
}

/** See {@link sourceFile}. */
export function sourceLine(r: SecodaRecord): number | undefined {
  return (r as Located)[SOURCE_LINE]
}

function writeFields(obj: Record<string, unknown>, fields: readonly string[]): string {
  let out = '{'
  for (const k of fields) {
    const v = obj[k]
    if (v === undefined || v === null) continue
    if (out.length > 1) out += ','
    out += JSON.stringify(k) + ':' + JSON.stringify(v)
  }
  return out + '}'
}

function serializeLineageId(id: LineageId): string {
  const fields = LINEAGE_ID_FIELDS[id.type]
  return writeFields(id as unknown as Record<string, unknown>, fields ?? Object.keys(id))
}

/**
 * Serialize one record as a JSON line (without newline): null/undefined fields omitted,
 * keys in a fixed order, fields the format does not define left out.
 */
export function serializeRecord(r: SecodaRecord): string {
  if (isLineage(r)) {
    return `{"from_identifier":${serializeLineageId(r.from_identifier)},"to_identifier":${serializeLineageId(r.to_identifier)}}`
  }
  return writeFields(r as unknown as Record<string, unknown>, RESOURCE_FIELDS)
}
