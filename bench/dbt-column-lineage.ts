// Benchmark: `secoda-convert dbt --column-lineage` on a generated project, against the same
// conversion without lineage and against sqlglot computing the same lineage.
//
//   npx tsc -p . && node dist/bench/dbt-column-lineage.js [--models 600] [--runs 3]
//
// Generates (in bench/data/, git-ignored) a PostgreSQL project of --models models with
// real-shaped compiled SQL — staging models (CTE over `select *` from a source, renames,
// casts, CASE), intermediate models (two upstream models joined, aliased columns,
// COALESCE, window functions, `select *` from a CTE), marts (UNION ALL, aggregates) — and
// its catalog, keeping the edges each model's SQL implies. Then, each in its own process
// (timed with /usr/bin/time: wall, user + system CPU, peak RSS), --runs times each:
//   1. the CLI without lineage, 2. the CLI with --column-lineage,
//   3. scripts/sqlglot-lineage.py (Debian's python3-sqlglot) on the same SQL and schema.
// Checks our edges against the generator's and against sqlglot's (precision, recall).
// docs/dbt.md, "Column lineage", has the figures.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { comparableEdges, compareEdges, findSqlglotPython, runSqlglot, sqlglotEdges, sqlglotRequest } from './sqlglot-lineage.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..')
const cli = path.join(repo, 'dist', 'bin', 'secoda-convert.js')
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const MODELS = arg('models', 600)
const RUNS = arg('runs', 3)

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(42)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
const WORDS = [
  'account',
  'amount',
  'balance',
  'campaign',
  'channel',
  'city',
  'code',
  'country',
  'currency',
  'device',
  'discount',
  'email',
  'event',
  'fee',
  'invoice',
  'item',
  'label',
  'method',
  'note',
  'owner',
  'plan',
  'price',
  'quantity',
  'region',
  'score',
  'segment',
  'source',
  'stage',
  'status',
  'tax',
  'tier',
  'total',
  'type',
  'value',
  'vendor',
]

interface Rel {
  uid: string
  name: string
  schema: string
  cols: string[]
  /** output column → `rel.col` it is computed from */
  edges: Map<string, Set<string>>
  sql?: string
  deps: string[]
}

const relName = (r: Rel): string => `analytics.${r.schema}.${r.name}`
const quoted = (r: Rel): string => `"analytics"."${r.schema}"."${r.name}"`

