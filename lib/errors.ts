// Error and diagnostic codes: the one error type (SecodaError) and the closed list of codes
// that every stage, command and test uses. The README's error table is checked against
// CODES by test/readme.test.ts, so a code cannot be added without documenting it.

/** What a code means and how the CLI exits when it ends a run. */
export interface CodeInfo {
  /** One line for the README table and `--help`. */
  readonly summary: string
  /** Exit status when this code ends a run: 1 invalid input, 2 usage or I/O. */
  readonly exit: 1 | 2
}

/** Every code this package can report, as errors or as diagnostics. */
export const CODES = {
  // usage and I/O (exit 2)
  USAGE: { summary: 'Invalid command line: unknown flag, bad value, or conflicting options', exit: 2 },
  INPUT_NOT_FOUND: { summary: 'An input file does not exist or cannot be opened', exit: 2 },
  INPUT_READ: { summary: 'Reading an input failed (I/O error)', exit: 2 },
  INPUT_GZIP: { summary: 'Input starts with the gzip signature but does not decompress', exit: 1 },
  INPUT_EMPTY: { summary: 'The input holds no records (warning; an upload of it is refused: UPLOAD_EMPTY)', exit: 1 },
  INPUT_FORMAT: { summary: 'The input is not in a format this command reads', exit: 1 },
  INPUT_TRUNCATED: {
    summary:
      "A pg_dump/mysqldump file whose header names the tool lacks the tool's completion line, or ends inside a statement (--allow-truncated reads it)",
    exit: 1,
  },
  OUTPUT_WRITE: { summary: 'Writing an output failed (I/O error: disk full, no permission)', exit: 2 },
  ABORTED: {
    summary: 'The run was interrupted by an AbortSignal (the CLI, stopped by SIGINT/SIGTERM/SIGHUP, exits 128 + the signal number)',
    exit: 2,
  },
  UPSTREAM_ABORTED: { summary: 'The JSONL on the input ends with the abort marker a failed secoda-convert run writes', exit: 1 },
  INTERNAL: { summary: 'A bug in secoda-convert: please report it with --verbose output', exit: 2 },
  // byte and syntax level (exit 1)
  INPUT_UTF8: { summary: 'Input bytes are not valid UTF-8', exit: 1 },
  LINE_TOO_LONG: { summary: 'A line is longer than --max-line-length bytes', exit: 1 },
  RECORD_TOO_LARGE: {
    summary:
      'One SQL statement read whole is larger than the limit (64 MiB; --max-record-size): the input is refused, not buffered without bound',
    exit: 1,
  },
  JSON_SYNTAX: { summary: 'A JSONL line is not valid JSON', exit: 1 },
  JSONL_NOT_OBJECT: { summary: 'A JSONL line holds JSON that is not an object', exit: 1 },
  CSV_SYNTAX: { summary: 'The CSV cannot be parsed (unclosed quote, wrong number of fields)', exit: 1 },
  CSV_HEADER: { summary: 'The CSV header lacks a required Secoda column or repeats one', exit: 1 },
  CSV_VALUE: { summary: 'A CSV field has a value of the wrong form (is_view, sort order, epoch time)', exit: 1 },
  // record level (exit 1)
  RECORD_SHAPE: {
    summary: 'A JSON object is neither a resource (entity_type) nor a lineage edge (from_identifier/to_identifier)',
    exit: 1,
  },
  FIELD_REQUIRED: { summary: 'A required field is missing or empty', exit: 1 },
  FIELD_TYPE: { summary: 'A field has the wrong JSON type or form', exit: 1 },
  FIELD_ENUM: { summary: 'A field has a value outside its allowed set (entity_type, identifier type)', exit: 1 },
  FIELD_UNKNOWN: { summary: 'A field this format does not define (warning; it is dropped on output)', exit: 1 },
  LINEAGE_OBSOLETE: { summary: 'Obsolete lineage form from_databuilder_id/to_databuilder_id (warning; converted)', exit: 1 },
  LINEAGE_QUERY_TARGET: { summary: 'A tables_from_query identifier is used as to_identifier (it may only be a source)', exit: 1 },
  LINEAGE_NO_INTERNAL: { summary: 'A lineage edge has no internal_resource end', exit: 1 },
  LINEAGE_EXTERNAL_ONLY: { summary: 'A lineage edge joins two external tables (warning: allowed by the SDK, not by the docs)', exit: 1 },
  LINEAGE_EXTERNAL_PARTIAL: { summary: 'An external identifier lacks cluster, database or schema (warning)', exit: 1 },
  // cross-record (exit 1)
  ID_DUPLICATE: { summary: 'Two resources share one databuilder_id', exit: 1 },
  PARENT_MISSING: { summary: 'parent_databuilder_id names no resource in the stream (reported at end of stream)', exit: 1 },
  PARENT_TYPE: { summary: 'A parent has the wrong entity type (column under a non-table, chart under a non-dashboard)', exit: 1 },
  LINEAGE_MISSING: { summary: 'An internal_resource lineage id names no resource in the stream (reported at end of stream)', exit: 1 },
  TABLE_INCONSISTENT: { summary: 'CSV rows of one table disagree on a table-level field', exit: 1 },
  CSV_NAME_PERIOD: { summary: 'A database, schema, table or column name contains a period, which the CSV format forbids', exit: 1 },
  CSV_NO_PARENT: { summary: 'A column cannot be written to CSV because its table is missing or lacks database/schema', exit: 1 },
  CSV_DROPPED: {
    summary: 'Records the CSV format cannot carry (lineage, non-table entities, tables without columns) were dropped (warning)',
    exit: 1,
  },
  // dbt artifacts (transforms/dbt/manifest.ts, transforms/dbt/catalog.ts; exit 1)
  DBT_JSON: {
    summary: 'A dbt manifest or catalog is not valid JSON (truncated or malformed); reported with byte offset and line',
    exit: 1,
  },
  DBT_WRONG_ARTIFACT: {
    summary:
      'The file is not the dbt artifact expected (run_results.json, semantic_manifest.json or a catalog given as manifest, or not dbt at all)',
    exit: 1,
  },
  DBT_SCHEMA_VERSION: {
    summary: 'The manifest or catalog schema version is missing or unknown (warning; converted as the newest known)',
    exit: 1,
  },
  DBT_BAD_NODE: {
    summary: 'One manifest or catalog entry cannot be converted (invalid JSON, no schema or name); the message names its unique_id',
    exit: 1,
  },
  DBT_CATALOG_UNMATCHED: { summary: 'Nodes in only one of manifest and catalog (warning, once per direction, with the total)', exit: 1 },
  DBT_LINEAGE_UNRESOLVED: {
    summary:
      'With --column-lineage: model columns whose lineage could not be resolved (warning, one per model, naming the columns and why)',
    exit: 1,
  },
  // information_schema exports (transforms/info-schema/columns.ts)
  COLUMNS_LAYOUT: {
    summary: 'A CSV header is not an information_schema.columns/tables layout (the message names the columns expected)',
    exit: 1,
  },
  COLUMNS_NAME_MISSING: {
    summary: 'An export gives no schema or database name for a table and no --schema/--database supplies it',
    exit: 1,
  },
  VALIDATION_FAILED: { summary: 'The run stopped because the input had errors (see the diagnostics before it)', exit: 1 },
  // SQL dumps: pg_dump / mysqldump (docs/sql.md; lib/scan/sql-splitter.ts, pg-dump.ts, mysql-dump.ts)
  SQL_UNTERMINATED: {
    summary: 'A dump ends inside a quoted string, dollar quote, comment or COPY data block (the position is where it began)',
    exit: 1,
  },
  SQL_UNPARSED: { summary: 'A dump statement the grammar cannot read was skipped (warning with its line and first words)', exit: 1 },
  SQL_NO_DATABASE: {
    summary: 'The dump names no database (no CREATE DATABASE, \\connect or USE) and no --database/--schema was given',
    exit: 2,
  },
  // upload (docs/upload.md): configuration, HTTP, integration lookup, stale guard
  UPLOAD_CONFIG: {
    summary: 'Upload settings are missing or unsafe: no API key, bad --api-url/--region, plain http:// to a non-loopback host',
    exit: 2,
  },
  UPLOAD_AUTH: { summary: "Secoda refused the API key (401/403): check the key, the region/API URL, and the key owner's rights", exit: 2 },
  UPLOAD_HTTP: { summary: 'Secoda answered with an error status (400, 404, 5xx, or 429/502/503/504 after the last retry)', exit: 2 },
  UPLOAD_NETWORK: { summary: 'The connection failed, was reset or timed out (--chunked live streams are not retried)', exit: 2 },
  INTEGRATION_NOT_FOUND: { summary: 'No integration has the --integration-name given (add --create to create it)', exit: 2 },
  INTEGRATION_AMBIGUOUS: { summary: 'Several integrations share the --integration-name given: pass --integration ID', exit: 2 },
  UPLOAD_STALE: {
    summary:
      "The upload would archive more than --max-stale of the integration's resources (server count) or of the ids the previous upload sent (override with --allow-stale)",
    exit: 1,
  },
  UPLOAD_STATE: { summary: 'The stale-guard state file cannot be read or written (see --state-dir)', exit: 2 },
  UPLOAD_EMPTY: {
    summary: 'The upload carries no resources: as a sync it would archive everything (override with --allow-empty)',
    exit: 1,
  },
  UPLOAD_GUARD_UNAVAILABLE: {
    summary:
      "The integration's resource count cannot be read (403, 404 on older servers, network), so the server-side stale guard cannot run",
    exit: 2,
  },
  INTEGRATION_NOT_CUSTOM: {
    summary: 'The --integration is a native integration (Snowflake, dbt, ...): an upload would archive its resources',
    exit: 2,
  },
} as const satisfies Record<string, CodeInfo>

