import t from 'tap'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createIdBuilder } from '../lib/ids.js'
import { type LineageEdge, type Resource, type SecodaRecord, isLineage } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { DbtCatalogReader, type DbtCatalog } from '../transforms/dbt/catalog.js'
import type { ColumnLineageOptions } from '../transforms/dbt/column-lineage.js'
import { DbtManifestConverter } from '../transforms/dbt/manifest.js'
import { type KnownRelation, loadSqlParser, resolveQueryLineage } from '../transforms/dbt/sql-lineage.js'
import { Validator } from '../transforms/validate.js'
import { chunkings, fixture, golden, root, runCli } from './helpers.js'

const DIALECTS = ['postgres', 'snowflake', 'bigquery', 'redshift', 'duckdb', 'spark']

await loadSqlParser()

function loadCatalog(file: string, report: Report): DbtCatalog {
  const r = new DbtCatalogReader({ report, file })
  r.push(readFileSync(file), () => {})
  r.end(() => {})
  return r.catalog
}

interface Run {
  records: SecodaRecord[]
  report: Report
}

interface RunOptions {
  lineage?: ColumnLineageOptions
  catalog?: boolean
  chunks?: Buffer[]
  keepCase?: boolean
  manifest?: Buffer
}

function run(dir: string, o: RunOptions = {}): Run {
  const report = new Report({ maxErrors: 1 })
  const cat = join(dir, 'catalog.json')
  const catalog = o.catalog !== false && existsSync(cat) ? loadCatalog(cat, report) : undefined
  const records: SecodaRecord[] = []
  const emit = (r: SecodaRecord): void => {
    records.push(r)
  }
  const c = new DbtManifestConverter({
    report,
    file: 'manifest.json',
    ids: createIdBuilder({ keepCase: o.keepCase ?? false }),
    columnLineage: o.lineage ?? {},
    ...(catalog !== undefined ? { catalog } : {}),
  })
  for (const chunk of o.chunks ?? [o.manifest ?? readFileSync(join(dir, 'manifest.json'))]) c.push(chunk, emit)
  for (const e of c.end(emit)) records.push(e)
  return { records, report }
}

const idOf = (e: LineageEdge, end: 'from_identifier' | 'to_identifier'): string => (e[end] as { databuilder_id: string }).databuilder_id
const resources = (rs: SecodaRecord[]): Resource[] => rs.filter((r): r is Resource => !isLineage(r))
const columnIds = (rs: SecodaRecord[]): Set<string> =>
  new Set(
    resources(rs)
      .filter((r) => r.entity_type === 'column')
      .map((r) => r.databuilder_id),
  )
/** Column → column edges, sorted, one `from -> to` a line. */
function columnEdges(rs: SecodaRecord[]): string {
  const cols = columnIds(rs)
  const lines = rs
    .filter(isLineage)
    .filter((e) => cols.has(idOf(e, 'to_identifier')))
    .map((e) => `${idOf(e, 'from_identifier')} -> ${idOf(e, 'to_identifier')}`)
  return lines.sort().join('\n') + '\n'
}
const warnings = (r: Report): string =>
  r.diagnostics
    .filter((d) => d.code === 'DBT_LINEAGE_UNRESOLVED')
    .map((d) => `${d.line ?? '-'}: ${d.message}`)
    .join('\n') + '\n'

function validate(rs: SecodaRecord[]): Report {
  const report = new Report({ maxErrors: 1000 })
  const v = new Validator({ report })
  for (const r of rs) v.check(r)
  v.finish()
  return report
}

