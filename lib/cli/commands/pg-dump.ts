// `secoda-convert pg-dump [file|-] [--database NAME]`: pg_dump / pg_dumpall plain SQL → Secoda records.

import type { Argv, CommandModule } from 'yargs'
import { displayName } from '../../input.js'
import { type ConversionArgs, type GlobalArgs, conversionOptions, openCommandInput, runSourceCommand } from '../common.js'

interface PgDumpArgs extends ConversionArgs {
  file: string
  database?: string
  'column-lineage': boolean
  'allow-truncated'?: boolean
  'max-record-size': number
}

export const pgDumpCommand: CommandModule<GlobalArgs, PgDumpArgs> = {
  command: 'pg-dump [file]',
  describe: 'Convert a pg_dump / pg_dumpall plain SQL dump (tables, views, columns, comments, keys, view lineage)',
  builder: (y: Argv<GlobalArgs>) =>
    conversionOptions(y)
      .positional('file', { type: 'string', default: '-', describe: 'The dump (.sql or .sql.gz), or - for stdin' })
      .option('allow-truncated', {
        type: 'boolean',
        describe: "Read a dump that lacks its tool's completion line or ends inside a statement (default: INPUT_TRUNCATED)",
      })
      .option('max-record-size', {
        type: 'number',
        default: 64 * 1024 * 1024,
        describe: 'Longest SQL statement read whole, in bytes (COPY and INSERT data is skipped, not read whole)',
      })
      .option('database', {
        type: 'string',
        describe: 'Secoda database name (default: from CREATE DATABASE / \\connect in the dump; required when the dump names none)',
      })
      .option('column-lineage', {
        type: 'boolean',
        default: true,
        describe: 'View column types and column-to-column lineage edges (--no-column-lineage: table edges only, view columns untyped)',
      })
      .example(
        '$0 pg-dump schema.sql --database shop --out-dir out/',
        'pg_dump --schema-only output → out/resources.jsonl + out/lineage.jsonl',
      )
      .example(
        'pg_dump --create shop | $0 pg-dump - > resources.jsonl',
        'straight from pg_dump (the name comes from the dump)',
      ) as unknown as Argv<PgDumpArgs>,
  handler: async (argv) => {
    argv.run.exitCode = await runSourceCommand(argv, [argv.file], async (ctx) => {
      // loaded on use: the parser (WASM) would slow every other command's start-up
      const { pgDumpRecords } = await import('../../../transforms/sql/pg-dump.js')
      return pgDumpRecords(await openCommandInput(ctx, argv.file, 'pg-dump', { allowTruncated: argv['allow-truncated'] }), {
        database: argv.database,
        allowTruncated: argv['allow-truncated'] === true,
        maxStatement: argv['max-record-size'],
        ids: ctx.ids,
        report: ctx.report,
        file: displayName(argv.file),
        columnLineage: argv['column-lineage'],
      })
    })
  },
}
