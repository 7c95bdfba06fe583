// Generates a dbt manifest.json (schema v12) shaped like a large real project, for
// bench/dbt-manifest.ts: thousands of models with documented columns and raw + compiled
// SQL, three tests per model, seeds of which some are re-declared as sources, ephemeral
// models, snapshots, sources, exposures, a large `macros` section, docs, disabled nodes and
// the parent/child maps. Written in pieces, so generating 1 GB needs little memory. It
// returns what a correct conversion must produce (tables, columns, lineage edges).

import { closeSync, openSync, writeSync } from 'node:fs'

/** What a correct conversion of the generated manifest yields. */
export interface GeneratedManifest {
  bytes: number
  models: number
  tables: number
  columns: number
  edges: number
  dashboards: number
}

/** A small deterministic PRNG (mulberry32), so runs compare. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = (
  'customer order revenue amount status created updated region account ticket pipeline stage owner ' +
  'company contact deal email campaign event property history daily monthly total count first last active ' +
  'deleted synced source relation identifier label category product price quantity discount tax currency'
).split(' ')
const TYPES = ['text', 'integer', 'bigint', 'numeric(38,6)', 'boolean', 'timestamp without time zone', 'date', 'character varying(256)']

/**
 * Write a manifest of about `targetBytes` to `file`. Proportions follow large real
 * manifests: ~60% nodes (models + tests), ~25% macros, the rest sources, maps, docs.
 */
