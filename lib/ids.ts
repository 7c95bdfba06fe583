// The one databuilder_id builder every source uses, so that the same physical table gets
// the same id whichever source (dbt, pg_dump, mysqldump, information_schema) produced it.
// Default: lower(database).lower(schema).lower(table)[.lower(column)], database left out
// when the source has none. README "databuilder ids" states the rule for users.

/** Options of the id builder. */
export interface IdOptions {
  /** Prepended as `prefix.` to every id (not lower-cased), e.g. an integration name. */
  prefix?: string
  /** Keep the names' case instead of lower-casing them. */
  keepCase?: boolean
}

/** Builds databuilder ids for one run. */
export interface IdBuilder {
  readonly options: Readonly<Required<IdOptions>>
  /** Id of a database. */
  database(database: string): string
  /** Id of a schema; `database` may be undefined/empty when the source has none. */
  schema(database: string | undefined, schema: string): string
  /** Id of a table or view. */
  table(database: string | undefined, schema: string, table: string): string
  /** Id of a column. */
  column(database: string | undefined, schema: string, table: string, column: string): string
  /** Id of a column under an already built table id. */
  columnOf(tableId: string, column: string): string
}

/**
 * One id part. A name containing a period would make the dotted id ambiguous (`a.b` + `c`
 * vs `a` + `b.c`), so such a part - and one starting with a double quote, which would
 * otherwise look quoted - is written in double quotes with inner quotes doubled, as SQL
 * quotes identifiers: `db."my.schema".t`. Plain names are unchanged, so ordinary ids stay
 * the documented dotted paths.
 */
function part(name: string, keepCase: boolean): string {
  const n = keepCase ? name : name.toLowerCase()
  return isPlainIdPart(n) ? n : '"' + n.replaceAll('"', '""') + '"'
}

/** Whether a name goes into an id as it is (lower-cased unless keepCase), unquoted (see part). */
export function isPlainIdPart(name: string): boolean {
  return !name.includes('.') && !name.startsWith('"')
}

/** Create an id builder with the given options (defaults: no prefix, lower case). */
export function createIdBuilder(options: IdOptions = {}): IdBuilder {
  const opts = Object.freeze({ prefix: options.prefix ?? '', keepCase: options.keepCase ?? false })
  const head = opts.prefix === '' ? '' : opts.prefix + '.'
  const k = opts.keepCase
  const db = (d: string | undefined): string => (d === undefined || d === '' ? '' : part(d, k) + '.')
  return {
    options: opts,
    database: (d) => head + part(d, k),
    schema: (d, s) => head + db(d) + part(s, k),
    table: (d, s, t) => head + db(d) + part(s, k) + '.' + part(t, k),
    column: (d, s, t, c) => head + db(d) + part(s, k) + '.' + part(t, k) + '.' + part(c, k),
    columnOf: (tableId, c) => tableId + '.' + part(c, k),
  }
}

/** The project-default builder (no prefix, lower case). */
export const defaultIds: IdBuilder = createIdBuilder()
