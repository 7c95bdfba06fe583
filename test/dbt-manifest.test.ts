import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isSecodaError, type SecodaError } from '../lib/errors.js'
import { createIdBuilder } from '../lib/ids.js'
import { isLineage, serializeRecord, type LineageEdge, type Resource, type SecodaRecord } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { DbtCatalogReader, type DbtCatalog } from '../transforms/dbt/catalog.js'
import { DbtManifestConverter, convertDbtManifest, createDbtManifestStream } from '../transforms/dbt/manifest.js'
import { Validator } from '../transforms/validate.js'
import { chunkings, chunksReadable, collect, fixture, golden, root } from './helpers.js'

// Optional real third-party manifests, never copied into the repository: a `shared/samples/`
// folder beside the clone (CI), or one level further up (a git worktree in a subfolder).
const samples =
  [resolve(root, '..', 'shared', 'samples', 'dbt'), resolve(root, '..', '..', 'shared', 'samples', 'dbt')].find((d) => existsSync(d)) ??
  resolve(root, '..', 'shared', 'samples', 'dbt')
const CASES = ['v1-snowflake-catalog', 'v4-ephemeral', 'v7-exposures', 'v9-constraints', 'v12-fusion-merge']

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

/** Convert a fixture case (with its catalog when it has one), feeding the given chunks. */
function runCase(dir: string, chunks?: Buffer[], maxErrors = 1): Run {
  const report = new Report({ maxErrors })
  const cat = join(dir, 'catalog.json')
  const catalog = existsSync(cat) ? loadCatalog(cat, report) : undefined
  const records: SecodaRecord[] = []
  const c = new DbtManifestConverter({ report, file: 'manifest.json', ...(catalog !== undefined ? { catalog } : {}) })
  const emit = (r: SecodaRecord): void => {
    records.push(r)
  }
  for (const chunk of chunks ?? [readFileSync(join(dir, 'manifest.json'))]) c.push(chunk, emit)
  for (const edge of c.end(emit)) records.push(edge)
  return { records, report }
}

const resources = (rs: SecodaRecord[]): Resource[] => rs.filter((r): r is Resource => !isLineage(r))
const edges = (rs: SecodaRecord[]): [string, string][] =>
  rs
    .filter(isLineage)
    .map((e: LineageEdge) => [
      (e.from_identifier as { databuilder_id: string }).databuilder_id,
      (e.to_identifier as { databuilder_id: string }).databuilder_id,
    ])
const jsonl = (rs: SecodaRecord[]): string => rs.map((r) => serializeRecord(r) + '\n').join('')

/** Run the project's validator over the records: the diagnostics it reports. */
function validate(rs: SecodaRecord[]): Report {
  const report = new Report({ maxErrors: 1000 })
  const v = new Validator({ report })
  for (const r of rs) v.check(r)
  v.finish()
  return report
}

function convertError(text: string | Buffer, maxErrors = 1): SecodaError {
  try {
    convertDbtManifest(Buffer.from(text), { report: new Report({ maxErrors }), file: 'm.json' })
  } catch (e) {
    if (isSecodaError(e)) return e
    throw e
  }
  throw new Error('no error')
}

const META = (v: string): string => `"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/${v}.json", "dbt_version": "1.8.0"}`

for (const name of CASES) {
  t.test(`fixture ${name}: golden output, valid, chunking-invariant`, async (t) => {
    const dir = fixture('dbt', name)
    const { records, report } = runCase(dir)
    const res = resources(records)
    t.equal(jsonl(res), golden(join(dir, 'expected.resources.jsonl'), jsonl(res)), 'resources.jsonl')
    t.equal(
      jsonl(records.filter(isLineage)),
      golden(join(dir, 'expected.lineage.jsonl'), jsonl(records.filter(isLineage))),
      'lineage.jsonl',
    )
    const summary =
      JSON.stringify(
        {
          counters: report.counters,
          notes: report.notes,
          diagnostics: report.diagnostics.map((d) => `${d.severity} ${d.code} ${d.message}`),
        },
        null,
        2,
      ) + '\n'
    t.equal(summary, golden(join(dir, 'expected.report.json'), summary), 'counters, notes and diagnostics')
    const v = validate(records)
    t.same(v.diagnostics, [], 'the validator finds nothing')
    // Every record is written after its table and no id repeats.
    const ids = res.map((r) => r.databuilder_id)
    t.equal(new Set(ids).size, ids.length, 'no duplicate databuilder_id')
    t.notOk(
      edges(records).some(([a, b]) => a === b),
      'no self-edge',
    )
    const manifest = readFileSync(join(dir, 'manifest.json'))
    for (const [how, chunks] of chunkings(manifest, 3)) {
      if (how === 'whole') continue
      t.equal(jsonl(runCase(dir, chunks).records), jsonl(records), how)
    }
  })
}

