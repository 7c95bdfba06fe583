// `secoda-convert validate [files..]`: check Secoda JSONL (mixed or split) or CSV files.

import type { Argv, CommandModule } from 'yargs'
import { Writable } from 'node:stream'
import { runConversion } from '../../run/pipeline.js'
import { estimateIds, readSecodaFiles } from '../../run/read-records.js'
import type { Summary } from '../../report.js'
import { type GlobalArgs, createReport, formatSummary, idsFrom, policyOptions, reportFailure } from '../common.js'
import { toSecodaError } from '../../run/pipeline.js'

interface ValidateArgs extends GlobalArgs {
  files: string[]
  json?: boolean
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
    policyOptions(y)
      .positional('files', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'Files, directories holding resources.jsonl/lineage.jsonl, or - for stdin',
      })
      .option('json', { type: 'boolean', describe: 'Print the summary and diagnostics as JSON on stdout' })
      .option('csv', { type: 'boolean', describe: 'Also check what the CSV format needs (no periods in names)' })
      .option('format', {
        choices: ['auto', 'jsonl', 'csv'] as const,
        default: 'auto' as const,
        describe: 'Input format (auto: detected from the content)',
      })
      .option('max-line-length', { type: 'number', default: 64 * 1024 * 1024, describe: 'Longest accepted JSONL line, in bytes' })
      .example('$0 validate out/', 'check out/resources.jsonl and out/lineage.jsonl together')
      .example('$0 validate columns.csv --csv', 'check a Secoda columns CSV')
      .example('secoda-convert dbt target/manifest.json | $0 validate', 'check a conversion on the fly') as unknown as Argv<ValidateArgs>,
  handler: async (argv) => {
    const report = createReport(argv, { print: !argv.json })
    const io = argv.io
    let summary: Summary
    let code = 0
    try {
      const records = readSecodaFiles(argv.files, {
        report,
        ids: idsFrom(argv),
        signal: io.signal,
        format: argv.format,
        maxLineLength: argv['max-line-length'],
        stdin: io.stdin,
      })
      const expectedIds = await estimateIds(argv.files)
      summary = await runConversion(records, {
        report,
        sink: discard(),
        signal: io.signal,
        output: { to: argv.csv ? 'csv' : 'jsonl' },
        validate: { expectedIds },
      })
    } catch (err) {
      summary = report.summary()
      if (argv.json) {
        const e = toSecodaError(err)
        code = e.exitCode
        if (e.code !== 'VALIDATION_FAILED') report.diagnostics.push(e.toDiagnostic())
      } else code = reportFailure(argv, err)
    }
    if (argv.json) {
      io.stdout.write(JSON.stringify({ valid: code === 0, summary, diagnostics: report.diagnostics }, null, 2) + '\n')
    } else if (!argv.quiet && code !== 2) {
      io.stderr.write(formatSummary(summary))
    }
    argv.run.exitCode = code
  },
}
