// Shared by the pg-dump and mysql-dump tests: run a converter over bytes in a chunking,
// summarise records per relation for comparison with a server's catalog, fixtures.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isLineage, type LineageEdge, type Resource, type SecodaRecord } from '../../lib/records.js'
import type { StageCore } from '../../lib/stream.js'
import { chunks } from './chunking.js'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const samplesDir = path.resolve(repoRoot, '..', 'shared', 'samples')
// Optional real third-party dumps, never copied into the repository: a `shared/samples/`
// folder beside the clone (CI), or one level further up (a git worktree in a subfolder).
// Tests that use them are skipped when neither exists.
const altSamples = path.resolve(repoRoot, '..', '..', 'shared', 'samples')

/** Sample files of one kind, or [] when the samples folder is absent. */
export function samples(kind: string): string[] {
  for (const dir of [samplesDir, altSamples]) {
    const d = path.join(dir, kind)
    if (existsSync(d))
      return readdirSync(d)
        .filter((f) => f.endsWith('.sql'))
        .map((f) => path.join(d, f))
  }
  return []
}

/** A dump converter: a stage core (lib/stream.ts) from bytes to records. */
export type Converter = StageCore<Uint8Array, SecodaRecord>

/** Run a fresh converter over `buf` in a chunking: everything it emits and returns at the end. */
export function convert(make: () => Converter, buf: Buffer, how: Parameters<typeof chunks>[1] = 'whole'): SecodaRecord[] {
  const c = make()
  const out: SecodaRecord[] = []
  const emit = (r: SecodaRecord): void => {
    out.push(r)
  }
  for (const x of chunks(buf, how)) c.push(Buffer.from(x), emit)
  for (const r of c.end(emit) ?? []) out.push(r)
  return out
}

/** One relation as the records describe it. */
export interface RelSummary {
  kind: string | undefined
  description: string | null
  columns: { name: string; type: string | null; description: string | null; pk: boolean }[]
  reads: string[]
}

/**
 * Relations keyed `schema.table` (original case), with columns in sort order and view reads
 * (table edges); column edges apart, as `schema.view.column ← schema.table.column` (external
 * columns in brackets).
 */
export function summarise(records: SecodaRecord[]): {
  relations: Map<string, RelSummary>
  schemas: Map<string, Resource>
  databases: Resource[]
  columnEdges: string[]
} {
  const byId = new Map<string, { key: string; rel: RelSummary }>()
  const relations = new Map<string, RelSummary>()
  const schemas = new Map<string, Resource>()
  const databases: Resource[] = []
  const cols: Resource[] = []
  const colKey = new Map<string, string>()
  const columnEdges: string[] = []
  const edges: LineageEdge[] = []
  for (const r of records) {
    if (isLineage(r)) {
      edges.push(r)
      continue
    }
    if (r.entity_type === 'table') {
      const key = `${r.schema}.${r.title}`
      const rel: RelSummary = { kind: r.native_type, description: r.description ?? null, columns: [], reads: [] }
      relations.set(key, rel)
      byId.set(r.databuilder_id, { key, rel })
    } else if (r.entity_type === 'column') cols.push(r)
    else if (r.entity_type === 'schema') schemas.set(r.title!, r)
    else if (r.entity_type === 'database') databases.push(r)
  }
  for (const c of cols.sort((a, b) => a.sort_order! - b.sort_order!)) {
    const parent = byId.get(c.parent_databuilder_id!)!
    parent.rel.columns.push({ name: c.title!, type: c.type ?? null, description: c.description ?? null, pk: c.is_pk === true })
    colKey.set(c.databuilder_id, `${parent.key}.${c.title}`)
  }
  for (const e of edges) {
    const toId = (e.to_identifier as { databuilder_id: string }).databuilder_id
    if (colKey.has(toId)) {
      const f = e.from_identifier
      const from =
        f.type === 'internal_resource'
          ? colKey.get(f.databuilder_id)!
          : f.type === 'external_column'
            ? `[${f.schema}.${f.table}.${f.column}]`
            : '?'
      columnEdges.push(`${colKey.get(toId)} ← ${from}`)
      continue
    }
    const to = byId.get(toId)!
    const f = e.from_identifier
    const from =
      f.type === 'internal_resource' ? byId.get(f.databuilder_id)!.key : f.type === 'external_table' ? `${f.schema}.${f.table}` : '?'
    to.rel.reads.push(from)
  }
  for (const r of relations.values()) r.reads.sort()
  return { relations, schemas, databases, columnEdges }
}

/** Fixture cases under fixtures/<source>/: folders with input.sql and expected.jsonl. */
export function fixtureCases(source: string): { name: string; dir: string; input: Buffer; options: Record<string, string> }[] {
  const root = path.join(repoRoot, 'fixtures', source)
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = path.join(root, d.name)
      const opt = path.join(dir, 'options.json')
      return {
        name: d.name,
        dir,
        input: readFileSync(path.join(dir, 'input.sql')),
        options: existsSync(opt) ? (JSON.parse(readFileSync(opt, 'utf8')) as Record<string, string>) : {},
      }
    })
}

/**
 * Run main's validator over records (JSONL rules, or CSV rules with forCsv); returns its
 * diagnostics except LINEAGE_EXTERNAL_PARTIAL: a dump cannot know the cluster of a table
 * outside it, so that warning is expected on every external_table edge.
 */
export async function validate(records: SecodaRecord[], forCsv = false): Promise<unknown[]> {
  const { Validator } = await import('../../transforms/validate.js')
  const { Report } = await import('../../lib/report.js')
  const report = new Report({ maxErrors: 1_000_000 })
  const v = new Validator({ report, forCsv })
  for (const r of records) v.check(r)
  v.finish()
  return report.diagnostics.filter((d) => d.code !== 'LINEAGE_EXTERNAL_PARTIAL')
}
