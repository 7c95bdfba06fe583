// `--report FILE.html`: one self-contained page about a run (no network, no external assets):
// the summary and diagnostics, counts by database and schema, a searchable table of tables
// and columns, the lineage around a picked table (laid out by dagre, inlined, drawn as SVG),
// and for uploads the stale guard's comparison. What the page needs is collected from the
// records as they pass the validator, kept compact (docs/summary.md, "HTML report").

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type LineageId, type Resource, type SecodaRecord, isLineage } from '../records.js'
import type { RunSummary } from './summary.js'
import { REPORT_PAGE_CSS, REPORT_PAGE_JS } from './report-page.js'

/** Longest description kept per table or column (the page shows descriptions, not documents). */
const DESCRIPTION_CHARS = 200

/** Tables, columns and lineage of a run, in parallel arrays of small values. */
export class ReportCollector {
  /** id → table index (≥ 0) or column index (-1 - i). */
  private readonly ids = new Map<string, number>()
  private readonly names = new Map<string, number>()
  /** Interned database and schema names. */
  readonly strings: string[] = []
  readonly tables: { id: string[]; name: string[]; db: number[]; schema: number[]; kind: string[]; desc: string[] } = {
    id: [],
    name: [],
    db: [],
    schema: [],
    kind: [],
    desc: [],
  }
  readonly columns: { table: number[]; name: string[]; type: string[]; pk: boolean[]; desc: string[]; parent: (string | undefined)[] } = {
    table: [],
    name: [],
    type: [],
    pk: [],
    desc: [],
    parent: [],
  }
  /** Lineage ends: internal ids, or labels of external ids (`ext:` + a dotted name). */
  readonly edges: [string, string, boolean][] = []
  /** Records seen that are neither tables, columns nor edges (dashboards, charts, ...). */
  others = 0

  private intern(s: string | undefined): number {
    const k = s ?? ''
    let i = this.names.get(k)
    if (i === undefined) {
      i = this.strings.length
      this.strings.push(k)
      this.names.set(k, i)
    }
    return i
  }

  /** Take one validated record. */
  add(r: SecodaRecord, columnEdge: boolean): void {
    if (isLineage(r)) {
      this.edges.push([endKey(r.from_identifier), endKey(r.to_identifier), columnEdge])
      return
    }
    const res = r as Resource
    const desc = typeof res.description === 'string' ? res.description.slice(0, DESCRIPTION_CHARS) : ''
    if (res.entity_type === 'table') {
      this.ids.set(res.databuilder_id, this.tables.id.length)
      const t = this.tables
      t.id.push(res.databuilder_id)
      t.name.push(res.title ?? res.databuilder_id)
      t.db.push(this.intern(res.database))
      t.schema.push(this.intern(res.schema))
      t.kind.push(res.native_type ?? 'table')
      t.desc.push(desc)
    } else if (res.entity_type === 'column') {
      const c = this.columns
      const parent = res.parent_databuilder_id ?? ''
      const ti = this.ids.get(parent)
      this.ids.set(res.databuilder_id, -1 - c.table.length)
      c.table.push(ti !== undefined && ti >= 0 ? ti : -1)
      c.parent.push(ti !== undefined && ti >= 0 ? undefined : parent)
      c.name.push(res.title ?? res.databuilder_id)
      c.type.push(typeof res.type === 'string' ? res.type : '')
      c.pk.push(res.is_pk === true)
      c.desc.push(desc)
    } else this.others++
  }

  /** The page's data: tables, columns, and edges between node numbers. */
  /** The page for this run: {@link toData} rendered by {@link renderReport}. */
  render(summary: RunSummary): string {
    return renderReport(this.toData(summary))
  }

