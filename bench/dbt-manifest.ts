// Benchmark: dbt manifest.json → resources.jsonl + lineage.jsonl, against JSON.parse.
//
//   npm run build:bench && node dist-bench/bench/dbt-manifest.js [--size-mb 1024] [--baseline-mb 400]
//
// Generates (once, kept in bench/data/, git-ignored) a manifest of --baseline-mb, which
// JSON.parse can still load, and one of --size-mb (default 1 GiB, which it cannot: V8's
// string limit is ~512 MiB). On the smaller file it times `JSON.parse(fs.readFileSync(f,
// 'utf8'))` alone and the full conversion (file stream → scanner → records → serialized
// JSONL on disk), each in its own child process so peak RSS is the run's own, and prints
// MB/s and the ratio. On the large file it converts, checks the result against what the
// generator wrote, prints MB/s and peak RSS, and shows that JSON.parse fails on it.
// Targets (README "Benchmarks"): ratio ≥ 1.5, peak RSS ≤ 200 MB.

import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync, createReadStream } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isLineage, serializeRecord, type SecodaRecord } from '../lib/records.js'
import { Report } from '../lib/report.js'
import { createDbtManifestStream } from '../transforms/dbt/manifest.js'
import { generateManifest, type GeneratedManifest } from './dbt-manifest-data.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..')
const dataDir = path.join(repo, 'bench', 'data')
const MB = 1024 * 1024

interface ChildResult {
  ok: boolean
  seconds: number
  /** CPU time (user + system): steadier than wall time on a shared machine. */
  cpu?: number
  maxRssMB: number
  error?: string
  counts?: { tables: number; columns: number; dashboards: number; edges: number }
}

/** Child: JSON.parse alone. */
function childParse(file: string): ChildResult {
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { nodes: object }
    if (typeof m.nodes !== 'object') throw new Error('no nodes')
  } catch (e) {
    return {
      ok: false,
      seconds: 0,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      error: `${(e as Error).name}: ${(e as Error).message}`,
    }
  }
  return {
    ok: true,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    cpu: cpuSince(c0),
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }
}

function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1e6
}

/**
 * Child: the conversion. `jsonl`: records serialized (lib/records.ts) and written as
 * resources.jsonl + lineage.jsonl; `records`: the dbt source alone (records counted, then
 * dropped), to tell its cost from the serializer's and the disk's.
 */
async function childConvert(file: string, write: boolean): Promise<ChildResult> {
  const out = path.join(dataDir, 'out')
  mkdirSync(out, { recursive: true })
  const fr = openSync(path.join(out, 'resources.jsonl'), 'w')
  const fl = openSync(path.join(out, 'lineage.jsonl'), 'w')
  const counts = { tables: 0, columns: 0, dashboards: 0, edges: 0 }
  let rs = ''
  let ls = ''
  const flushOut = (): void => {
    if (rs.length > 0) writeSync(fr, rs)
    if (ls.length > 0) writeSync(fl, ls)
    rs = ''
    ls = ''
  }
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  const report = new Report()
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1024,
    writev(chunks: { chunk: SecodaRecord }[], cb) {
      for (const { chunk: r } of chunks) {
        if (isLineage(r)) {
          counts.edges++
          if (write) ls += serializeRecord(r) + '\n'
        } else {
          if (r.entity_type === 'table') counts.tables++
          else if (r.entity_type === 'column') counts.columns++
          else if (r.entity_type === 'dashboard') counts.dashboards++
          if (write) rs += serializeRecord(r) + '\n'
        }
      }
      if (rs.length + ls.length > 1 << 20) flushOut()
      cb()
    },
  })
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createDbtManifestStream({ report, file }), sink)
  flushOut()
  closeSync(fr)
  closeSync(fl)
  return {
    ok: true,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    cpu: cpuSince(c0),
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    counts,
  }
}