function generate(): Rel[] {
  const sources: Rel[] = []
  const models: Rel[] = []
  const nSources = Math.max(10, Math.round(MODELS * 0.13))
  for (let i = 0; i < nSources; i++) {
    const cols = ['id', '_loaded_at', '_deleted']
    const n = 8 + Math.floor(rand() * 22)
    for (let c = 0; c < n; c++) cols.push(`${pick(WORDS)}_${c}`)
    sources.push({ uid: `source.bench.raw.src_${i}`, name: `src_${i}`, schema: 'raw', cols, edges: new Map(), deps: [] })
  }
  // staging: one per source
  for (const s of sources) {
    const name = `stg_${s.name.slice(4)}`
    const edges = new Map<string, Set<string>>()
    const lines: string[] = []
    const add = (expr: string, out: string, from: string[]): void => {
      lines.push(expr === out ? out : `${expr} as ${out}`)
      edges.set(out, new Set(from.map((f) => `${relName(s)}.${f}`)))
    }
    add('id', `${name}_id`, ['id'])
    for (const c of s.cols.slice(3)) {
      const r = rand()
      if (r < 0.4) add(c, c, [c])
      else if (r < 0.6) add(`cast(${c} as varchar)`, c, [c])
      else if (r < 0.75) add(`lower(trim(${c}))`, `${c}_clean`, [c])
      else if (r < 0.9) add(`case when ${c} is null then 'unknown' else ${c}::text end`, c, [c])
      else add(`${c}::numeric(18, 2) * 100`, `${c}_cents`, [c])
    }
    add('_loaded_at', 'loaded_at', ['_loaded_at'])
    const sql = `with source as (\n\n    select * from ${quoted(s)}\n\n),\n\nrenamed as (\n\n    select\n        ${lines.join(',\n        ')}\n    from source\n    where not _deleted\n\n)\n\nselect * from renamed\n`
    models.push({ uid: `model.bench.${name}`, name, schema: 'dbt', cols: [...edges.keys()], edges, sql, deps: [s.uid] })
  }
  const nMarts = Math.round(MODELS * 0.2)
  const nInts = MODELS - models.length - nMarts
  for (let i = 0; i < nInts; i++) {
    const a = models[Math.floor(models.length * (0.3 + rand() * 0.7))]!
    let b = pick(models)
    if (b === a) b = models[0] === a ? models[1]! : models[0]!
    const name = `int_${i}`
    const edges = new Map<string, Set<string>>()
    const lines: string[] = []
    const src = (r: Rel, c: string): Set<string> => new Set([`${relName(r)}.${c}`])
    const key = a.cols[0]!
    const order = a.cols[a.cols.length - 1]!
    const computed = new Set(['merged_value', 'partition_count', 'rn'])
    const aCols = a.cols.filter((c) => !computed.has(c) && rand() < 0.6)
    for (const c of aCols) {
      lines.push(`a.${c}`)
      edges.set(c, src(a, c))
    }
    const bCols = b.cols.filter(() => rand() < 0.3).slice(0, 8)
    for (const c of bCols) {
      const out = `${b.name}_${c}`
      if (edges.has(out)) continue
      lines.push(rand() < 0.5 ? `b.${c} as ${out}` : `b."${c}" as "${out}"`)
      edges.set(out, src(b, c))
    }
    const m1 = pick(a.cols)
    const m2 = pick(b.cols)
    lines.push(`coalesce(a.${m1}::text, b.${m2}::text) as merged_value`)
    edges.set('merged_value', new Set([`${relName(a)}.${m1}`, `${relName(b)}.${m2}`]))
    lines.push(`count(a.${m1}) over (partition by a.${key}) as partition_count`)
    edges.set('partition_count', new Set([`${relName(a)}.${m1}`, `${relName(a)}.${key}`]))
    lines.push(`row_number() over (partition by a.${key} order by a.${order} desc) as rn`)
    edges.set('rn', new Set([`${relName(a)}.${key}`, `${relName(a)}.${order}`]))
    const sql = `with a as (\n    select * from ${quoted(a)}\n),\nb as (\n    select * from ${quoted(b)}\n),\njoined as (\n    select\n        ${lines.join(',\n        ')}\n    from a\n    left join b on a.${key} = b.${b.cols[0]}\n)\n\nselect * from joined\nwhere rn = 1\n`
    models.push({ uid: `model.bench.${name}`, name, schema: 'dbt', cols: [...edges.keys()], edges, sql, deps: [a.uid, b.uid] })
  }
  for (let i = 0; i < nMarts; i++) {
    const name = `mart_${i}`
    const edges = new Map<string, Set<string>>()
    const x = models[Math.floor(models.length * (0.4 + rand() * 0.6))]!
    let sql: string
    let deps: string[]
    if (i % 2 === 0) {
      const y = pick(models)
      const n = Math.min(x.cols.length, y.cols.length, 6)
      const xs = x.cols.slice(0, n)
      const ys = y.cols.slice(0, n)
      sql = `select ${xs.map((c, k) => `${c} as col_${k}`).join(', ')}, '${x.name}' as origin\nfrom ${quoted(x)}\n\nunion all\n\nselect ${ys.join(', ')}, '${y.name}'\nfrom ${quoted(y)}\n`
      for (let k = 0; k < n; k++) edges.set(`col_${k}`, new Set([`${relName(x)}.${xs[k]}`, `${relName(y)}.${ys[k]}`]))
      edges.set('origin', new Set())
      deps = [x.uid, y.uid]
    } else {
      const k = x.cols[0]!
      const m = pick(x.cols.slice(1))
      sql = `select\n    ${k},\n    count(*) as row_count,\n    sum(case when ${m} is not null then 1 else 0 end) as filled_${m},\n    max(${m}) as last_${m}\nfrom ${quoted(x)}\ngroup by 1\n`
      edges.set(k, new Set([`${relName(x)}.${k}`]))
      edges.set('row_count', new Set())
      edges.set(`filled_${m}`, new Set([`${relName(x)}.${m}`]))
      edges.set(`last_${m}`, new Set([`${relName(x)}.${m}`]))
      deps = [x.uid]
    }
    models.push({ uid: `model.bench.${name}`, name, schema: 'dbt', cols: [...edges.keys()], edges, sql, deps })
  }
  return [...sources, ...models]
}