t.test('v1: catalog joined case-insensitively (Snowflake upper-case), dbt text wins, warehouse order and types', async (t) => {
  const { records, report } = runCase(fixture('dbt', 'v1-snowflake-catalog'))
  const cols = resources(records).filter((r) => r.parent_databuilder_id === 'analytics.public.customers')
  t.same(
    cols.map((c) => [c.title, c.type, c.sort_order, c.description]),
    [
      ['customer_id', 'NUMBER', 1, 'Primary key.'],
      ['first_name', 'TEXT', 2, 'Given name.'],
      ['CREATED_AT', 'TIMESTAMP_NTZ', 3, 'Undocumented in dbt.'],
      ['lifetime_value', undefined, undefined, 'Sum of order amounts.'],
    ],
  )
  t.equal(resources(records).find((r) => r.databuilder_id === 'analytics.public.customers')?.description, 'One row per customer.')
  t.equal(
    resources(records).find((r) => r.databuilder_id === 'analytics.raw.customers')?.native_type,
    'table',
    'source: catalog relation type',
  )
  t.same(report.counters['dbt.catalog.missing'], 1, 'the seed is not in the catalog')
  t.same(report.counters['dbt.catalog.unmatched'], 1, 'a catalog entry no node matches')
  t.equal(report.count('DBT_CATALOG_UNMATCHED'), 2, 'warned once per direction')
  t.equal(report.counters['dbt.skipped.disabled'], 1, 'v1 disabled list counted')
})

t.test('v4: ephemeral models are passed through (A → eph → eph → B gives A → B)', async (t) => {
  const { records, report } = runCase(fixture('dbt', 'v4-ephemeral'))
  t.notOk(
    resources(records).some((r) => r.databuilder_id.includes('int_orders')),
    'no resource for ephemeral models',
  )
  t.same(
    edges(records)
      .filter(([, to]) => to === 'warehouse.analytics.orders')
      .sort(),
    [
      ['warehouse.analytics.stg_payments', 'warehouse.analytics.orders'],
      ['warehouse.raw.orders', 'warehouse.analytics.orders'],
    ],
  )
  t.equal(report.counters['dbt.ephemeral'], 2)
  t.same([report.counters['dbt.skipped.test'], report.counters['dbt.skipped.operation'], report.counters['dbt.skipped.metric']], [2, 1, 1])
  t.same(
    resources(records)
      .filter((r) => r.parent_databuilder_id === 'warehouse.analytics.orders')
      .map((c) => c.sort_order),
    [1, 2, 3],
    'no catalog: documented order',
  )
})

t.test('v7: exposures become dashboards with group and url; what they read feeds them', async (t) => {
  const { records } = runCase(fixture('dbt', 'v7-exposures'))
  const dash = resources(records).filter((r) => r.entity_type === 'dashboard')
  t.same(
    dash.map((d) => [d.databuilder_id, d.title, d.group, d.native_type]),
    [
      ['dbt-exposure.shop.weekly_kpis', 'Weekly KPIs', 'BI Team', 'dashboard'],
      ['dbt-exposure.shop.churn_notebook', 'churn_notebook', 'ds@example.com', 'notebook'],
    ],
  )
  t.match(dash[0]!.definition, /https:\/\/bi\.example\.com\/dashboards\/7/)
  t.same(
    edges(records)
      .filter(([, to]) => to === 'dbt-exposure.shop.weekly_kpis')
      .map(([f]) => f)
      .sort(),
    ['warehouse.analytics.customers', 'warehouse.raw.customers'],
  )
  t.equal(resources(records).find((r) => r.databuilder_id === 'warehouse.snapshots.customers_snapshot')?.native_type, 'snapshot')
  t.match(
    resources(records).find((r) => r.databuilder_id === 'warehouse.analytics.stg_customers')?.definition,
    /source\('raw','customers'\)/,
    'raw SQL when not compiled',
  )
})

t.test('v9: primary keys from column constraints and model constraints (case-insensitive)', async (t) => {
  const { records } = runCase(fixture('dbt', 'v9-constraints'))
  const pk = (table: string): string[] =>
    resources(records)
      .filter((r) => r.parent_databuilder_id === table && r.is_pk === true)
      .map((r) => r.title!)
  t.same(pk('warehouse.analytics.dim_customers'), ['customer_id'])
  t.same(pk('warehouse.analytics.dim_customers_v2'), ['customer_id', 'region'], 'versioned model: alias, composite key')
  t.equal(
    resources(records).find((r) => r.databuilder_id === 'warehouse.analytics.dim_customers.name')?.type,
    'varchar(100)',
    'data_type without catalog',
  )
})

