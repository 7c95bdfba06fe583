import t from 'tap'
import { readFileSync } from 'node:fs'
import { isSecodaError, type SecodaError } from '../lib/errors.js'
import { Report } from '../lib/report.js'
import { DbtCatalogReader, compactCatalogEntry, readDbtCatalog } from '../transforms/dbt/catalog.js'
import { chunkings, chunksReadable, fixture } from './helpers.js'

const catalogFile = fixture('dbt', 'v1-snowflake-catalog', 'catalog.json')

function read(chunks: Buffer[], report = new Report()): DbtCatalogReader['catalog'] {
  const r = new DbtCatalogReader({ report, file: 'catalog.json' })
  const emitted: DbtCatalogReader['catalog'][] = []
  const emit = (c: DbtCatalogReader['catalog']): void => {
    emitted.push(c)
  }
  for (const c of chunks) r.push(c, emit)
  r.end(emit)
  if (emitted.length !== 1 || emitted[0] !== r.catalog) throw new Error('the reader emits its one index at the end')
  return r.catalog
}

function readError(text: string): SecodaError {
  try {
    read([Buffer.from(text)])
  } catch (e) {
    if (isSecodaError(e)) return e
    throw e
  }
  throw new Error('no error')
}

t.test('nodes and sources are indexed by unique_id, compacted, whatever the chunking', async (t) => {
  const buf = readFileSync(catalogFile)
  const whole = read([buf])
  t.same(
    [...whole.tables.keys()],
    ['model.shop.customers', 'model.shop.stg_customers', 'model.shop.dropped_model', 'source.shop.raw.customers'],
  )
  t.same(whole.tables.get('model.shop.customers'), {
    type: 'BASE TABLE',
    comment: 'Warehouse comment (dbt description wins).',
    relation: ['ANALYTICS', 'PUBLIC', 'CUSTOMERS'],
    names: ['CUSTOMER_ID', 'FIRST_NAME', 'CREATED_AT'],
    types: ['NUMBER', 'TEXT', 'TIMESTAMP_NTZ'],
    indexes: [1, 2, 3],
    comments: [undefined, 'From the warehouse.', 'Undocumented in dbt.'],
  })
  t.equal(whole.schemaVersion, 'v1')
  for (const [name, chunks] of chunkings(buf, 3)) t.same([...read(chunks).tables], [...whole.tables], name)
})

t.test('readDbtCatalog reads a stream; take() tracks what the manifest matched', async (t) => {
  const cat = await readDbtCatalog(chunksReadable([readFileSync(catalogFile)]), { report: new Report() })
  t.equal(cat.unmatched, 4)
  t.ok(cat.take('model.shop.customers'))
  t.equal(cat.take('model.shop.nope'), undefined)
  t.equal(cat.unmatched, 3)
})

t.test('odd entries: missing metadata, odd column values', async (t) => {
  t.same(compactCatalogEntry({ columns: { a: { index: 1.5, comment: '' }, b: null } }), {
    names: ['a', 'b'],
    types: [undefined, undefined],
    indexes: [undefined, undefined],
    comments: [undefined, undefined],
  })
})

t.test('a manifest given as catalog, or no nodes: DBT_WRONG_ARTIFACT; bad JSON: DBT_JSON', async (t) => {
  const e = readError('{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {}}')
  t.match(e, { code: 'DBT_WRONG_ARTIFACT', line: 1, message: /dbt manifest/ })
  t.match(readError('{"metadata": {}}'), { code: 'DBT_WRONG_ARTIFACT', message: /no "nodes"/ })
  t.match(readError('{"metadata": {"dbt_schema_version": "x"},\n"nodes": {"a": {"columns": {]}}}'), { code: 'DBT_JSON', line: 2 })
  const report = new Report({ maxErrors: 5 })
  const cat = read(
    [
      Buffer.from(
        '{"metadata": {"dbt_schema_version": "weird"},\n"nodes": {"model.a.b": {"columns": nul}, "model.a.c": 3, "model.a.d": {}}}',
      ),
    ],
    report,
  )
  t.same(
    report.diagnostics.map((d) => [d.code, d.severity, d.line]),
    [
      ['DBT_SCHEMA_VERSION', 'warning', 1],
      ['DBT_BAD_NODE', 'error', 2],
      ['DBT_BAD_NODE', 'error', 2],
    ],
  )
  t.match(report.diagnostics[1]?.message, /model\.a\.b: invalid JSON/)
  t.same([...cat.tables.keys()], ['model.a.d'])
})
