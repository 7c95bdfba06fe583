// Benchmark: validate a generated resources.jsonl (3 million tables and columns,
// ~800 MB) with every reference check, against baselines run in the same benchmark:
//   - Python: json.loads per line plus a set of ids (the baseline of README "Benchmarks");
//   - Node:   split2 + JSON.parse + a Set of ids (for reference).
// Prints MB/s by wall clock and by CPU time (user+sys; steadier on a shared machine), the
// ratio to the Python baseline, peak RSS against the budget (100 MB + 64 bytes per id), and
// peak RSS for a ~100 MB input next to the ~800 MB one (memory must stay flat).
//
// Run: npm run build:bench && node dist-bench/bench/validate.js [--records 3000000] [--rounds 2]
// Input files are generated under bench/data/ (git-ignored) on first use.

import { existsSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateResources } from './gen-resources.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const dataDir = join(root, 'bench', 'data')
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : Number(process.argv[i + 1])
}
const RECORDS = arg('records', 3_000_000)
const ROUNDS = arg('rounds', 2)

interface Run {
  wall: number
  cpu: number
  maxRssMB: number
  extra?: Record<string, number>
}

const PYTHON = `
import json, sys, time, resource
t0 = time.time(); c0 = time.process_time()
ids = set()
with open(sys.argv[1], 'rb') as f:
    for line in f:
        r = json.loads(line)
        ids.add(r['databuilder_id'])
print(json.dumps({"wall": time.time() - t0, "cpu": time.process_time() - c0, "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "extra": {"ids": len(ids)}}))
`

function child(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Run
}

const runners: Record<string, (file: string) => Run> = {
  'python json.loads + set': (file) => child('python3', ['-c', PYTHON, file]),
  'node split2 + JSON.parse + Set': (file) => child(process.execPath, [join(here, 'validate-child.js'), 'split2', file]),
  'secoda-convert validate': (file) => child(process.execPath, [join(here, 'validate-child.js'), 'ours', file]),
}

async function ensure(records: number): Promise<string> {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, `resources-${records}.jsonl`)
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} ...\n`)
    await generateResources(file, records)
  }
  return file
}

const big = await ensure(RECORDS)
const small = await ensure(Math.round(RECORDS / 8))
const bigMB = statSync(big).size / 1e6
const smallMB = statSync(small).size / 1e6
const best: Record<string, Run> = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(runners)) {
    const r = run(big)
    process.stderr.write(
      `round ${round + 1} ${name}: ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s cpu, ${r.maxRssMB.toFixed(0)} MB\n`,
    )
    const b = best[name]
    best[name] =
      b === undefined
        ? r
        : { wall: Math.min(b.wall, r.wall), cpu: Math.min(b.cpu, r.cpu), maxRssMB: Math.max(b.maxRssMB, r.maxRssMB), extra: r.extra }
  }
}
const smallRun = runners['secoda-convert validate']!(small)
const base = best['python json.loads + set']!
const ours = best['secoda-convert validate']!
const ids = ours.extra?.ids ?? RECORDS
const budgetMB = 100 + (64 * ids) / 1e6
const lines = [
  `# validate benchmark — ${new Date().toISOString()}, node ${process.version}`,
  `input: ${bigMB.toFixed(0)} MB, ${RECORDS} records (best of ${ROUNDS} rounds)`,
  '',
  '| run | MB/s wall | MB/s cpu | × python (wall) | × python (cpu) | peak RSS MB |',
  '|---|---|---|---|---|---|',
  ...Object.entries(best).map(
    ([name, r]) =>
      `| ${name} | ${(bigMB / r.wall).toFixed(1)} | ${(bigMB / r.cpu).toFixed(1)} | ${(base.wall / r.wall).toFixed(2)} | ${(base.cpu / r.cpu).toFixed(2)} | ${r.maxRssMB.toFixed(0)} |`,
  ),
  '',
  `memory: peak RSS ${ours.maxRssMB.toFixed(0)} MB for ${ids} ids; budget 100 MB + 64 B/id = ${budgetMB.toFixed(0)} MB → ${ours.maxRssMB <= budgetMB ? 'within' : 'OVER'} budget`,
  `id index: ${((ours.extra?.indexBytes ?? 0) / 1e6).toFixed(0)} MB (${((ours.extra?.indexBytes ?? 0) / ids).toFixed(1)} B/id)`,
  `flat memory: ${smallMB.toFixed(0)} MB input → ${smallRun.maxRssMB.toFixed(0)} MB RSS (index ${((smallRun.extra?.indexBytes ?? 0) / 1e6).toFixed(0)} MB); ${bigMB.toFixed(0)} MB input → ${ours.maxRssMB.toFixed(0)} MB RSS (index ${((ours.extra?.indexBytes ?? 0) / 1e6).toFixed(0)} MB); difference less index: ${(ours.maxRssMB - (ours.extra?.indexBytes ?? 0) / 1e6 - (smallRun.maxRssMB - (smallRun.extra?.indexBytes ?? 0) / 1e6)).toFixed(0)} MB (target ≤ 50)`,
  `target: ≥ 1.5× python → ${(base.wall / ours.wall).toFixed(2)}× wall, ${(base.cpu / ours.cpu).toFixed(2)}× cpu`,
]
console.log(lines.join('\n'))
writeFileSync(join(root, 'bench', 'results-validate.md'), lines.join('\n') + '\n')