/** Write manifest.json and catalog.json; nodes in an order that is not the dependency order (as dbt's). */
function write(rels: Rel[], dir: string): void {
  const nodes: Record<string, unknown> = {}
  const sources: Record<string, unknown> = {}
  const catNodes: Record<string, unknown> = {}
  const catSources: Record<string, unknown> = {}
  const shuffled = [...rels].sort(() => rand() - 0.5)
  for (const r of shuffled) {
    const catalog = {
      unique_id: r.uid,
      metadata: { type: 'BASE TABLE', database: 'analytics', schema: r.schema, name: r.name, comment: null, owner: 'dbt' },
      columns: Object.fromEntries(r.cols.map((c, i) => [c, { type: 'text', index: i + 1, name: c, comment: null }])),
      stats: {},
    }
    if (r.sql === undefined) {
      sources[r.uid] = {
        unique_id: r.uid,
        resource_type: 'source',
        database: 'analytics',
        schema: r.schema,
        name: r.name,
        identifier: r.name,
        source_name: 'raw',
        package_name: 'bench',
        description: 'A raw table.',
        columns: { id: { name: 'id', description: 'Primary key.' } },
      }
      catSources[r.uid] = catalog
    } else {
      nodes[r.uid] = {
        unique_id: r.uid,
        resource_type: 'model',
        database: 'analytics',
        schema: r.schema,
        name: r.name,
        alias: r.name,
        package_name: 'bench',
        config: { materialized: 'table' },
        description: `Model ${r.name}.`,
        columns: {},
        depends_on: { nodes: r.deps, macros: [] },
        raw_code: r.sql.replaceAll(/"analytics"\."(?:dbt|raw)"\."([a-z_0-9]+)"/g, "{{ ref('$1') }}"),
        compiled_code: r.sql,
        compiled: true,
      }
      catNodes[r.uid] = catalog
    }
  }
  const manifest = {
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json', dbt_version: '1.9.0', adapter_type: 'postgres' },
    nodes,
    sources,
    macros: {},
    exposures: {},
  }
  const catalog = {
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/catalog/v1.json', dbt_version: '1.9.0' },
    nodes: catNodes,
    sources: catSources,
    errors: null,
  }
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1))
  writeFileSync(path.join(dir, 'catalog.json'), JSON.stringify(catalog, null, 1))
}

interface Timed {
  seconds: number
  cpu: number
  maxRssMB: number
  stderr: string
}

