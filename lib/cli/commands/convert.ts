// `secoda-convert convert [files..] --to jsonl|csv`: Secoda CSV ⇄ JSONL, and JSONL normalised.

import type { Argv, CommandModule } from 'yargs'
import { readSecodaFiles } from '../../run/read-records.js'
import { type ConversionArgs, type GlobalArgs, conversionOptions, numberChecks, runSourceCommand } from '../common.js'

interface ConvertArgs extends ConversionArgs {
  files: string[]
  format: 'auto' | 'jsonl' | 'csv'
  'max-line-length': number
}

export const convertCommand: CommandModule<GlobalArgs, ConvertArgs> = {
  command: 'convert [files..]',
  describe: 'Convert Secoda CSV ⇄ JSONL (and normalise JSONL); stdin when no file',
  builder: (y: Argv<GlobalArgs>) =>
    numberChecks(conversionOptions(y), { 'max-line-length': { min: 1, example: 1048576 } })
      .positional('files', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'Files, directories holding resources.jsonl/lineage.jsonl, or - for stdin',
      })
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
      .example('$0 convert columns.csv --out-dir out/', 'CSV → out/resources.jsonl + out/lineage.jsonl')
      .example('$0 convert out/ --to csv -o columns.csv', 'split JSONL → Secoda columns CSV')
      .example('$0 convert export.jsonl.gz > normalised.jsonl', 'normalise (gzip is detected)') as unknown as Argv<ConvertArgs>,
  handler: async (argv) => {
    argv.run.exitCode = await runSourceCommand(argv, argv.files, (ctx) => {
      return readSecodaFiles(argv.files, {
        report: ctx.report,
        ids: ctx.ids,
        signal: ctx.signal,
        format: argv.format,
        maxLineLength: argv['max-line-length'],
        stdin: ctx.io.stdin,
        onRead: ctx.input.onRead,
      })
    })
  },
}
