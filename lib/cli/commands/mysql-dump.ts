// `secoda-convert mysql-dump [file|-] [--database NAME] [--schema NAME]`: mysqldump / MariaDB dump SQL → Secoda records.

import type { Argv, CommandModule } from 'yargs'
import { displayName } from '../../input.js'
import { type ConversionArgs, type GlobalArgs, conversionOptions, openCommandInput, runSourceCommand } from '../common.js'

interface MysqlDumpArgs extends ConversionArgs {
  file: string
  database?: string
  'allow-truncated'?: boolean
  'max-record-size': number
  schema?: string
  'column-lineage': boolean
}

export const mysqlDumpCommand: CommandModule<GlobalArgs, MysqlDumpArgs> = {
  command: 'mysql-dump [file]',
  describe: 'Convert a mysqldump / MariaDB dump (tables, views, columns, comments, keys, view lineage)',
  builder: (y: Argv<GlobalArgs>) =>
    conversionOptions(y)
      .positional('file', { type: 'string', default: '-', describe: 'The dump (.sql or .sql.gz), or - for stdin' })
      .option('schema', {
        type: 'string',
        describe: 'Secoda schema = the MySQL database name (default: from CREATE DATABASE / USE / the dump header)',
      })
      .option('allow-truncated', {
        type: 'boolean',
        describe: "Read a dump that lacks its tool's completion line or ends inside a statement (default: INPUT_TRUNCATED)",
      })
      .option('max-record-size', {
        type: 'number',
        default: 64 * 1024 * 1024,
        describe: 'Longest SQL statement read whole, in bytes (COPY and INSERT data is skipped, not read whole)',
      })
      .option('database', { type: 'string', describe: 'Secoda database name (default: the same as the schema)' })
      .option('column-lineage', {
        type: 'boolean',
        default: true,
        describe: 'View column types and column-to-column lineage edges (--no-column-lineage: table edges only, view columns untyped)',
      })
      .example('$0 mysql-dump shop.sql --out-dir out/', 'mysqldump output → out/resources.jsonl + out/lineage.jsonl')
      .example(
        'mysqldump --no-data shop | $0 mysql-dump - --database warehouse',
        'MySQL database shop as schema shop of Secoda database warehouse',
      ) as unknown as Argv<MysqlDumpArgs>,
  handler: async (argv) => {
    argv.run.exitCode = await runSourceCommand(argv, [argv.file], async (ctx) => {
      // loaded on use, like every source with a heavy module graph (start-up of other commands)
      const { mysqlDumpRecords } = await import('../../../transforms/sql/mysql-dump.js')
      return mysqlDumpRecords(await openCommandInput(ctx, argv.file, 'mysql-dump', { allowTruncated: argv['allow-truncated'] }), {
        database: argv.database,
        allowTruncated: argv['allow-truncated'] === true,
        maxStatement: argv['max-record-size'],
        schema: argv.schema,
        ids: ctx.ids,
        report: ctx.report,
        file: displayName(argv.file),
        columnLineage: argv['column-lineage'],
      })
    })
  },
}