function timed(cmd: string, args: string[]): Timed {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  const lines = r.stderr.trim().split('\n')
  const [user, sys, rss] = lines.pop()!.split(' ').map(Number) as [number, number, number]
  return { seconds, cpu: user + sys, maxRssMB: rss / 1024, stderr: lines.join('\n') }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function main(): void {
  const dir = path.join(repo, 'bench', 'data', `dbt-column-lineage-${MODELS}`)
  mkdirSync(dir, { recursive: true })
  const rels = generate()
  write(rels, dir)
  const models = rels.filter((r) => r.sql !== undefined)
  const expected = new Set<string>()
  for (const m of models) for (const [to, froms] of m.edges) for (const f of froms) expected.add(`${f} -> ${relName(m)}.${to}`)
  const manifest = path.join(dir, 'manifest.json')
  const catalog = path.join(dir, 'catalog.json')
  const sizeKB = (readFileSync(manifest).length / 1024).toFixed(0)
  console.log(
    `generated ${models.length} models, ${rels.length - models.length} sources, ${expected.size} column edges implied; manifest ${sizeKB} KB`,
  )

  const python = findSqlglotPython()
  const req = sqlglotRequest(JSON.parse(readFileSync(manifest, 'utf8')), JSON.parse(readFileSync(catalog, 'utf8')))
  const out = path.join(dir, 'out')
  const runs: Record<string, Timed[]> = { plain: [], lineage: [], sqlglot: [] }
  let sg: ReturnType<typeof runSqlglot> | undefined
  for (let i = 0; i < RUNS; i++) {
    rmSync(out, { recursive: true, force: true })
    runs['plain']!.push(timed('node', [cli, 'dbt', manifest, '--catalog', catalog, '--out-dir', out, '-q']))
    rmSync(out, { recursive: true, force: true })
    runs['lineage']!.push(timed('node', [cli, 'dbt', manifest, '--catalog', catalog, '--column-lineage', '--out-dir', out, '-q']))
    if (python !== undefined) {
      sg = runSqlglot(python, req)
      runs['sqlglot']!.push({ seconds: sg.seconds, cpu: sg.cpu, maxRssMB: sg.maxRssMB, stderr: '' })
    }
  }
  // our edges from the last lineage run
  const ids = (line: string): string[] => [...line.matchAll(/"databuilder_id":"([^"]+)"/g)].map((m) => m[1]!)
  const columns = new Set<string>()
  for (const line of readFileSync(path.join(out, 'resources.jsonl'), 'utf8').split('\n'))
    if (line.includes('"entity_type":"column"')) columns.add(ids(line)[0]!)
  const ours = new Set<string>()
  for (const line of readFileSync(path.join(out, 'lineage.jsonl'), 'utf8').split('\n')) {
    const [from, to] = ids(line)
    if (from !== undefined && to !== undefined && columns.has(to)) ours.add(`${from} -> ${to}`)
  }
  const vsGen = compareEdges(ours, expected)
  console.log(
    `ours vs the generator: ${ours.size} edges, ${vsGen.both} expected ones; precision ${vsGen.precision.toFixed(4)}, recall ${vsGen.recall.toFixed(4)}`,
  )
  for (const e of vsGen.onlyOurs.slice(0, 5)) console.log(`  only ours: ${e}`)
  for (const e of vsGen.onlyTheirs.slice(0, 5)) console.log(`  missing:   ${e}`)

  const row = (name: string, xs: Timed[]): void => {
    if (xs.length === 0) return
    const s = median(xs.map((x) => x.seconds))
    const c = median(xs.map((x) => x.cpu))
    console.log(
      `${name.padEnd(34)} wall ${s.toFixed(2)} s  cpu ${c.toFixed(2)} s  (${((c * 1000) / models.length).toFixed(2)} ms CPU/model)  peak RSS ${median(xs.map((x) => x.maxRssMB)).toFixed(0)} MB`,
    )
  }
  console.log(`medians of ${RUNS} runs, ${models.length} models:`)
  row('dbt → JSONL, no lineage', runs['plain']!)
  row('dbt → JSONL, --column-lineage', runs['lineage']!)
  row('sqlglot (qualify + scope, 1 pass)', runs['sqlglot']!)
  const lineageCpu = median(runs['lineage']!.map((x) => x.cpu)) - median(runs['plain']!.map((x) => x.cpu))
  console.log(`lineage alone (with − without): ${((lineageCpu * 1000) / models.length).toFixed(2)} ms CPU/model`)
  if (sg !== undefined) {
    const sgCpu = median(runs['sqlglot']!.map((x) => x.cpu))
    const sgWall = median(runs['sqlglot']!.map((x) => x.seconds))
    const ourWall = median(runs['lineage']!.map((x) => x.seconds))
    const ourCpu = median(runs['lineage']!.map((x) => x.cpu))
    console.log(`whole CLI with lineage vs sqlglot: ${(sgWall / ourWall).toFixed(2)}× wall, ${(sgCpu / ourCpu).toFixed(2)}× CPU faster`)
    const theirs = sqlglotEdges(sg.results, req, columns)
    const c = compareEdges(comparableEdges(ours, sg.results, req), theirs)
    const failed = [...sg.results.values()].filter((r) => r.error !== undefined).length
    console.log(
      `ours vs sqlglot (${sg.results.size - failed} models it resolved, ${failed} it failed on): precision ${c.precision.toFixed(4)}, recall ${c.recall.toFixed(4)}`,
    )
    for (const e of c.onlyOurs.slice(0, 3)) console.log(`  only ours:      ${e}`)
    for (const e of c.onlyTheirs.slice(0, 3)) console.log(`  only sqlglot's: ${e}`)
  } else console.log('sqlglot: no python3 with sqlglot (apt-get install python3-sqlglot): not compared')
  if (!existsSync(cli)) throw new Error('build first')
}

main()