/** The closed union of codes. */
export type ErrorCode = keyof typeof CODES

/** How serious a diagnostic is: errors fail the run, warnings never stop it. */
export type Severity = 'error' | 'warning'

/** Where in the input something happened; every field optional. */
export interface Position {
  file?: string
  /** 1-based line number. */
  line?: number
  /** 1-based column (character) where known. */
  column?: number
  /** Byte offset from the start of the (decompressed) input, where known. */
  offset?: number
  /** The field the problem is in, e.g. `to_identifier.databuilder_id`. */
  path?: string
  /** The record's databuilder_id, where it has one. */
  databuilderId?: string
}

/** One problem found in the input. Validation yields these instead of throwing. */
export interface Diagnostic extends Position {
  code: ErrorCode
  severity: Severity
  message: string
}

/** Options for {@link SecodaError}. */
export interface SecodaErrorOptions extends Position {
  cause?: unknown
  /** The diagnostics that led to this error (for VALIDATION_FAILED). */
  diagnostics?: Diagnostic[]
}

/**
 * The one error type of this package. `code` is from the closed list {@link CODES};
 * position context (file, line, column, path) sits on properties as well as in the message.
 */
export class SecodaError extends Error {
  readonly code: ErrorCode
  file?: string
  line?: number
  column?: number
  offset?: number
  path?: string
  databuilderId?: string
  readonly diagnostics?: Diagnostic[]

