// `secoda-convert demo` (what `npm start` runs): the main job on bundled samples. Converts a
// Secoda columns CSV, a dbt project's manifest + catalog and a pg_dump file into out/,
// validates each result, and uploads the dbt output to the bundled Secoda-compatible test
// server, printing what the server received. Every step runs the real command.

import type { Argv, CommandModule } from 'yargs'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative } from 'node:path'
import { samplePath } from '../paths.js'
import { type GlobalArgs, reportFailure } from '../common.js'
import { formatBytes, type RunSummary } from '../summary.js'

interface DemoArgs extends GlobalArgs {
  'out-dir': string
  upload: boolean
}

export const demoCommand: CommandModule<GlobalArgs, DemoArgs> = {
  command: 'demo',
  describe: 'Run the main job on bundled samples: convert, validate, upload to the bundled test server',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('out-dir', { type: 'string', default: 'out', describe: 'Where to write the results' })
      .option('upload', { type: 'boolean', default: true, describe: 'Upload to the bundled test server (--no-upload to skip)' })
      .option('max-errors', { type: 'number', default: 20, hidden: true }) as unknown as Argv<DemoArgs>,
  handler: async (argv) => {
    const { stderr } = argv.io
    const dir = argv['out-dir']
    // how a newcomer runs the same command: from a clone (no global install) or an installed package
    const self = invokedAs()
    const samples = shortPath(samplePath(''))
    const steps: [string, string[], string[]][] = [
      [
        'a Secoda columns CSV → Secoda JSONL (resources.jsonl + lineage.jsonl)',
        ['convert', samplePath('warehouse-columns.csv'), '--out-dir', join(dir, 'warehouse')],
        [join(dir, 'warehouse', 'resources.jsonl'), join(dir, 'warehouse', 'lineage.jsonl')],
      ],
      [
        'that JSONL → the Secoda columns CSV again (round trip)',
        ['convert', join(dir, 'warehouse'), '--to', 'csv', '-o', join(dir, 'warehouse', 'columns.csv')],
        [join(dir, 'warehouse', 'columns.csv')],
      ],
      [
        'a dbt project (manifest.json + catalog.json) → Secoda JSONL',
        ['dbt', samplePath('dbt/manifest.json'), '--catalog', samplePath('dbt/catalog.json'), '--out-dir', join(dir, 'dbt')],
        [join(dir, 'dbt', 'resources.jsonl'), join(dir, 'dbt', 'lineage.jsonl')],
      ],
      [
        'a pg_dump schema file → Secoda JSONL',
        ['pg-dump', samplePath('shop-pg_dump.sql'), '--database', 'shop', '--out-dir', join(dir, 'pg')],
        [join(dir, 'pg', 'resources.jsonl'), join(dir, 'pg', 'lineage.jsonl')],
      ],
      ['validate everything written, together', ['validate', join(dir, 'warehouse'), join(dir, 'dbt'), join(dir, 'pg')], []],
    ]
    const tmp = mkdtempSync(join(tmpdir(), 'secoda-demo-'))
    try {
      stderr.write(
        `secoda-convert demo: converts the samples in ${samples}/ into ${dir}/, validates them, and uploads one to a local test server.\n`,
      )
      for (const [i, [what, args, files]] of steps.entries()) {
        stderr.write(`\n${i + 1}. ${what}\n   $ ${self} ${args.map((a) => shellWord(shortPath(a))).join(' ')}\n`)
        const summaryFile = join(tmp, `step${i}.json`)
        const code = await argv.main([...args, '--quiet', '--no-progress', '--summary-json', summaryFile], argv.io)
        if (code !== 0) {
          argv.run.exitCode = code
          return
        }
        const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary
        stderr.write(`   ${describeCounts(s)}\n`)
        for (const f of files) if (existsSync(f)) stderr.write(`   → ${f} (${formatBytes(statSync(f).size)})\n`)
      }
      if (argv.upload) {
        stderr.write(
          `\n${steps.length + 1}. upload ${join(dir, 'dbt')}/ to a Secoda-compatible test server started on 127.0.0.1 (no account needed)\n`,
        )
        const { demoUpload } = await import('../upload-demo.js')
        await demoUpload(argv, join(dir, 'dbt'))
      }
      stderr.write(
        `\nDone. The files are in ${dir}/. Next, try:\n` +
          `   ${self} validate ${join(dir, 'dbt')} --json            # the run summary as JSON\n` +
          `   ${self} dbt path/to/target/manifest.json --catalog path/to/target/catalog.json --out-dir ${join(dir, 'mine')}\n` +
          `   SECODA_API_KEY=... ${self} upload ${join(dir, 'dbt')} --integration-name NAME --create   # into your Secoda\n` +
          `   ${self} --help\n`,
      )
      argv.run.exitCode = 0
    } catch (err) {
      argv.run.exitCode = reportFailure(argv, err)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  },
}

/** One line of what a step produced, without the sources' internal counters. */
function describeCounts(s: RunSummary): string {
  const parts = Object.entries(s.resources)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${n} ${t.replace('_', ' ')}${n === 1 ? '' : 's'}`)
  if (s.lineage.total > 0) parts.push(`${s.lineage.total} lineage edge${s.lineage.total === 1 ? '' : 's'}`)
  const problems = s.errors + s.warnings > 0 ? `; ${s.errors} errors, ${s.warnings} warnings` : ', no problems found'
  return `${parts.join(', ')}${problems}`
}

/** The command a reader can paste: the bin when run through it from PATH, else node + the script. */
function invokedAs(): string {
  const script = process.argv[1]
  if (script === undefined || !/secoda-convert(\.js)?$/.test(script)) return 'secoda-convert'
  const rel = relative(process.cwd(), script)
  return rel.startsWith('..') || isAbsolute(rel) ? 'secoda-convert' : `node ${rel}`
}

/** A path relative to the working directory when it lies below it (as a reader would type it). */
function shortPath(p: string): string {
  if (!isAbsolute(p)) return p
  const rel = relative(process.cwd(), p)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? p : rel
}

function shellWord(a: string): string {
  return /^[\w./=:@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`
}
