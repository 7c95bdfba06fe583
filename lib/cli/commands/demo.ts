// `secoda-convert demo` (what `npm start` runs): convert the bundled sample warehouse CSV
// into out/ as split JSONL and as CSV, validate the result, and print what was produced.

import { type Argv, type CommandModule } from 'yargs'
import { join } from 'node:path'
import { runConversion } from '../../pipeline.js'
import { readSecodaFiles } from '../../read-records.js'
import { samplePath } from '../../paths.js'
import { type GlobalArgs, createReport, formatSummary, reportFailure } from '../common.js'
import { Writable } from 'node:stream'

interface DemoArgs extends GlobalArgs {
  'out-dir': string
}

export const demoCommand: CommandModule<GlobalArgs, DemoArgs> = {
  command: 'demo',
  describe: 'Run the main job on the bundled sample: convert, write into out/, validate',
  builder: (y: Argv<GlobalArgs>) => y
    .option('out-dir', { type: 'string', default: 'out', describe: 'Where to write the results' })
    .option('max-errors', { type: 'number', default: 20, hidden: true }) as unknown as Argv<DemoArgs>,
  handler: async (argv) => {
    const { stderr } = argv.io
    const dir = argv['out-dir']
    const sample = samplePath('warehouse-columns.csv')
    try {
      stderr.write(`1. convert ${sample} → ${join(dir, 'resources.jsonl')} + ${join(dir, 'lineage.jsonl')}\n`)
      await runConversion(readSecodaFiles([sample], { report: createReport(argv) }), { report: createReport(argv), output: { outDir: dir } })
      stderr.write(`2. convert ${dir}/ → ${join(dir, 'columns.csv')}\n`)
      await runConversion(readSecodaFiles([dir], { report: createReport(argv) }), { report: createReport(argv), output: { to: 'csv', outDir: dir } })
      stderr.write(`3. validate ${dir}/\n`)
      const report = createReport(argv)
      const sink = new Writable({ objectMode: true, write(_r, _e, cb) { cb() } })
      const summary = await runConversion(readSecodaFiles([dir], { report }), { report, sink })
      stderr.write(formatSummary(summary))
      argv.run.exitCode = 0
    } catch (err) {
      argv.run.exitCode = reportFailure(argv, err)
    }
  },
}