t.test('v12: a seed and the source naming its relation are ONE table; a source naming a model adds its columns', async (t) => {
  const { records, report } = runCase(fixture('dbt', 'v12-fusion-merge'))
  const accounts = resources(records).filter((r) => r.databuilder_id === 'warehouse.raw.accounts')
  t.equal(accounts.length, 1)
  t.equal(accounts[0]!.description, 'Accounts as loaded by the seed in CI.', 'the source describes the seed')
  t.equal(accounts[0]!.native_type, 'seed')
  t.same(
    resources(records)
      .filter((r) => r.parent_databuilder_id === 'warehouse.raw.accounts')
      .map((c) => [c.title, c.description, c.type]),
    [
      ['id', 'Account id.', 'integer'],
      ['name', 'Account name.', 'text'],
      ['created_at', 'Created.', 'timestamp'],
    ],
  )
  t.same(
    edges(records).filter(([, to]) => to === 'warehouse.analytics.stg_accounts'),
    [['warehouse.raw.accounts', 'warehouse.analytics.stg_accounts']],
    'seed and source deps: one edge',
  )
  t.same(
    resources(records)
      .filter((r) => r.parent_databuilder_id === 'warehouse.analytics.account_events')
      .map((c) => c.title),
    ['account_id', 'event_count', 'legacy_flag'],
  )
  t.equal(report.counters['dbt.merged'], 2)
  t.same(
    [report.counters['dbt.skipped.semantic_model'], report.counters['dbt.skipped.saved_query'], report.counters['dbt.skipped.function']],
    [2, 1, 1],
  )
  t.match(
    resources(records).find((r) => r.databuilder_id === 'warehouse.analytics.stg_accounts')?.definition,
    /^View comment used as description\.\n\n````sql\n/,
    "null description: catalog comment; fence longer than the SQL's",
  )
})

t.test('the stream factory gives the same records and fails the stream on errors', async (t) => {
  const dir = fixture('dbt', 'v7-exposures')
  const buf = readFileSync(join(dir, 'manifest.json'))
  const expected = jsonl(runCase(dir).records)
  const report = new Report()
  const catalog = loadCatalog(join(dir, 'catalog.json'), report)
  const got = await collect<SecodaRecord>(chunksReadable(chunkings(buf, 1)[2]![1]).pipe(createDbtManifestStream({ report, catalog })))
  t.equal(jsonl(got), expected)
  const s = createDbtManifestStream({ report: new Report() })
  await t.rejects(collect(chunksReadable([buf.subarray(0, 500)]).pipe(s)), { code: 'DBT_JSON' })
})

t.test('schema version: reported; unknown warns and converts; missing warns', async (t) => {
  const body = `"nodes": {"seed.p.s": {"resource_type": "seed", "schema": "s", "name": "s", "database": "d", "config": {"materialized": "seed"}}}, "sources": {}`
  const r1 = new Report()
  const out = convertDbtManifest(Buffer.from(`{${META('manifest/v13')}, ${body}, "new_section_2030": {"x": [1]}}`), { report: r1 })
  t.equal(resources(out).length, 1)
  t.equal(r1.count('DBT_SCHEMA_VERSION'), 1)
  t.equal(r1.diagnostics[0]?.line, 1)
  const r2 = new Report()
  convertDbtManifest(Buffer.from(`{"metadata": {}, ${body}}`), { report: r2 })
  t.match(r2.diagnostics[0], { code: 'DBT_SCHEMA_VERSION', severity: 'warning', message: /no metadata.dbt_schema_version/ })
})

t.test('files that are not manifests get DBT_WRONG_ARTIFACT', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['run_results.json', `{${META('run-results/v6')}, "results": [], "elapsed_time": 1.0}`, /dbt run-results/],
    ['catalog.json', `{${META('catalog/v1')}, "nodes": {}, "sources": {}}`, /dbt catalog/],
    ['sources.json', `{${META('sources/v3')}, "results": []}`, /dbt sources/],
    ['semantic_manifest.json', '{"semantic_models": [], "metrics": [], "project_configuration": {}}', /semantic_manifest\.json/],
    ['some other JSON', '{"name": "x", "version": 2}', /no "nodes" or "sources"/],
    ['an array', '[1, 2]', /top level is an array/],
  ]
  for (const [name, text, msg] of cases) {
    const e = convertError(text)
    t.equal(e.code, 'DBT_WRONG_ARTIFACT', name)
    t.match(e.message, msg, name)
    t.equal(e.line, 1, `${name}: line`)
  }
  if (existsSync(samples)) {
    const e = convertError(readFileSync(join(samples, 'fivetran_hubspot-catalog-v1-dbt1.11.11.json')))
    t.equal(e.code, 'DBT_WRONG_ARTIFACT', 'the real catalog given as manifest')
  }
})