  constructor(code: ErrorCode, message: string, options: SecodaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SecodaError'
    this.code = code
    if (options.file !== undefined) this.file = options.file
    if (options.line !== undefined) this.line = options.line
    if (options.column !== undefined) this.column = options.column
    if (options.offset !== undefined) this.offset = options.offset
    if (options.path !== undefined) this.path = options.path
    if (options.databuilderId !== undefined) this.databuilderId = options.databuilderId
    if (options.diagnostics !== undefined) this.diagnostics = options.diagnostics
  }

  /** Exit status for the CLI. */
  get exitCode(): 1 | 2 {
    return CODES[this.code].exit
  }

  /** The error as a diagnostic (for reports and --json). */
  toDiagnostic(): Diagnostic {
    const d: Diagnostic = { code: this.code, severity: 'error', message: this.message }
    copyPosition(this, d)
    return d
  }

  /** Build from a diagnostic, keeping its position. */
  static fromDiagnostic(d: Diagnostic): SecodaError {
    return new SecodaError(d.code, d.message, d)
  }
}

/** True for SecodaError, also across duplicated module copies. */
export function isSecodaError(e: unknown): e is SecodaError {
  return (
    e instanceof SecodaError ||
    (typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'SecodaError' &&
      typeof (e as { code?: unknown }).code === 'string' &&
      (e as { code: string }).code in CODES)
  )
}

/** Copy the position fields that are set from one object to another. */
export function copyPosition(from: Position, to: Position): void {
  if (from.file !== undefined) to.file = from.file
  if (from.line !== undefined) to.line = from.line
  if (from.column !== undefined) to.column = from.column
  if (from.offset !== undefined) to.offset = from.offset
  if (from.path !== undefined) to.path = from.path
  if (from.databuilderId !== undefined) to.databuilderId = from.databuilderId
}

/** `file:line:column` or whatever part of it is known; '' when nothing is. */
export function formatLocation(p: Position): string {
  let s = p.file ?? ''
  if (p.line !== undefined) s += `${s ? ':' : 'line '}${p.line}`
  if (p.line !== undefined && p.column !== undefined) s += `:${p.column}`
  return s
}

/** `file:line: severity CODE message` — the CLI's diagnostic line. */
export function formatDiagnostic(d: Diagnostic): string {
  const loc = formatLocation(d)
  const id = d.databuilderId !== undefined && !d.message.includes(d.databuilderId) ? ` [${d.databuilderId}]` : ''
  return `${loc ? loc + ': ' : ''}${d.severity} ${d.code} ${d.message}${id}`
}
