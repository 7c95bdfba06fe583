// The CLI: yargs with strict flags, one module per command in ./commands/. main() returns
// the exit status instead of exiting, so tests run it in-process.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import yargs, { type CommandModule } from 'yargs'
import { type CliIO, type GlobalArgs, processIO } from './io.js'
import { convertCommand } from './commands/convert.js'
import { dbtCommand } from './commands/dbt.js'
import { demoCommand } from './commands/demo.js'
import { validateCommand } from './commands/validate.js'
import { pgDumpCommand } from './commands/pg-dump.js'
import { mysqlDumpCommand } from './commands/mysql-dump.js'
import { columnsCommand } from './commands/columns.js'
import { uploadCommand } from './commands/upload.js'
import { testServerCommand } from './commands/test-server.js'

/** Every command, in the order --help lists them. */
// biome-ignore lint/suspicious/noExplicitAny: each command has its own argument type
const commands: CommandModule<GlobalArgs, any>[] = [
  validateCommand,
  convertCommand,
  dbtCommand,
  pgDumpCommand,
  mysqlDumpCommand,
  columnsCommand,
  uploadCommand,
  demoCommand,
  testServerCommand,
]

const EPILOG = `Data goes to stdout, diagnostics and the summary to stderr.
Exit status: 0 valid, 1 invalid input, 2 usage or I/O error.
Error codes: see the README's table.`

/**
 * This package's version, from its own package.json, found upwards from this file (dist/lib/cli/
 * when built, lib/cli/ in the sources). yargs' own lookup starts from the running script, which
 * for an installed package is a bin symlink: it found no version there and printed "unknown".
 */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'secoda-convert' && pkg.version !== undefined) return pkg.version
    } catch {
      // no package.json here: look further up
    }
    const up = dirname(dir)
    if (up === dir) return 'unknown'
    dir = up
  }
}

/** Thrown from yargs' fail hook so that no handler runs after a usage error. */
class UsageStop extends Error {}

/** Run the CLI with `args` (without node and script). Resolves with the exit status. */
export async function main(args: string[], io: CliIO = processIO()): Promise<number> {
  const run = { exitCode: 0 }
  let usageError: string | undefined
  let printed = ''
  const parser = yargs(args)
    .scriptName('secoda-convert')
    .usage(
      '$0 <command> [options]\n\nTurn dbt artifacts, database dumps and information_schema exports into\nSecoda custom-integration files, validate them, and upload them — streaming.',
    )
    .option('verbose', { type: 'boolean', describe: 'Print stack traces of errors' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print errors only (no warnings, no summary)' })
    .command(commands as unknown as CommandModule[])
    .demandCommand(1, 'Name a command.')
    .strict()
    .recommendCommands()
    .epilog(EPILOG)
    // no hard wrapping: yargs (cliui) breaks words in the middle at any fixed width
    .wrap(null)
    .exitProcess(false)
    .fail((msg, err) => {
      // handlers catch their own errors, so what reaches here is a flag check's failure
      usageError = msg ?? err?.message ?? 'invalid arguments'
      throw new UsageStop()
    })
    .help()
    .version(packageVersion())
  try {
    await parser.parseAsync(args, { io, run, main }, (_err: unknown, _argv: unknown, output: string) => {
      printed = output
    })
  } catch (err) {
    if (usageError === undefined) throw err
  }
  if (usageError !== undefined) {
    const cmd = args.find((a) => !a.startsWith('-'))
    const hint =
      cmd !== undefined && commands.some((c) => String(c.command).split(' ')[0] === cmd)
        ? `secoda-convert ${cmd} --help`
        : 'secoda-convert --help'
    io.stderr.write(`error USAGE ${usageError} (see ${hint})\n`)
    return 2
  }
  if (printed) io.stdout.write(printed + '\n')
  return run.exitCode
}