t.test('truncated or invalid JSON: DBT_JSON with byte offset and line', async (t) => {
  const text = `{\n${META('manifest/v12')},\n"nodes": {\n  "model.p.a": {"resource_type": "model", "schema": "s", "name": "a", "raw_code": "select 1`
  const e = convertError(text)
  t.equal(e.code, 'DBT_JSON')
  t.equal(e.offset, Buffer.byteLength(text))
  t.equal(e.line, 4)
  t.match(e.message, /truncated/)
  const e2 = convertError(`{\n"nodes": {\n  "a": [}\n}}`)
  t.same([e2.code, e2.line, e2.offset], ['DBT_JSON', 3, 21])
})

t.test('a bad node: DBT_BAD_NODE naming its unique_id and position; the run goes on under --max-errors', async (t) => {
  const text = `{${META('manifest/v12')},\n"nodes": {\n"model.p.bad": {"resource_type": "model", "schema": "s", "name": tru},\n"model.p.noschema": {"resource_type": "model", "name": "x"},\n"model.p.ok": {"resource_type": "model", "schema": "s", "name": "ok", "database": "d"}}, "sources": {}}`
  const report = new Report({ maxErrors: 10 })
  const out = convertDbtManifest(Buffer.from(text), { report, file: 'm.json' })
  t.same(
    resources(out).map((r) => r.databuilder_id),
    ['d.s.ok'],
  )
  const [bad, noschema] = report.diagnostics
  t.match(bad, {
    code: 'DBT_BAD_NODE',
    severity: 'error',
    file: 'm.json',
    line: 3,
    path: 'nodes.model.p.bad',
    message: /model\.p\.bad: invalid JSON/,
  })
  t.equal(bad!.offset, text.indexOf('tru}'), 'offset of the bad token')
  t.match(noschema, { code: 'DBT_BAD_NODE', line: 4, message: /model\.p\.noschema: no schema/ })
  const e = convertError(text, 1)
  t.equal(e.code, 'VALIDATION_FAILED', 'stops at the first error by default')
})

t.test('an adapter without databases (Spark): the id leaves it out, the table carries the schema as database', async (t) => {
  const out = convertDbtManifest(
    Buffer.from(
      `{${META('manifest/v12')}, "nodes": {"model.p.a": {"resource_type": "model", "database": null, "schema": "lake", "name": "a", "columns": {"x": {"name": "x"}}}}, "sources": {}}`,
    ),
    { report: new Report() },
  )
  t.match(resources(out)[0], { databuilder_id: 'lake.a', database: 'lake', schema: 'lake' })
  t.same(validate(out).diagnostics, [])
})

t.test('ids honour the id builder (prefix, case): manifest spelling for documented columns, catalog spelling otherwise', async (t) => {
  const report = new Report()
  const dir = fixture('dbt', 'v1-snowflake-catalog')
  const catalog = loadCatalog(join(dir, 'catalog.json'), report)
  const out = convertDbtManifest(readFileSync(join(dir, 'manifest.json')), {
    report,
    catalog,
    ids: createIdBuilder({ prefix: 'dbt_prod', keepCase: true }),
  })
  t.ok(resources(out).every((r) => r.databuilder_id.startsWith('dbt_prod.')))
  t.same(
    resources(out)
      .filter((r) => r.parent_databuilder_id === 'dbt_prod.ANALYTICS.PUBLIC.customers')
      .map((r) => r.databuilder_id),
    [
      'dbt_prod.ANALYTICS.PUBLIC.customers.customer_id',
      'dbt_prod.ANALYTICS.PUBLIC.customers.first_name',
      'dbt_prod.ANALYTICS.PUBLIC.customers.CREATED_AT',
      'dbt_prod.ANALYTICS.PUBLIC.customers.lifetime_value',
    ],
  )
})

