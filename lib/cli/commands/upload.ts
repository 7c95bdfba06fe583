// `secoda-convert upload [files..|-] --integration ID`: read Secoda JSONL (mixed or split) or
// columns CSV, validate it, and send it as one upload (spooled, Content-Length; or live with
// --chunked); the closing boundary is never sent when anything is wrong (invalid input, no
// resources, a stale guard's refusal), so Secoda never syncs a bad, partial or shrunken file.

import type { Argv, CommandModule } from 'yargs'
import { readSecodaFiles } from '../../run/read-records.js'
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
import { type UploadArgs, runUpload, uploadOptions } from '../upload-options.js'

interface UploadCommandArgs extends UploadArgs {
  files: string[]
  format: 'auto' | 'jsonl' | 'csv'
  to?: 'jsonl' | 'csv'
  'max-line-length': number
  'id-prefix'?: string
  'keep-case'?: boolean
  'sort-order-header': 'col_sort_order' | 'sort_order'
}

/** Upload as CSV when every input is a .csv file, else as JSONL. */
export function defaultUploadFormat(files: readonly string[]): 'jsonl' | 'csv' {
  return files.length > 0 && files.every((f) => /\.csv(\.gz)?$/i.test(f)) ? 'csv' : 'jsonl'
}

export const uploadCommand: CommandModule<GlobalArgs, UploadCommandArgs> = {
  command: 'upload [files..]',
  describe: 'Validate Secoda JSONL or CSV files and upload them to a custom integration, guarded against wiping it; stdin when no file',
  builder: (y: Argv<GlobalArgs>) =>
    uploadOptions(numberChecks(summaryOptions(policyOptions(helpGroups(y))), { 'max-line-length': { min: 1, example: 1048576 } }))
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
      .option('to', {
        choices: ['jsonl', 'csv'] as const,
        describe: 'Upload as JSONL (import_jsonl_metadata/) or CSV (import_metadata/); default CSV when every input is a .csv file',
      })
      .option('sort-order-header', {
        choices: ['col_sort_order', 'sort_order'] as const,
        default: 'col_sort_order' as const,
        describe: 'CSV: header name of the column-position field',
      })
      .option('id-prefix', { type: 'string', describe: 'CSV input: prefix every databuilder_id with this' })
      .option('keep-case', { type: 'boolean', describe: 'CSV input: keep the case of names in databuilder_ids' })
      .option('max-line-length', {
        type: 'number',
        default: 64 * 1024 * 1024,
        describe: 'Longest accepted JSONL line, in bytes (a whole number ≥ 1)',
      })
      .example('SECODA_API_KEY=... $0 upload out/ --integration 1f2e...', 'upload out/resources.jsonl + out/lineage.jsonl')
      .example(
        '$0 upload columns.csv --integration-name warehouse --create --region eu',
        'CSV to an integration found (or created) by name',
      )
      .example('$0 upload export.jsonl --integration ID --chunked', 'stream live (chunked) to a server known to accept it; not retried')
      .example(
        '$0 upload out/ --integration ID --dry-run',
        'validate and run both stale guards without sending',
      ) as unknown as Argv<UploadCommandArgs>,
  handler: async (argv) => {
    const report = createReport(argv)
    const io = argv.io
    const format = argv.to ?? defaultUploadFormat(argv.files)
    try {
      await beginInput(argv, argv.files, 'uploading')
      const records = () =>
        readSecodaFiles(argv.files, {
          report,
          ids: idsFrom(argv),
          signal: io.signal,
          format: argv.format,
          maxLineLength: argv['max-line-length'],
          stdin: io.stdin,
          onRead: inputOptions(argv).onRead,
        })
      await runUpload(argv, records, report, format)
      argv.run.exitCode = await endRun(argv, 0)
    } catch (err) {
      argv.run.exitCode = await endRun(argv, reportFailure(argv, err))
    }
  },
}