for (const d of DIALECTS) {
  t.test(`${d}: column edges as expected, valid, chunking-invariant`, async (t) => {
    const dir = fixture('dbt', `lineage-${d}`)
    const { records, report } = run(dir)
    const edges = columnEdges(records)
    t.equal(edges, golden(join(dir, 'expected.column-edges.txt'), edges), 'column edges (hand-checked against the SQL)')
    t.equal(warnings(report), golden(join(dir, 'expected.warnings.txt'), warnings(report)), 'DBT_LINEAGE_UNRESOLVED warnings')
    t.same(validate(records).diagnostics, [], 'every edge names a column that exists')
    t.equal(report.counters['lineage.column_edges'], edges.trim().split('\n').length, 'lineage.column_edges counts them')
    const resolved = report.counters['dbt.columns_resolved'] ?? 0
    const unresolved = report.counters['dbt.columns_unresolved'] ?? 0
    const modelColumns = resources(records).filter((r) => r.entity_type === 'column' && /\.(?:raw)\./.test(r.databuilder_id) === false)
    t.ok(resolved + unresolved <= modelColumns.length, 'each model column counted once at most')
    const off = run(dir, { lineage: undefined })
    t.ok(off.records.length > 0)
    const manifest = readFileSync(join(dir, 'manifest.json'))
    for (const [how, chunks] of chunkings(manifest, 2)) {
      if (how === 'whole') continue
      t.equal(columnEdges(run(dir, { chunks }).records), edges, how)
    }
  })
}

t.test('off by default: no column edges without columnLineage', async (t) => {
  const dir = fixture('dbt', 'lineage-postgres')
  const report = new Report({ maxErrors: 1 })
  const records: SecodaRecord[] = []
  const emit = (r: SecodaRecord): void => {
    records.push(r)
  }
  const c = new DbtManifestConverter({ report, catalog: loadCatalog(join(dir, 'catalog.json'), report) })
  c.push(readFileSync(join(dir, 'manifest.json')), emit)
  for (const e of c.end(emit)) records.push(e)
  t.equal(columnEdges(records), '\n')
  t.equal(report.counters['lineage.column_edges'], undefined)
})

t.test('counters: resolved + unresolved = the columns of models with SQL', async (t) => {
  const { report } = run(fixture('dbt', 'lineage-postgres'))
  // 7 models with SQL (the ephemeral one has no table): 8 + 5 + 3 + 3 + 3 + 2 + 2 columns
  t.equal(report.counters['dbt.lineage.models'], 7)
  t.equal((report.counters['dbt.columns_resolved'] ?? 0) + (report.counters['dbt.columns_unresolved'] ?? 0), 26)
  t.equal(
    report.counters['dbt.columns_unresolved'],
    3,
    'lifetime_value (not in the SQL), legacy_events id and val (reads a relation outside the project)',
  )
  t.equal(report.count('DBT_LINEAGE_UNRESOLVED'), 2, 'one warning per model')
})

