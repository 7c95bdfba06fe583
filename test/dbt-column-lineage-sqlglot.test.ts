// Column lineage against a second opinion: sqlglot (Debian's python3-sqlglot; skipped when
// no Python on the machine imports sqlglot) given the same compiled SQL and catalog schema.
// Differences are printed; the totals must reach recall ≥ 0.95 and precision ≥ 0.97.

import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type LineageEdge, type Resource, type SecodaRecord, isLineage } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { DbtCatalogReader } from '../transforms/dbt/catalog.js'
import { DbtManifestConverter } from '../transforms/dbt/manifest.js'
import { loadSqlParser } from '../transforms/dbt/sql-lineage.js'
import { comparableEdges, compareEdges, findSqlglotPython, runSqlglot, sqlglotEdges, sqlglotRequest } from '../bench/sqlglot-lineage.js'
import { fixture, root } from './helpers.js'

const python = findSqlglotPython()
const samples = [resolve(root, '..', 'shared', 'samples', 'dbt'), resolve(root, '..', '..', 'shared', 'samples', 'dbt')].find((d) =>
  existsSync(d),
)

const CASES: [string, string, string][] = ['postgres', 'snowflake', 'bigquery', 'redshift', 'duckdb', 'spark'].map((d) => [
  `fixture lineage-${d}`,
  fixture('dbt', `lineage-${d}`, 'manifest.json'),
  fixture('dbt', `lineage-${d}`, 'catalog.json'),
])
if (samples !== undefined) {
  CASES.push([
    'sample fivetran_hubspot',
    join(samples, 'fivetran_hubspot-manifest-v12-dbt1.11.11.json'),
    join(samples, 'fivetran_hubspot-catalog-v1-dbt1.11.11.json'),
  ])
}

function ours(manifest: string, catalogFile: string): { edges: Set<string>; columns: Set<string> } {
  const report = new Report({ maxErrors: 1 })
  const r = new DbtCatalogReader({ report, file: catalogFile })
  r.push(readFileSync(catalogFile), () => {})
  r.end(() => {})
  const records: SecodaRecord[] = []
  const emit = (r: SecodaRecord): void => {
    records.push(r)
  }
  const c = new DbtManifestConverter({ report, catalog: r.catalog, columnLineage: {} })
  c.push(readFileSync(manifest), emit)
  for (const e of c.end(emit)) records.push(e)
  const columns = new Set(records.filter((x): x is Resource => !isLineage(x) && x.entity_type === 'column').map((x) => x.databuilder_id))
  const id = (e: LineageEdge, k: 'from_identifier' | 'to_identifier'): string => (e[k] as { databuilder_id: string }).databuilder_id
  const edges = new Set(
    records
      .filter(isLineage)
      .filter((e) => columns.has(id(e, 'to_identifier')))
      .map((e) => `${id(e, 'from_identifier')} -> ${id(e, 'to_identifier')}`),
  )
  return { edges, columns }
}

t.test(
  'column edges agree with sqlglot',
  { skip: python === undefined ? 'no python3 with sqlglot (apt-get install python3-sqlglot)' : false },
  async (t) => {
    await loadSqlParser()
    let both = 0
    let oursTotal = 0
    let theirsTotal = 0
    for (const [name, manifest, catalog] of CASES) {
      const mine = ours(manifest, catalog)
      const req = sqlglotRequest(JSON.parse(readFileSync(manifest, 'utf8')), JSON.parse(readFileSync(catalog, 'utf8')))
      // sqlglot takes ~50 ms a model: a sample's first 50 keep the test short (the bench compares all)
      req.models = req.models.slice(0, 50)
      const { results } = runSqlglot(python!, req)
      const theirs = sqlglotEdges(results, req, mine.columns)
      const comparable = comparableEdges(mine.edges, results, req)
      const c = compareEdges(comparable, theirs)
      const failed = [...results.values()].filter((r) => r.error !== undefined)
      t.comment(
        `${name}: ${comparable.size} edges ours, ${theirs.size} sqlglot's, precision ${c.precision.toFixed(3)}, recall ${c.recall.toFixed(3)}; sqlglot failed on ${failed.length} of ${results.size} models`,
      )
      for (const f of failed) t.comment(`  sqlglot: ${f.id}: ${f.error?.split('\n')[0]}`)
      for (const e of c.onlyOurs) t.comment(`  only ours: ${e}`)
      for (const e of c.onlyTheirs) t.comment(`  only sqlglot's: ${e}`)
      both += c.both
      oursTotal += comparable.size
      theirsTotal += theirs.size
    }
    const precision = both / oursTotal
    const recall = both / theirsTotal
    // the fixtures alone give ~40 comparable edges; the optional HubSpot sample beside the
    // repository adds ~1,600
    const enough = samples === undefined ? 30 : 100
    t.ok(oursTotal > enough, `enough edges compared to mean something (> ${enough})`)
    t.comment(`all: ${oursTotal} edges ours, ${theirsTotal} sqlglot's: precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`)
    t.ok(precision >= 0.97, `precision ${precision.toFixed(3)} ≥ 0.97`)
    t.ok(recall >= 0.95, `recall ${recall.toFixed(3)} ≥ 0.95`)
  },
)
