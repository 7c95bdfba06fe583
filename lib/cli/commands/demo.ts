// `secoda-convert demo` (what `npm start` runs): the main job on bundled samples. Converts a
// Secoda columns CSV, a dbt project's manifest + catalog and a pg_dump file into out/,
// validates each result, and uploads the dbt output to the bundled Secoda-compatible test
// server, printing what the server received. Every step runs the real command.

import type { Argv, CommandModule } from 'yargs'
import { join } from 'node:path'
import { samplePath } from '../paths.js'
import { type GlobalArgs, reportFailure } from '../common.js'

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
    const steps: [string, string[]][] = [
      ['Secoda columns CSV → split JSONL', ['convert', samplePath('warehouse-columns.csv'), '--out-dir', join(dir, 'warehouse')]],
      [
        'split JSONL → Secoda columns CSV (round trip)',
        ['convert', join(dir, 'warehouse'), '--to', 'csv', '-o', join(dir, 'warehouse', 'columns.csv')],
      ],
      [
        'dbt manifest + catalog → split JSONL',
        ['dbt', samplePath('dbt/manifest.json'), '--catalog', samplePath('dbt/catalog.json'), '--out-dir', join(dir, 'dbt')],
      ],
      ['pg_dump → split JSONL', ['pg-dump', samplePath('shop-pg_dump.sql'), '--database', 'shop', '--out-dir', join(dir, 'pg')]],
      ['validate everything written', ['validate', join(dir, 'warehouse'), join(dir, 'dbt'), join(dir, 'pg')]],
    ]
    try {
      for (const [i, [what, args]] of steps.entries()) {
        stderr.write(`\n${i + 1}. ${what}\n   $ secoda-convert ${args.join(' ')}\n`)
        const code = await argv.main([...args, ...(argv.quiet ? ['--quiet'] : [])], argv.io)
        if (code !== 0) {
          argv.run.exitCode = code
          return
        }
      }
      if (argv.upload) {
        stderr.write(`\n${steps.length + 1}. upload the dbt output to the bundled Secoda-compatible test server\n`)
        const { demoUpload } = await import('../upload-demo.js')
        await demoUpload(argv, join(dir, 'dbt'))
      }
      stderr.write(
        `\nDone: see ${dir}/. Against Secoda itself: secoda-convert upload ${join(dir, 'dbt')} --integration-name NAME (key in SECODA_API_KEY).\n`,
      )
      argv.run.exitCode = 0
    } catch (err) {
      argv.run.exitCode = reportFailure(argv, err)
    }
  },
}