/**
 * The whole CLI as users run it: `node dist/bin/secoda-convert.js dbt <file>` with JSONL on
 * stdout (to /dev/null here) — the input layer, the dbt source, the validator with its id
 * index, the JSONL writer and the bin's start-up. Peak RSS and CPU come from the child's own
 * process.resourceUsage() at exit (an --import hook prints them on stderr); the counts from
 * its summary line.
 */
function childCli(file: string): ChildResult {
  const bin = path.join(here, '..', 'bin', 'secoda-convert.js')
  const hook =
    'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nBENCH "+JSON.stringify({rss:u.maxRSS,cpu:(u.userCPUTime+u.systemCPUTime)/1e6})+"\\n")})'
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, ['--import', hook, bin, 'dbt', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 20,
  })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const m = /\nBENCH (\{.*\})/.exec(r.stderr)
  if (r.status !== 0 || m === null)
    return {
      ok: false,
      seconds: 0,
      maxRssMB: 0,
      error: `cli failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    }
  const u = JSON.parse(m[1]!) as { rss: number; cpu: number }
  const n = (what: string): number => Number(new RegExp(`(\\d+) ${what}[,;]`).exec(r.stderr)?.[1] ?? -1)
  const counts = { tables: n('tables?'), columns: n('columns?'), dashboards: n('dashboards?'), edges: n('lineage edges?') }
  return { ok: true, seconds, cpu: u.cpu, maxRssMB: u.rss / 1024, counts }
}

function runChild(mode: string, file: string): ChildResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as ChildResult
  } catch {
    return {
      ok: false,
      seconds: 0,
      maxRssMB: 0,
      error: `child failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    }
  }
}

function dataset(sizeMB: number): { file: string; expected: GeneratedManifest } {
  mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, `dbt-manifest-${sizeMB}mb.json`)
  const meta = file + '.expected.json'
  if (existsSync(file) && existsSync(meta) && statSync(file).size === (JSON.parse(readFileSync(meta, 'utf8')) as GeneratedManifest).bytes) {
    return { file, expected: JSON.parse(readFileSync(meta, 'utf8')) as GeneratedManifest }
  }
  process.stderr.write(`generating ${file} ...\n`)
  const expected = generateManifest(file, sizeMB * MB)
  writeFileSync(meta, JSON.stringify(expected))
  return { file, expected }
}