t.test('without a catalog: columns from the manifest docs, models resolved at the end when they read later nodes', async (t) => {
  const m = JSON.parse(readFileSync(fixture('dbt', 'lineage-postgres', 'manifest.json'), 'utf8')) as {
    sources: Record<string, Record<string, unknown>>
  }
  m.sources['source.shop.raw.orders']!['columns'] = { id: { name: 'id', description: 'Order id.' } }
  const { records, report } = run(fixture('dbt', 'lineage-postgres'), { catalog: false, manifest: Buffer.from(JSON.stringify(m)) })
  // Only documented columns exist: stg_orders.order_id and the source's id (sources come after the models)
  t.equal(columnEdges(records), 'analytics.raw.orders.id -> analytics.public.stg_orders.order_id\n')
  // customer_orders and orders_with_country read nodes that come later, stg_* sources, legacy_events an unknown relation
  t.equal(report.counters['dbt.lineage.deferred'], 5, 'models reading relations not known on arrival: resolved at the end')
  t.match(
    report.diagnostics.find((d) => d.message.startsWith('model.shop.customer_orders'))?.message,
    /customer_id \(SELECT \* over analytics\.public\.stg_customers, whose columns are unknown/,
    '* over a model with no known columns gives nothing: reported',
  )
  t.same(validate(records).diagnostics, [], 'valid: no edge to a column that was not emitted')
})

t.test('--inherit-descriptions: undocumented pass-through columns take their one upstream column description', async (t) => {
  const { records, report } = run(fixture('dbt', 'lineage-postgres'), { lineage: { inheritDescriptions: true } })
  const desc = (id: string): string | undefined => resources(records).find((r) => r.databuilder_id === id)?.description
  t.equal(desc('analytics.public.stg_customers.email'), 'Where we write to.', 'from a source emitted after the model')
  t.equal(desc('analytics.public.big_orders.order_id'), 'Primary key.', 'through an ephemeral model CTE')
  t.equal(desc('analytics.public.orders_with_country.order_id'), 'Primary key.')
  t.equal(desc('analytics.public.customer_orders.customer_id'), 'The customer.', 'its own description wins')
  t.equal(desc('analytics.public.customer_orders.order_count'), undefined, 'an aggregate is not a pass-through')
  t.equal(desc('analytics.public.order_status_union.status'), undefined, 'two upstream columns: nothing inherited')
  t.equal(report.counters['dbt.descriptions_inherited'], 3)
  const ids = resources(records).map((r) => r.databuilder_id)
  t.equal(new Set(ids).size, ids.length, 'every table and column emitted once')
  const plain = run(fixture('dbt', 'lineage-postgres'))
  t.equal(resources(plain.records).length, ids.length, 'the same resources as without')
  t.same(validate(records).diagnostics, [])
})

t.test('chains: a column inherits what its upstream inherited, whatever the manifest order', async (t) => {
  const m = JSON.parse(readFileSync(fixture('dbt', 'lineage-postgres', 'manifest.json'), 'utf8')) as {
    nodes: Record<string, Record<string, unknown>>
  }
  m.nodes['model.shop.email_copy'] = {
    unique_id: 'model.shop.email_copy',
    resource_type: 'model',
    database: 'analytics',
    schema: 'public',
    name: 'email_copy',
    alias: 'email_copy',
    config: { materialized: 'view' },
    columns: { email: { name: 'email', description: '' } },
    depends_on: { nodes: ['model.shop.stg_customers'] },
    compiled_code: 'select email from analytics.public.stg_customers',
  }
  // the copy first: it waits for stg_customers, which waits for the source
  const nodes = Object.entries(m.nodes)
  nodes.unshift(nodes.pop()!)
  m.nodes = Object.fromEntries(nodes)
  const { records } = run(fixture('dbt', 'lineage-postgres'), {
    lineage: { inheritDescriptions: true },
    manifest: Buffer.from(JSON.stringify(m)),
  })
  const copy = resources(records).find((r) => r.databuilder_id === 'analytics.public.email_copy.email')
  t.equal(copy?.description, 'Where we write to.')
})

t.test('a model whose SQL does not parse: one warning, all its columns counted unresolved', async (t) => {
  const m = JSON.parse(readFileSync(fixture('dbt', 'lineage-postgres', 'manifest.json'), 'utf8')) as {
    nodes: Record<string, Record<string, unknown>>
  }
  m.nodes['model.shop.stg_customers']!['compiled_code'] = 'select id as customer_id,, from'
  const { records, report } = run(fixture('dbt', 'lineage-postgres'), { manifest: Buffer.from(JSON.stringify(m)) })
  const w = report.diagnostics.find((d) => d.message.startsWith('model.shop.stg_customers'))
  t.match(w?.message, /no column lineage for its 3 columns: SQL not parsed \(postgresql\)/)
  t.equal(w?.code, 'DBT_LINEAGE_UNRESOLVED')
  t.equal(w?.severity, 'warning')
  t.equal(w?.file, 'manifest.json')
  t.equal(w?.path, 'nodes.model.shop.stg_customers')
  t.equal(report.counters['dbt.lineage.models_failed'], 1)
  t.equal(report.counters['dbt.columns_unresolved'], 6)
  t.notMatch(columnEdges(records), /-> analytics\.public\.stg_customers\./)
  t.same(validate(records).diagnostics, [])
})

t.test('time limit: a model over it is reported, the run goes on', async (t) => {
  const m = JSON.parse(readFileSync(fixture('dbt', 'lineage-postgres', 'manifest.json'), 'utf8')) as {
    nodes: Record<string, Record<string, unknown>>
  }
  const cols = Array.from({ length: 400 }, (_, i) => `customer_id + ${i} as c${i}`).join(', ')
  m.nodes['model.shop.stg_customers']!['compiled_code'] = `select ${cols} from analytics.raw.customers`
  // a limit already passed: deterministic, whatever the machine's speed
  const { report } = run(fixture('dbt', 'lineage-postgres'), { manifest: Buffer.from(JSON.stringify(m)), lineage: { timeLimitMs: -1 } })
  const w = report.diagnostics.find((d) => d.message.startsWith('model.shop.stg_customers'))
  t.match(w?.message, /time limit exceeded/)
  t.ok((report.counters['lineage.column_edges'] ?? 0) > 0, 'other models still resolved (small ones finish before the first check)')
})

t.test('--keep-case: source columns spelled as their relation emits them (Snowflake upper-case catalog)', async (t) => {
  const { records } = run(fixture('dbt', 'lineage-snowflake'), { keepCase: true })
  t.same(validate(records).diagnostics, [], 'every edge names an emitted column')
  t.match(columnEdges(records), /analytics\.raw\.events\.OCCURRED_AT -> analytics\.public\.stg_events\.EVENT_AT/)
})

// The resolver on its own: SQL + a schema → output columns and their sources.
const schema: Record<string, string[]> = {
  'db.s.a': ['id', 'x', 'y', 'k'],
  'db.s.b': ['id', 'z', 'k'],
}
const lookup = (parts: readonly string[]): KnownRelation | undefined => {
  const k = parts.join('.').toLowerCase()
  const hit = Object.keys(schema).find((n) => n === k || n.endsWith('.' + k))
  return hit === undefined ? undefined : { id: hit, columns: schema[hit]! }
}
function lineageOf(sql: string, dialect = 'postgresql'): Record<string, string> {
  const l = resolveQueryLineage(sql, { dialect, lookup, timeLimitMs: 1000 })
  const out: Record<string, string> = {}
  for (const c of l.columns) {
    out[c.name] =
      [...c.sources.values()]
        .map((s) => `${s.table}.${s.column}`)
        .sort()
        .join(' ') +
      (c.unresolved !== undefined ? ` ?${c.unresolved}` : '') +
      (c.direct ? ' =' : '')
  }
  if (l.starGap !== undefined) out['*'] = l.starGap
  return out
}

t.test('resolver: scoping rules', async (t) => {
  t.same(
    lineageOf('select a.id, z from db.s.a join db.s.b on a.k = b.k'),
    { id: 'db.s.a.id =', z: 'db.s.b.z =' },
    'qualified and unqualified',
  )
  t.same(lineageOf('select k from db.s.a join db.s.b using (k)'), { k: 'db.s.a.k db.s.b.k' }, 'USING: both sides')
  t.same(lineageOf('select * from db.s.a join db.s.b using (k)'), {
    id: 'db.s.a.id db.s.b.id',
    x: 'db.s.a.x =',
    y: 'db.s.a.y =',
    k: 'db.s.a.k db.s.b.k',
    z: 'db.s.b.z =',
  })
  t.same(
    lineageOf('select x, (select max(z) from db.s.b where b.k = a.k) as mz from db.s.a'),
    { x: 'db.s.a.x =', mz: 'db.s.b.z' },
    'scalar subquery: its output column',
  )
  t.same(
    lineageOf('with recursive r(n, v) as (select id, x from db.s.a union all select n + 1, v from r) select v from r'),
    { v: 'db.s.a.x =' },
    'recursive CTE: the anchor',
  )
  t.same(lineageOf('select column1 from (values (1), (2)) v'), { column1: '' }, 'VALUES: no sources')
  t.same(lineageOf('select x as total, y from db.s.a union select id from db.s.b'), {
    total: 'db.s.a.x db.s.b.id',
    y: 'db.s.a.y ?a set operation whose branches have different columns',
  })
  t.same(lineageOf('select * from db.other.t'), { '*': 'SELECT * over db.other.t, which is not a table of this project' })
  t.same(lineageOf('select nope from db.s.a'), { nope: ' ?nope is a column of no relation it reads' })
  t.same(lineageOf('select t.x as x from db.s.a as t(q, x)'), { x: 'db.s.a.x =' }, 'alias column list renames')
  t.same(
    lineageOf('select transform(array(id), e -> e + x) as t2 from db.s.a', 'databricks'),
    { t2: 'db.s.a.id db.s.a.x' },
    'lambda parameters are not columns',
  )
  t.same(lineageOf("select date_trunc('month', y) as m, extract(year from y) as yr from db.s.a"), { m: 'db.s.a.y', yr: 'db.s.a.y' })
  t.throws(
    () => resolveQueryLineage('insert into db.s.a values (1)', { dialect: 'postgresql', lookup, timeLimitMs: 1000 }),
    /not a query \(Insert\)/,
  )
  t.throws(() => resolveQueryLineage('select 1; select 2', { dialect: 'postgresql', lookup, timeLimitMs: 1000 }), /2 statements/)
})

// CI has the samples at ../shared next to the clone; helpers' worktrees sit one level deeper.
const samples = [resolve(root, '..', 'shared', 'samples', 'dbt'), resolve(root, '..', '..', 'shared', 'samples', 'dbt')].find((d) =>
  existsSync(d),
)

t.test(
  'every dbt sample converts with column lineage and inherited descriptions, and validates',
  { skip: samples === undefined ? 'no samples' : false },
  async (t) => {
    for (const name of readdirSync(samples!).filter((f) => f.includes('manifest'))) {
      const report = new Report({ maxErrors: 1 })
      const catFile = name.startsWith('fivetran_hubspot') ? join(samples!, 'fivetran_hubspot-catalog-v1-dbt1.11.11.json') : undefined
      const catalog = catFile !== undefined ? loadCatalog(catFile, report) : undefined
      const records: SecodaRecord[] = []
      const emit = (r: SecodaRecord): void => {
        records.push(r)
      }
      const c = new DbtManifestConverter({
        report,
        file: name,
        columnLineage: { inheritDescriptions: true },
        ...(catalog !== undefined ? { catalog } : {}),
      })
      c.push(readFileSync(join(samples!, name)), emit)
      for (const e of c.end(emit)) records.push(e)
      t.same(validate(records).diagnostics, [], `${name}: valid`)
      t.equal(report.errors, 0, `${name}: no errors`)
      if (name.startsWith('fivetran_hubspot')) {
        t.ok((report.counters['lineage.column_edges'] ?? 0) > 1500, `${name}: ${report.counters['lineage.column_edges']} column edges`)
        t.ok(
          (report.counters['dbt.columns_unresolved'] ?? 0) < 20,
          `${name}: ${report.counters['dbt.columns_unresolved']} columns unresolved`,
        )
      }
    }
  },
)

t.test('CLI: --column-lineage writes column edges; flag mistakes are usage errors', async (t) => {
  const dir = fixture('dbt', 'lineage-redshift')
  const manifest = join(dir, 'manifest.json')
  const catalog = join(dir, 'catalog.json')
  const on = await runCli(['dbt', manifest, '--catalog', catalog, '--column-lineage'])
  t.equal(on.code, 0, on.stderr)
  t.match(
    on.stdout,
    /"databuilder_id":"dev\.raw\.orders\.total"\},"to_identifier":\{"type":"internal_resource","databuilder_id":"dev\.public\.orders_by_region\.total"\}/,
  )
  t.match(on.stderr, /lineage\.column_edges: 9/)
  const off = await runCli(['dbt', manifest, '--catalog', catalog])
  t.notMatch(off.stdout, /orders_by_region\.total"\}/, 'off by default')
  const inherit = await runCli(['dbt', manifest, '--inherit-descriptions'])
  t.equal(inherit.code, 2)
  t.match(inherit.stderr, /USAGE.*--inherit-descriptions needs --column-lineage/)
  const limit = await runCli(['dbt', manifest, '--column-lineage', '--lineage-time-limit', '0'])
  t.equal(limit.code, 2)
  t.match(limit.stderr, /USAGE.*--lineage-time-limit must be a positive number/)
})
