// A second opinion on dbt column lineage: the same models' compiled SQL and catalog schema
// given to sqlglot (scripts/sqlglot-lineage.py, written for Debian's python3-sqlglot 10.x),
// its edges turned into databuilder ids, and the two edge sets compared. Used by
// bench/dbt-column-lineage.ts and test/dbt-column-lineage-sqlglot.test.ts.

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/** scripts/sqlglot-lineage.py, from the source tree or from dist/bench. */
export const SQLGLOT_SCRIPT = [
  path.resolve(here, '..', 'scripts', 'sqlglot-lineage.py'),
  path.resolve(here, '..', '..', 'scripts', 'sqlglot-lineage.py'),
].find((p) => spawnSync('test', ['-f', p]).status === 0)!

/** sqlglot's dialect names, by dbt adapter type. */
const DIALECTS: Record<string, string> = {
  postgres: 'postgres',
  snowflake: 'snowflake',
  bigquery: 'bigquery',
  redshift: 'redshift',
  duckdb: 'duckdb',
  spark: 'spark',
  databricks: 'databricks',
}

/** A Python that can import sqlglot ($SQLGLOT_PYTHON, python3, Debian's /usr/bin/python3), or undefined. */
export function findSqlglotPython(): string | undefined {
  for (const p of [process.env['SQLGLOT_PYTHON'], 'python3', '/usr/bin/python3']) {
    if (p === undefined || p === '') continue
    const r = spawnSync(p, ['-c', 'import sqlglot.lineage'], { stdio: 'ignore' })
    if (r.status === 0) return p
  }
  return undefined
}

// biome-ignore lint/suspicious/noExplicitAny: parsed dbt artifacts, read loosely
type Json = Record<string, any>

/** sqlglot's nested schema: [database →] schema → table → column → type. */
export interface Schema {
  [name: string]: Schema | string
}

/** What sqlglot is given: the catalog's relations as its schema, the models' compiled SQL. */
export interface SqlglotRequest {
  dialect: string
  schema: Schema
  models: { id: string; sql: string }[]
  /** unique_id → the model's relation id (lower-case database.schema.alias). */
  relOf: Map<string, string>
}

const l = (s: string | null | undefined): string => (s ?? '').toLowerCase()

/** Build the request from a parsed manifest and catalog. */
export function sqlglotRequest(manifest: Json, catalog: Json): SqlglotRequest {
  const schema: Schema = {}
  let withDb = false
  for (const sec of ['nodes', 'sources']) {
    for (const e of Object.values<Json>(catalog[sec] ?? {})) {
      const m = e['metadata']
      if (m['database'] !== undefined && m['database'] !== null) withDb = true
    }
  }
  for (const sec of ['nodes', 'sources']) {
    for (const e of Object.values<Json>(catalog[sec] ?? {})) {
      const m = e['metadata']
      let level = schema
      if (withDb) level = (level[l(m['database'])] ??= {}) as Schema
      level = (level[l(m['schema'])] ??= {}) as Schema
      const cols: Record<string, string> = {}
      for (const c of Object.values<Json>(e['columns'] ?? {})) cols[l(c['name'])] = String(c['type'] ?? 'text')
      level[l(m['name'])] = cols
    }
  }
  const models: { id: string; sql: string }[] = []
  const relOf = new Map<string, string>()
  for (const n of Object.values<Json>(manifest['nodes'] ?? {})) {
    if (n['resource_type'] !== 'model' && n['resource_type'] !== 'snapshot') continue
    if (n['config']?.['materialized'] === 'ephemeral') continue
    const sql = n['compiled_code'] ?? n['compiled_sql']
    if (typeof sql !== 'string') continue
    models.push({ id: n['unique_id'], sql })
    relOf.set(
      n['unique_id'],
      [n['database'], n['schema'], n['alias'] ?? n['name']]
        .filter((x) => x !== null && x !== undefined)
        .map(l)
        .join('.'),
    )
  }
  return { dialect: DIALECTS[l(manifest['metadata']?.['adapter_type'])] ?? '', schema, models, relOf }
}

/** sqlglot's answer for one model. */
export interface SqlglotResult {
  id: string
  edges: [string, string, string][]
  error?: string
  ms: number
}

/** Run the script; wall and CPU seconds of the whole Python process (start-up included). */
export function runSqlglot(
  python: string,
  req: SqlglotRequest,
): { results: Map<string, SqlglotResult>; seconds: number; cpu: number; maxRssMB: number } {
  const input = JSON.stringify({ dialect: req.dialect, schema: req.schema, models: req.models })
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', python, SQLGLOT_SCRIPT], { input, maxBuffer: 1 << 30, encoding: 'utf8' })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (r.status !== 0) throw new Error(`sqlglot script failed: ${r.stderr}`)
  const [user, sys, rss] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number]
  const results = new Map<string, SqlglotResult>()
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue
    const x = JSON.parse(line) as SqlglotResult
    results.set(x.id, x)
  }
  return { results, seconds, cpu: user + sys, maxRssMB: rss / 1024 }
}

/**
 * sqlglot's edges as `from -> to` databuilder ids (default ids: lower case), limited to the
 * models it resolved, to columns that exist in our output, and without self-edges (as ours).
 */
export function sqlglotEdges(results: Map<string, SqlglotResult>, req: SqlglotRequest, columns: Set<string>): Set<string> {
  const out = new Set<string>()
  for (const [id, r] of results) {
    if (r.error !== undefined) continue
    const rel = req.relOf.get(id)!
    for (const [col, fq, from] of r.edges) {
      if (fq === rel) continue
      const to = `${rel}.${col}`
      const fromId = `${fq}.${from}`
      if (columns.has(to) && columns.has(fromId)) out.add(`${fromId} -> ${to}`)
    }
  }
  return out
}

/** Our edges into the models sqlglot resolved. */
export function comparableEdges(ours: Iterable<string>, results: Map<string, SqlglotResult>, req: SqlglotRequest): Set<string> {
  const ok = new Set<string>()
  for (const [id, r] of results) if (r.error === undefined) ok.add(req.relOf.get(id)!)
  const out = new Set<string>()
  for (const e of ours) {
    const to = e.slice(e.indexOf(' -> ') + 4)
    if (ok.has(to.slice(0, to.lastIndexOf('.')))) out.add(e)
  }
  return out
}

/** Precision and recall of ours against sqlglot's. */
export function compareEdges(
  ours: Set<string>,
  theirs: Set<string>,
): { both: number; onlyOurs: string[]; onlyTheirs: string[]; precision: number; recall: number } {
  const onlyOurs = [...ours].filter((e) => !theirs.has(e)).sort()
  const onlyTheirs = [...theirs].filter((e) => !ours.has(e)).sort()
  const both = ours.size - onlyOurs.length
  return {
    both,
    onlyOurs,
    onlyTheirs,
    precision: ours.size === 0 ? 1 : both / ours.size,
    recall: theirs.size === 0 ? 1 : both / theirs.size,
  }
}