function check(name: string, got: ChildResult, exp: GeneratedManifest): boolean {
  const c = got.counts
  const ok =
    got.ok &&
    c !== undefined &&
    c.tables === exp.tables &&
    c.columns === exp.columns &&
    c.edges === exp.edges &&
    c.dashboards === exp.dashboards
  if (!ok) console.log(`  ${name}: RESULT MISMATCH got ${JSON.stringify(c ?? got.error)} expected ${JSON.stringify(exp)}`)
  return ok
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  if (args[0] === '--child') {
    const res = args[1] === 'parse' ? childParse(args[2]!) : await childConvert(args[2]!, args[1] === 'jsonl')
    console.log(JSON.stringify(res))
    return
  }
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) : def
  }
  const bigMB = opt('--size-mb', 1024)
  const baseMB = opt('--baseline-mb', 400)
  const small = dataset(baseMB)
  const big = dataset(bigMB)
  const mbs = (bytes: number, s: number): string => (bytes / MB / s).toFixed(1)
  let ok = true

  console.log(`dbt manifest benchmark (node ${process.version})`)
  const sMB = small.expected.bytes / MB
  console.log(
    `\n${small.file}: ${sMB.toFixed(0)} MB, ${small.expected.models} models, ${small.expected.tables} tables, ${small.expected.columns} columns, ${small.expected.edges} edges`,
  )
  const parse = runChild('parse', small.file)
  const recs = runChild('records', small.file)
  const conv = runChild('jsonl', small.file)
  const cli = childCli(small.file)
  ok = check('records', recs, small.expected) && ok
  ok = check('jsonl', conv, small.expected) && ok
  ok = check('cli', cli, small.expected) && ok
  if (!parse.ok) console.log(`  JSON.parse failed: ${parse.error}`)
  const line = (name: string, bytes: number, r: ChildResult, extra = ''): void => {
    console.log(
      `  ${name.padEnd(26)} ${mbs(bytes, r.seconds).padStart(7)} MB/s wall ${r.seconds.toFixed(2).padStart(6)} s  ${mbs(bytes, r.cpu ?? NaN).padStart(7)} MB/s cpu ${(r.cpu ?? NaN).toFixed(2).padStart(6)} s  peak RSS ${r.maxRssMB.toFixed(0)} MB${extra}`,
    )
  }
  line('JSON.parse(readFileSync)', small.expected.bytes, parse)
  line('dbt → records', small.expected.bytes, recs)
  line('dbt → JSONL files', small.expected.bytes, conv)
  line('CLI pipeline (+validate)', small.expected.bytes, cli)
  const ratioOf = (r: ChildResult): string =>
    `${(parse.seconds / r.seconds).toFixed(2)}x wall, ${((parse.cpu ?? NaN) / (r.cpu ?? NaN)).toFixed(2)}x cpu`
  const ratio = parse.seconds / recs.seconds
  console.log(`  speed vs JSON.parse: records ${ratioOf(recs)}; JSONL files ${ratioOf(conv)}; CLI pipeline ${ratioOf(cli)} (target >= 1.5)`)

  const bMB = big.expected.bytes / MB
  console.log(
    `\n${big.file}: ${bMB.toFixed(0)} MB, ${big.expected.models} models, ${big.expected.tables} tables, ${big.expected.columns} columns, ${big.expected.edges} edges`,
  )
  const bigRecs = runChild('records', big.file)
  const bigConv = runChild('jsonl', big.file)
  const bigCli = childCli(big.file)
  ok = check('records', bigRecs, big.expected) && ok
  ok = check('jsonl', bigConv, big.expected) && ok
  ok = check('cli', bigCli, big.expected) && ok
  line('dbt → records', big.expected.bytes, bigRecs, ' (target <= 200)')
  line('dbt → JSONL files', big.expected.bytes, bigConv, ' (target <= 200)')
  line('CLI pipeline (+validate)', big.expected.bytes, bigCli, ' (target <= 200)')
  console.log(
    `  speed vs JSON.parse on the ${sMB.toFixed(0)} MB file: JSONL files ${(big.expected.bytes / bigConv.seconds / (small.expected.bytes / parse.seconds)).toFixed(2)}x wall, ${(big.expected.bytes / (bigConv.cpu ?? NaN) / (small.expected.bytes / (parse.cpu ?? NaN))).toFixed(2)}x cpu; CLI pipeline ${(big.expected.bytes / bigCli.seconds / (small.expected.bytes / parse.seconds)).toFixed(2)}x wall, ${(big.expected.bytes / (bigCli.cpu ?? NaN) / (small.expected.bytes / (parse.cpu ?? NaN))).toFixed(2)}x cpu`,
  )
  if (bMB > 512) {
    const bigParse = runChild('parse', big.file)
    console.log(
      `  JSON.parse(readFileSync) on it: ${bigParse.ok ? `succeeded (${bigParse.seconds.toFixed(1)} s)` : `fails: ${bigParse.error}`}`,
    )
  }
  const rss = Math.max(recs.maxRssMB, conv.maxRssMB, cli.maxRssMB, bigRecs.maxRssMB, bigConv.maxRssMB, bigCli.maxRssMB)
  console.log(
    `  CLI pipeline peak RSS ${bigCli.maxRssMB.toFixed(0)} MB (the whole secoda-convert dbt run, the validator's id index for every resource included; node alone: ~67 MB)`,
  )
  const pass = ok && ratio >= 1.5 && rss <= 200
  console.log(
    `\n${pass ? 'PASS' : 'FAIL'}: results ${ok ? 'match' : 'DO NOT match'} the generator; records ratio ${ratio.toFixed(2)} (wall); peak RSS ${rss.toFixed(0)} MB`,
  )
  if (!pass) process.exitCode = 1
}

await main()
