// `secoda-convert columns [file|-] [--tables FILE] [--database NAME]`: an information_schema
// columns export (CSV, or `mysql --batch` text) → Secoda tables and columns.

import { pipeline } from 'node:stream'
import type { Argv, CommandModule } from 'yargs'
import { displayName, estimateIdsFromSize, openSource } from '../../input.js'
import { csvBytesSource } from '../../run/pipeline.js'
import { createInfoSchemaCsvConverter } from '../../../transforms/info-schema/direct-csv.js'
import {
  createInfoSchemaColumnsReader,
  readTablesExport,
  type ExportFormat,
  type InfoSchemaOptions,
} from '../../../transforms/info-schema/columns.js'
import { type ConversionArgs, type GlobalArgs, conversionOptions, openCommandInput, runSourceCommand } from '../common.js'

/**
 * Bytes of information_schema.columns export per resource id (a column row, or a table's
 * share of its rows), a little below the ~140 of the benchmark's MySQL-style export: too low
 * a guess only costs index slots (14 bytes each), too high makes the index grow, which
 * rehashes every id already in it. Exports of fewer columns have fewer bytes per row; for
 * those the index grows as before.
 */
const EXPORT_BYTES_PER_ID = 120

interface ColumnsArgs extends ConversionArgs {
  file: string
  tables?: string
  database?: string
  schema?: string
  format: ExportFormat
  delimiter: string
}

export const columnsCommand: CommandModule<GlobalArgs, ColumnsArgs> = {
  command: 'columns [file]',
  describe: 'information_schema.columns export (CSV or mysql --batch) → Secoda tables and columns',
  builder: (y: Argv<GlobalArgs>) =>
    conversionOptions(y)
      .positional('file', { type: 'string', default: '-', describe: 'The columns export (gzip is detected), or - for stdin' })
      .option('tables', { type: 'string', describe: 'An information_schema.tables export: table types (views) and table comments' })
      .option('database', {
        type: 'string',
        describe:
          'Secoda database name (overrides table_catalog; needed when the export has none, except MySQL exports, where it defaults to the schema)',
      })
      .option('schema', { type: 'string', describe: 'Schema name for exports without a table_schema column' })
      .option('format', {
        choices: ['auto', 'csv', 'mysql-batch'] as const,
        default: 'auto' as const,
        describe: 'Input format (auto: mysql --batch text when the header has tabs and no commas)',
      })
      .option('delimiter', { type: 'string', default: ',', describe: 'CSV field delimiter' })
      .example('$0 columns columns.csv --tables tables.csv --out-dir out/', 'PostgreSQL/Snowflake/... export → out/resources.jsonl')
      .example(
        'mysql -B -e "SELECT * FROM information_schema.columns WHERE table_schema=\'shop\'" | $0 columns --to csv -o columns.csv',
        'MySQL → Secoda columns CSV',
      )
      .example(
        '$0 columns pandas-export.csv --schema app --database prod',
        'an export without table_schema',
      ) as unknown as Argv<ColumnsArgs>,
  handler: async (argv) => {
    argv.run.exitCode = await runSourceCommand(argv, argv.tables === undefined ? [argv.file] : [argv.file, argv.tables], async (ctx) => {
      const base: InfoSchemaOptions = {
        ids: ctx.ids,
        report: ctx.report,
        database: argv.database,
        schema: argv.schema,
        format: argv.format,
        delimiter: argv.delimiter,
      }
      const tables =
        argv.tables === undefined
          ? undefined
          : await readTablesExport(await openSource(argv.tables, { ...ctx.input, expect: 'columns' }), {
              ...base,
              file: displayName(argv.tables),
            })
      const input = await openCommandInput(ctx, argv.file, 'columns')
      if (argv.to === 'csv' && !argv.upload) {
        // straight from export bytes to CSV bytes, checked as the record path checks them
        return csvBytesSource(
          pipeline(
            input,
            createInfoSchemaCsvConverter({
              ...base,
              report: ctx.report,
              file: displayName(argv.file),
              tables,
              sortOrderHeader: argv['sort-order-header'],
            }),
            () => {},
          ),
        )
      }
      // sizing the id index from the file size up front saves rehashing it as it grows
      if (argv.file !== '-') ctx.expectedIds = await estimateIdsFromSize([argv.file], EXPORT_BYTES_PER_ID)
      // pipeline() returns the reader and destroys it with the first error of either stream,
      // so runConversion sees input errors as the source's errors.
      return pipeline(input, createInfoSchemaColumnsReader({ ...base, file: displayName(argv.file), tables }), () => {})
    })
  },
}
