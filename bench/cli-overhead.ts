// Benchmark: what the CLI's extras cost on the dbt and validate benchmarks' inputs: progress
// (forced with --progress, redrawn in a pseudo-terminal made by script(1) when it is there)
// and --report (the HTML report), each against the same command with neither, in the same
// run, alternating so that the shared machine's noise falls on both alike.
//
//   npx tsc -p . && node dist/bench/cli-overhead.js [--manifest-mb 100] [--records 300000] [--rounds 3] [--skip-report]
//
// Inputs are generated under bench/data/ (git-ignored) with the dbt and validate
// benchmarks' generators. Prints CPU seconds (user + sys of the child: steadier than wall
// time on a shared machine) per variant, the median of the rounds, and the ratio to the
// baseline.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateManifest } from './dbt-manifest-data.js'
import { generateResources } from './gen-resources.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..')
const dataDir = path.join(repo, 'bench', 'data')
const bin = path.join(repo, 'dist', 'bin', 'secoda-convert.js')
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : Number(process.argv[i + 1])
}
const MB = 1024 * 1024
const hasScript = spawnSync('script', ['--version']).status === 0

/** CPU and wall seconds of one CLI run (bash's `times` reports its children's CPU). */
function run(args: string[], tty: boolean): { cpu: number; wall: number } {
  const cmd = `node ${bin} ${args.map((a) => `'${a}'`).join(' ')} 2>/dev/null >/dev/null`
  // in a pseudo-terminal the progress line is redrawn as a user would see it
  const inner = tty && hasScript ? `script -qec "${cmd.replace(/"/g, '\\"')}" /dev/null >/dev/null` : cmd
  const started = process.hrtime.bigint()
  const r = spawnSync('bash', ['-c', `${inner}; s=$?; times; exit $s`], { encoding: 'utf8' })
  const wall = Number(process.hrtime.bigint() - started) / 1e9
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  // `times`: shell user/sys, then children user/sys, as 0m1.234s
  const lines = r.stdout.trim().split('\n')
  const secs = (lines.at(-1) ?? '').split(/\s+/).map((x) => {
    const m = /(\d+)m([\d.]+)s/.exec(x)
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0
  })
  return { cpu: secs.reduce((a, b) => a + b, 0), wall }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true })
  const manifestMB = arg('manifest-mb', 100)
  const records = arg('records', 300_000)
  const rounds = arg('rounds', 3)
  const manifest = path.join(dataDir, `cli-manifest-${manifestMB}mb.json`)
  if (!existsSync(manifest)) generateManifest(manifest, manifestMB * MB)
  const resources = path.join(dataDir, `cli-resources-${records}.jsonl`)
  if (!existsSync(resources)) await generateResources(resources, records)
  const out = path.join(dataDir, 'cli-out')
  const report = path.join(dataDir, 'cli-report.html')
  const benches: [string, string[]][] = [
    ['dbt', ['dbt', manifest, '--out-dir', out]],
    ['validate', ['validate', resources]],
  ]
  const variants: [string, string[], boolean][] = [
    ['baseline (--no-progress)', ['--no-progress'], false],
    [`progress (${hasScript ? 'pseudo-terminal' : '--progress, plain lines'})`, hasScript ? [] : ['--progress'], true],
    ['--report', ['--no-progress', '--report', report], false],
  ]
  if (process.argv.includes('--skip-report')) variants.pop()
  console.log(`script(1) for a pseudo-terminal: ${hasScript ? 'yes' : 'no'}; rounds: ${rounds}`)
  for (const [name, args] of benches) {
    const size = statSync(args[1]!).size
    const cpu = variants.map(() => [] as number[])
    const wall = variants.map(() => [] as number[])
    for (let r = 0; r < rounds; r++) {
      for (const [i, [, extra, tty]] of variants.entries()) {
        const x = run([...args, ...extra], tty)
        cpu[i]!.push(x.cpu)
        wall[i]!.push(x.wall)
      }
    }
    console.log(`\n${name}: ${(size / 1e6).toFixed(0)} MB input`)
    const base = median(cpu[0]!)
    for (const [i, [label]] of variants.entries()) {
      const c = median(cpu[i]!)
      console.log(
        `  ${label.padEnd(36)} CPU ${c.toFixed(2)} s (runs ${cpu[i]!.map((x) => x.toFixed(2)).join(', ')}), wall ${median(wall[i]!).toFixed(2)} s, ratio ${(c / base).toFixed(3)}`,
      )
    }
  }
  rmSync(out, { recursive: true, force: true })
  rmSync(report, { force: true })
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