// Real third-party manifests (the optional samples folder, dbt/), checked against an independent
// reading of each file with JSON.parse: tables, columns and lineage edges.
t.test('real sample manifests convert and validate cleanly', { skip: existsSync(samples) ? false : 'samples absent' }, async (t) => {
  for (const file of readdirSync(samples)
    .filter((f) => f.includes('manifest'))
    .sort()) {
    const buf = readFileSync(join(samples, file))
    const report = new Report({ maxErrors: 1000 })
    let catalog: DbtCatalog | undefined
    const cat = file.replace('manifest-v12', 'catalog-v1')
    if (cat !== file && existsSync(join(samples, cat))) catalog = loadCatalog(join(samples, cat), report)
    const out = convertDbtManifest(buf, { report, file, ...(catalog !== undefined ? { catalog } : {}) })
    t.equal(report.errors, 0, `${file}: no errors`)
    t.same(
      validate(out).diagnostics.filter((d) => d.severity === 'error'),
      [],
      `${file}: validator finds no error`,
    )
    t.notOk(
      report.diagnostics.some((d) => d.code === 'DBT_SCHEMA_VERSION'),
      `${file}: known schema version`,
    )

    // The independent reading.
    const m = JSON.parse(buf.toString('utf8')) as {
      nodes: Record<string, Record<string, unknown>>
      sources: Record<string, Record<string, unknown>>
      exposures?: Record<string, Record<string, unknown>>
    }
    const rel = new Map<string, string>()
    const eph = new Map<string, string[]>()
    const cols = new Map<string, Set<string>>()
    const deps = (n: Record<string, unknown>): string[] => (n['depends_on'] as { nodes?: string[] } | undefined)?.nodes ?? []
    for (const [k, n] of [...Object.entries(m.nodes), ...Object.entries(m.sources)]) {
      const type = n['resource_type'] as string
      if (!['model', 'seed', 'snapshot', 'source'].includes(type)) continue
      if ((n['config'] as { materialized?: string })?.materialized === 'ephemeral') {
        eph.set(k, deps(n))
        continue
      }
      const id = [n['database'], n['schema'], type === 'source' ? n['identifier'] : n['alias']]
        .filter((x) => x)
        .join('.')
        .toLowerCase()
      rel.set(k, id)
      const set = cols.get(id) ?? new Set()
      for (const c of Object.keys((n['columns'] as object | null) ?? {})) set.add(c.toLowerCase())
      for (const c of Object.values(catalog?.tables.get(k)?.names ?? [])) set.add(c.toLowerCase())
      cols.set(id, set)
    }
    const resolveDep = (u: string): string[] => (rel.has(u) ? [rel.get(u)!] : (eph.get(u) ?? []).flatMap(resolveDep))
    const expectedEdges = new Set<string>()
    for (const [k, n] of [...Object.entries(m.nodes), ...Object.entries(m.exposures ?? {})]) {
      const to =
        rel.get(k) ??
        (n['resource_type'] === 'exposure' ? `dbt-exposure.${String(n['package_name'])}.${String(n['name'])}`.toLowerCase() : undefined)
      if (to === undefined) continue
      for (const d of deps(n)) for (const f of resolveDep(d)) if (f !== to) expectedEdges.add(`${f} -> ${to}`)
    }
    const tables = resources(out).filter((r) => r.entity_type === 'table')
    t.same(tables.map((r) => r.databuilder_id).sort(), [...cols.keys()].sort(), `${file}: tables`)
    t.same(
      resources(out)
        .filter((r) => r.entity_type === 'column')
        .map((r) => r.databuilder_id)
        .sort(),
      [...cols].flatMap(([id, set]) => [...set].map((c) => `${id}.${c}`)).sort(),
      `${file}: columns`,
    )
    t.same(
      edges(out)
        .map(([f, to]) => `${f} -> ${to}`)
        .sort(),
      [...expectedEdges].sort(),
      `${file}: lineage edges`,
    )
    if (file.startsWith('fivetran')) {
      t.equal(tables.length, 211, 'fivetran: 211 relations')
      t.equal(report.counters['dbt.merged'], 56, 'fivetran: 56 seeds merged with their sources')
      t.equal(report.counters['dbt.catalog.unmatched'], undefined, 'fivetran: every catalog entry matched')
      const inCatalog = new Set(
        [...Object.entries(m.nodes), ...Object.entries(m.sources)].filter(([k]) => catalog?.tables.has(k)).map(([k]) => rel.get(k)),
      )
      const warehouseColumns = resources(out).filter(
        (r) => r.entity_type === 'column' && inCatalog.has(r.parent_databuilder_id!) && r.sort_order !== undefined,
      )
      t.ok(
        warehouseColumns.length > 2000 && warehouseColumns.every((c) => c.type !== undefined),
        'fivetran: catalog types and positions joined',
      )
    }
  }
})