  toData(summary: RunSummary): ReportData {
    const c = this.columns
    // columns that came before their table
    for (let i = 0; i < c.parent.length; i++) {
      const p = c.parent[i]
      if (p === undefined) continue
      const ti = this.ids.get(p)
      if (ti !== undefined && ti >= 0) c.table[i] = ti
    }
    // nodes: every table, then external ends by label; column ends map to their table (table
    // graph) and are kept as column references (column graph)
    const externals = new Map<string, number>()
    const T = this.tables.id.length
    const node = (key: string): number => {
      if (!key.startsWith('ext:')) {
        const i = this.ids.get(key)
        if (i !== undefined) return i >= 0 ? i : c.table[-1 - i]! >= 0 ? c.table[-1 - i]! : -1
      }
      let e = externals.get(key)
      if (e === undefined) {
        e = T + externals.size
        externals.set(key, e)
      }
      return e
    }
    const colRef = (key: string): number | string => {
      if (!key.startsWith('ext:')) {
        const i = this.ids.get(key)
        if (i !== undefined && i < 0) return -1 - i
      }
      return key.replace(/^ext:/, '')
    }
    const tableEdges = new Set<string>()
    const columnEdges: [number | string, number | string, number, number][] = []
    for (const [from, to, isColumn] of this.edges) {
      const a = node(from)
      const b = node(to)
      if (a >= 0 && b >= 0 && a !== b) tableEdges.add(`${a},${b}`)
      if (isColumn) columnEdges.push([colRef(from), colRef(to), a, b])
    }
    return {
      summary,
      strings: this.strings,
      tables: this.tables.id.map((id, i) => [
        id,
        this.tables.name[i]!,
        this.tables.db[i]!,
        this.tables.schema[i]!,
        this.tables.kind[i]!,
        this.tables.desc[i]!,
      ]),
      externals: [...externals.keys()].map((k) => k.replace(/^ext:/, '')),
      columns: c.name.map((name, i) => [c.table[i]!, name, c.type[i]!, c.pk[i]! ? 1 : 0, c.desc[i]!]),
      edges: [...tableEdges].map((e) => e.split(',').map(Number) as [number, number]),
      columnEdges,
    }
  }
}

/** The page's data (embedded as JSON). */
export interface ReportData {
  summary: RunSummary
  strings: string[]
  /** [id, name, database string index, schema string index, kind, description] */
  tables: [string, string, number, number, string, string][]
  /** Labels of external lineage ends; node number = tables.length + index. */
  externals: string[]
  /** [table index (-1: none), name, type, primary key (1/0), description] */
  columns: [number, string, string, number, string][]
  /** Table-level graph: [from node, to node], deduplicated. */
  edges: [number, number][]
  /** Column-level edges: [from (column index or external label), to, from node, to node]. */
  columnEdges: [number | string, number | string, number, number][]
}

function endKey(id: LineageId): string {
  switch (id.type) {
    case 'internal_resource':
      return id.databuilder_id
    case 'external_table':
      return `ext:${[id.database, id.schema, id.table].filter(Boolean).join('.')}`
    case 'external_column':
      return `ext:${[id.database, id.schema, id.table, id.column].filter(Boolean).join('.')}`
    default:
      return 'ext:(query)'
  }
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/** The layout library's browser build, read from the installed package. */
function dagreSource(): string {
  const require = createRequire(import.meta.url)
  const main = require.resolve('@dagrejs/dagre')
  return readFileSync(main.replace(/dagre\.cjs$/, 'dagre.min.js'), 'utf8')
    .replace(/\/\/# sourceMappingURL=.*$/m, '')
    .replace(/<\/script/gi, '<\\/script')
}

/** The whole page. */
export function renderReport(data: ReportData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>secoda-convert ${data.summary.command} report</title>
<style>${REPORT_PAGE_CSS}</style>
</head>
<body>
<header><h1>secoda-convert <span id="command"></span></h1><div id="verdict"></div></header>
<main>
<section id="summary"><h2>Summary</h2><dl id="figures"></dl></section>
<section id="upload" hidden><h2>Upload</h2><div id="upload-body"></div></section>
<section id="diagnostics"><h2>Diagnostics</h2><div id="diagnostics-body"></div></section>
<section id="counts"><h2>By database and schema</h2><div id="counts-body"></div></section>
<section id="catalog"><h2>Tables and columns</h2>
<input id="search" type="search" placeholder="Search tables and columns (name, id, type or description)" autocomplete="off">
<div id="results"></div></section>
<section id="lineage"><h2>Lineage</h2><p id="lineage-hint">Pick a table (in the list above) to see what feeds it and what it feeds.</p>
<div id="graph"></div><div id="column-graph"></div></section>
</main>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${dagreSource()}</script>
<script>${REPORT_PAGE_JS}</script>
</body>
</html>
`
}