export function generateManifest(file: string, targetBytes: number, seed = 1): GeneratedManifest {
  const rand = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ')
  const fd = openSync(file, 'w')
  let buf: string[] = []
  let pending = 0
  let bytes = 0
  const w = (s: string): void => {
    buf.push(s)
    pending += s.length
    if (pending > 1 << 22) flush()
  }
  const flush = (): void => {
    const b = Buffer.from(buf.join(''), 'utf8')
    writeSync(fd, b)
    bytes += b.length
    buf = []
    pending = 0
  }
  const written = (): number => bytes + pending

  const nodeBudget = targetBytes * 0.6
  const sourceCount = Math.max(10, Math.round(targetBytes / 200_000))
  const pairedSeeds = Math.max(2, Math.round(sourceCount / 10))
  const expected = { bytes: 0, models: 0, tables: 0, columns: 0, edges: 0, dashboards: 0 }
  const edges = new Set<string>()
  /** unique_id → relation key, or for ephemeral models the relation keys they stand for. */
  const rel = new Map<string, string>()
  const eph = new Map<string, string[]>()
  const parents = new Map<string, string[]>()
  const relOf = (uid: string): string[] => (rel.has(uid) ? [rel.get(uid)!] : (eph.get(uid) ?? []))
  const addEdges = (to: string, deps: string[]): void => {
    for (const d of deps) for (const f of relOf(d)) if (f !== to) edges.add(f + '>' + to)
  }

  const columns = (n: number, prefix: string): Record<string, unknown> => {
    const cols: Record<string, unknown> = {}
    for (let c = 0; c < n; c++) {
      const name = `${prefix}_${pick(WORDS)}_${c}`
      cols[name] = {
        name,
        description: rand() < 0.05 ? `The ${words(8)} — “${words(3)}” for the row.` : `The ${words(8)} - "${words(3)}" for the row.`,
        meta: {},
        data_type: rand() < 0.3 ? pick(TYPES) : null,
        constraints:
          c === 0
            ? [{ type: 'not_null', name: null, expression: null, warn_unenforced: true, warn_unsupported: true, to: null, to_columns: [] }]
            : [],
        quote: null,
        config: { meta: {}, tags: [] },
        tags: [],
        granularity: null,
        doc_blocks: [],
      }
    }
    return cols
  }
  const sql = (refs: string[], lines: number): string => {
    let s = 'with\n'
    refs.forEach((r, i) => {
      s += `src_${i} as (\n    select * from {{ ref('${r}') }}\n),\n`
    })
    s += 'final as (\n    select\n'
    for (let l = 0; l < lines; l++) s += `        "${pick(WORDS)}_${l}" as ${pick(WORDS)}_${l}, -- ${words(4)}\n`
    s += rand() < 0.1 ? '        \'naïve \\\\ "quoted" 日本\' as note\n' : '        \'plain \\\\ "quoted"\' as note\n'
    s += '    from src_0\n)\nselect * from final\n'
    return s
  }
  const config = (materialized: string): Record<string, unknown> => ({
    enabled: true,
    alias: null,
    schema: 'marts',
    database: null,
    tags: [],
    meta: {},
    group: null,
    materialized,
    incremental_strategy: null,
    batch_size: null,
    lookback: 1,
    begin: null,
    persist_docs: {},
    'post-hook': [],
    'pre-hook': [],
    quoting: {},
    column_types: {},
    full_refresh: null,
    unique_key: null,
    on_schema_change: 'ignore',
    on_configuration_change: 'apply',
    grants: {},
    packages: [],
    docs: { show: true, node_color: null },
    contract: { enforced: false, alias_types: true },
    event_time: null,
    concurrent_batches: null,
    access: 'protected',
    freshness: null,
  })
  const base = (kind: string, name: string, path: string): Record<string, unknown> => ({
    database: 'analytics',
    schema: 'dbt_prod',
    name,
    resource_type: kind,
    package_name: 'big_project',
    path,
    original_file_path: `models/${path}`,
    unique_id: `${kind}.big_project.${name}`,
    fqn: ['big_project', ...path.split('/')],
    alias: name,
    checksum: { name: 'sha256', checksum: (rand() * 1e17).toString(16).padEnd(64, 'a') },
  })

  w('{"metadata":')
  w(
    JSON.stringify({
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      dbt_version: '1.10.0',
      generated_at: '2026-01-01T00:00:00Z',
      invocation_id: 'bench',
      env: {},
      project_name: 'big_project',
      adapter_type: 'postgres',
    }),
  )

  // Sources first in generation (they are written after the nodes), so models can read them.
  const sources: string[] = []
  const sourceJson: string[] = []
  for (let s = 0; s < sourceCount; s++) {
    const table = s < pairedSeeds ? `seed_${s}` : `raw_${s}`
    const uid = `source.big_project.raw.${table}`
    sources.push(uid)
    const schema = s < pairedSeeds ? 'dbt_prod' : 'raw'
    rel.set(uid, `${schema}.${table}`)
    const n = 8 + Math.floor(rand() * 20)
    sourceJson.push(
      JSON.stringify(uid) +
        ':' +
        JSON.stringify({
          database: 'analytics',
          schema,
          name: table,
          resource_type: 'source',
          package_name: 'big_project',
          path: 'models/src.yml',
          original_file_path: 'models/src.yml',
          unique_id: uid,
          fqn: ['big_project', 'raw', table],
          source_name: 'raw',
          source_description: '',
          loader: 'fivetran',
          identifier: table,
          quoting: {},
          loaded_at_field: '_synced',
          freshness: null,
          external: null,
          description: `Raw ${words(6)}.`,
          columns: columns(n, 'c'),
          meta: null,
          source_meta: {},
          tags: [],
          config: { enabled: true },
          patch_path: null,
          unrendered_config: {},
          relation_name: `"analytics"."${schema}"."${table}"`,
          created_at: 1,
        }),
    )
    // A seed and the source reading it share columns: the union is the seed's n plus none new.
    if (s >= pairedSeeds) {
      expected.tables++
      expected.columns += n
    }
    parents.set(uid, [])
  }

  w(',"nodes":{')
  let first = true
  const entry = (uid: string, node: unknown): void => {
    w((first ? '' : ',') + JSON.stringify(uid) + ':' + JSON.stringify(node))
    first = false
  }
  // Seeds, paired with sources: the seed's columns are the source's.
  for (let s = 0; s < pairedSeeds; s++) {
    const name = `seed_${s}`
    const uid = `seed.big_project.${name}`
    rel.set(uid, `dbt_prod.${name}`)
    const srcCols = (JSON.parse(sourceJson[s]!.slice(sourceJson[s]!.indexOf(':') + 1)) as { columns: Record<string, unknown> }).columns
    entry(uid, {
      ...base('seed', name, `seeds/${name}.csv`),
      config: config('seed'),
      description: '',
      columns: srcCols,
      raw_code: '',
      depends_on: { macros: [] },
      meta: {},
    })
    expected.tables++
    expected.columns += Object.keys(srcCols).length
    parents.set(uid, [])
  }
  const models: string[] = []
  let m = 0
  while (written() < nodeBudget) {
    const name = `model_${m}`
    const ephemeral = m % 20 === 7
    const snapshot = m % 50 === 3
    const uid = `${snapshot ? 'snapshot' : 'model'}.big_project.${name}`
    const deps: string[] = []
    const ndeps = 1 + Math.floor(rand() * 3)
    for (let d = 0; d < ndeps; d++) {
      if (models.length < 5 || rand() < 0.3) deps.push(pick(sources))
      else deps.push(models[Math.floor(models.length * (0.5 + rand() * 0.5))]!)
    }
    const kind = snapshot ? 'snapshot' : 'model'
    const materialized = ephemeral ? 'ephemeral' : snapshot ? 'snapshot' : pick(['table', 'view', 'incremental'])
    const ncol = 15 + Math.floor(rand() * 25)
    const refs = deps.map((d) => d.split('.').pop()!)
    const raw = sql(refs, 10 + Math.floor(rand() * 30))
    const node = {
      ...base(kind, name, `marts/area_${m % 30}/${name}.sql`),
      config: config(materialized),
      tags: [],
      description: `Each record represents ${words(20)}.\nBuilt from ${refs.join(', ')}.`,
      columns: columns(ncol, 'col'),
      meta: {},
      group: null,
      docs: { show: true, node_color: null },
      patch_path: 'big_project://models/schema.yml',
      build_path: null,
      unrendered_config: { materialized },
      created_at: 1718000000.5,
      relation_name: `"analytics"."dbt_prod"."${name}"`,
      raw_code: raw,
      doc_blocks: [],
      language: 'sql',
      refs: refs.map((r) => ({ name: r, package: null, version: null })),
      sources: [],
      metrics: [],
      functions: [],
      depends_on: { macros: ['macro.dbt.is_incremental'], nodes: deps },
      compiled_path: `target/compiled/big_project/models/${name}.sql`,
      compiled: true,
      compiled_code: raw.replaceAll(/\{\{ ref\('([a-z_0-9]+)'\) \}\}/g, '"analytics"."dbt_prod"."$1"'),
      extra_ctes_injected: true,
      extra_ctes: [],
      contract: { enforced: false, alias_types: true, checksum: null },
      access: 'protected',
      constraints: [],
      version: null,
      latest_version: null,
      deprecation_date: null,
      primary_key: [`col_${pick(WORDS)}_0`],
      time_spine: null,
    }
    entry(uid, node)
    if (ephemeral) eph.set(uid, [...new Set(deps.flatMap(relOf))])
    else {
      rel.set(uid, `dbt_prod.${name}`)
      expected.tables++
      expected.models++
      expected.columns += Object.keys(node.columns).length
      addEdges(`dbt_prod.${name}`, deps)
    }
    models.push(uid)
    parents.set(uid, deps)
    for (let t = 0; t < 3; t++) {
      const tname = `not_null_${name}_col_${t}`
      entry(`test.big_project.${tname}.${t}abc`, {
        ...base('test', tname, `${tname}.sql`),
        config: { enabled: true, severity: 'ERROR', materialized: 'test' },
        raw_code: '{{ test_not_null(**_dbt_generic_test_kwargs) }}',
        compiled_code: `select col_${t}\nfrom "analytics"."dbt_prod"."${name}"\nwhere col_${t} is null\n`,
        test_metadata: {
          name: 'not_null',
          kwargs: { column_name: `col_${t}`, model: `{{ get_where_subquery(ref('${name}')) }}` },
          namespace: null,
        },
        column_name: `col_${t}`,
        file_key_name: `models.${name}`,
        attached_node: uid,
        depends_on: { macros: ['macro.dbt.test_not_null'], nodes: [uid] },
        description: '',
        columns: {},
        meta: {},
        tags: [],
        refs: [{ name, package: null, version: null }],
        sources: [],
      })
    }
    m++
  }
  w('},"sources":{' + sourceJson.join(',') + '}')

  w(',"macros":{')
  const macroBudget = written() + targetBytes * 0.25
  let k = 0
  while (written() < macroBudget) {
    const name = `macro_${k}`
    w(
      (k === 0 ? '' : ',') +
        JSON.stringify(`macro.big_project.${name}`) +
        ':' +
        JSON.stringify({
          name,
          resource_type: 'macro',
          package_name: 'big_project',
          path: `macros/${name}.sql`,
          original_file_path: `macros/${name}.sql`,
          unique_id: `macro.big_project.${name}`,
          macro_sql:
            `{% macro ${name}(relation, column_name) %}\n  {#-- ${words(30)} --#}\n  {%- set cols = adapter.get_columns_in_relation(relation) -%}\n` +
            Array.from(
              { length: 20 },
              (_, i) =>
                `  {%- if column_name == "${pick(WORDS)}_${i}" -%} {{ return("coalesce(" ~ column_name ~ ", '\\\\N')") }} {%- endif -%}\n`,
            ).join('') +
            '{% endmacro %}',
          depends_on: { macros: ['macro.dbt.default__get_columns'] },
          description: words(10),
          meta: {},
          docs: { show: true, node_color: null },
          patch_path: null,
          arguments: [{ name: 'relation', type: null, description: '' }],
          created_at: 1,
          supported_languages: null,
        }),
    )
    k++
  }
  w(
    '},"docs":{"doc.big_project.__overview__":' +
      JSON.stringify({ name: '__overview__', resource_type: 'doc', block_contents: words(200) }) +
      '}',
  )

  w(',"exposures":{')
  const nexp = Math.max(3, Math.round(models.length / 50))
  for (let e = 0; e < nexp; e++) {
    const uid = `exposure.big_project.dash_${e}`
    const deps = [models[Math.floor(rand() * models.length)]!, models[Math.floor(rand() * models.length)]!]
    w(
      (e === 0 ? '' : ',') +
        JSON.stringify(uid) +
        ':' +
        JSON.stringify({
          name: `dash_${e}`,
          resource_type: 'exposure',
          package_name: 'big_project',
          unique_id: uid,
          type: 'dashboard',
          owner: { email: 'bi@example.com', name: 'BI team' },
          description: words(12),
          label: `Dashboard ${e}`,
          maturity: 'high',
          meta: null,
          tags: [],
          url: `https://bi.example.com/d/${e}`,
          depends_on: { macros: [], nodes: deps },
          refs: [],
          sources: [],
        }),
    )
    addEdges(`dbt-exposure.big_project.dash_${e}`, deps)
    expected.dashboards++
  }
  w(
    '},"metrics":{},"groups":{},"selectors":{},"disabled":{"model.big_project.old":[' +
      JSON.stringify({ name: 'old', resource_type: 'model', config: { enabled: false } }) +
      ']}',
  )
  w(',"parent_map":{')
  let firstMap = true
  for (const [uid, ps] of parents) {
    w((firstMap ? '' : ',') + JSON.stringify(uid) + ':' + JSON.stringify(ps))
    firstMap = false
  }
  w('},"child_map":{')
  firstMap = true
  for (const [uid, ps] of parents) {
    w((firstMap ? '' : ',') + JSON.stringify(uid) + ':' + JSON.stringify(ps.slice().reverse()))
    firstMap = false
  }
  w('},"group_map":{},"saved_queries":{},"semantic_models":{},"unit_tests":{},"functions":{}}')
  flush()
  closeSync(fd)
  expected.bytes = bytes
  expected.edges = edges.size
  return expected
}
