// `secoda-convert validate [files..]`: check Secoda JSONL (mixed or split) or CSV files.

import type { Argv, CommandModule } from 'yargs'
import { Writable } from 'node:stream'
import { runConversion } from '../../run/pipeline.js'
import { estimateIds, readSecodaFiles } from '../../run/read-records.js'
import {
  type GlobalArgs,
  createReport,
  endRun,
  helpGroups,
  numberChecks,
  idsFrom,
  inputOptions,
  policyOptions,
  reportFailure,
  summaryOptions,
  beginInput,
} from '../common.js'

interface ValidateArgs extends GlobalArgs {
  files: string[]
  csv?: boolean
  format: 'auto' | 'jsonl' | 'csv'
  'max-line-length': number
}

/** A Writable that discards records (validation is the whole job). */
function discard(): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(_r, _e, cb) {
      cb()
    },
  })
}

export const validateCommand: CommandModule<GlobalArgs, ValidateArgs> = {
  command: 'validate [files..]',
  describe: 'Check Secoda JSONL (mixed or split) or columns CSV files; stdin when no file',
  builder: (y: Argv<GlobalArgs>) =>
    numberChecks(summaryOptions(policyOptions(helpGroups(y))), { 'max-line-length': { min: 1, example: 1048576 } })
      .positional('files', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'Files, directories holding resources.jsonl/lineage.jsonl, or - for stdin',
      })
      .option('csv', { type: 'boolean', describe: 'Also check what the CSV format needs (no periods in names)' })
      .option('format', {
        choices: ['auto', 'jsonl', 'csv'] as const,
        default: 'auto' as const,
        describe: 'Input format (auto: detected from the content)',
      })
      .option('max-line-length', {
        type: 'number',
        default: 64 * 1024 * 1024,
        describe: 'Longest accepted JSONL line, in bytes (a whole number ≥ 1)',
      })
      .example('$0 validate out/', 'check out/resources.jsonl and out/lineage.jsonl together')
      .example('$0 validate columns.csv --csv', 'check a Secoda columns CSV')
      .example('secoda-convert dbt target/manifest.json | $0 validate', 'check a conversion on the fly') as unknown as Argv<ValidateArgs>,
  handler: async (argv) => {
    const report = createReport(argv)
    const io = argv.io
    let code = 0
    try {
      await beginInput(argv, argv.files, 'validating')
      const records = readSecodaFiles(argv.files, {
        report,
        ids: idsFrom(argv),
        signal: io.signal,
        format: argv.format,
        maxLineLength: argv['max-line-length'],
        stdin: io.stdin,
        onRead: inputOptions(argv).onRead,
      })
      const expectedIds = await estimateIds(argv.files)
      await runConversion(records, {
        report,
        sink: discard(),
        signal: io.signal,
        output: { to: argv.csv ? 'csv' : 'jsonl' },
        validate: { expectedIds },
      })
    } catch (err) {
      code = reportFailure(argv, err)
    }
    argv.run.exitCode = await endRun(argv, code)
  },
}
