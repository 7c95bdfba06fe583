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
import { SecodaError } from '../errors.js'
import { GENERAL_GROUP, JSON_ON_DATA, endRun } from './common.js'
import type { RunState } from './summary.js'

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

/** The heading of the flags every command has. */
const GENERAL = GENERAL_GROUP

const EPILOG = `Data goes to stdout, diagnostics and the summary to stderr (--json: the summary as JSON on stdout).
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

/** Edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[b.length]!
}

/** The known flag closest to `given` (a typo of it, or a prefix), if one is close enough. */
export function suggestFlag(given: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Number.POSITIVE_INFINITY
  for (const k of known) {
    if (k.length < 2) continue
    const d = k.startsWith(given) && given.length >= 3 ? 0.5 : distance(given, k)
    if (d < bestD) {
      bestD = d
      best = k
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(given.length / 3)) ? best : undefined
}

/** yargs' unknown-argument message with a suggestion for each mistyped flag. */
function withSuggestions(msg: string, known: readonly string[]): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg)
  if (!m) return msg
  const tips = m[1]!
    .split(', ')
    .map((a) => a.replace(/^-+/, ''))
    .map((a) => [a, suggestFlag(a, known)] as const)
    .filter(([, s]) => s !== undefined)
    .map(([a, s]) => `--${a}: did you mean --${s}?`)
  return tips.length > 0 ? `${msg}; ${tips.join('; ')}` : msg
}

/** Run the CLI with `args` (without node and script). Resolves with the exit status. */
export async function main(args: string[], io: CliIO = processIO()): Promise<number> {
  const cmd = args.find((a) => !a.startsWith('-'))
  const command = commands.find((c) => String(c.command).split(' ')[0] === cmd)
  const run: RunState = { exitCode: 0, startedAt: performance.now(), command: command === undefined ? '' : cmd! }
  let usageError: string | undefined
  let printed = ''
  const parser = yargs(args)
    .scriptName('secoda-convert')
    .usage(
      '$0 <command> [options]\n\nTurn dbt artifacts, database dumps and information_schema exports into\nSecoda custom-integration files, validate them, and upload them — streaming.',
    )
    .option('verbose', { type: 'boolean', describe: 'Print stack traces of errors', group: GENERAL })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print errors only (no warnings, no summary)', group: GENERAL })
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
      // the parser holds the running command's options by now
      const known = Object.keys((parser as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key)
      usageError = withSuggestions(msg ?? err?.message ?? 'invalid arguments', known)
      throw new UsageStop()
    })
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .group(['help', 'version'], GENERAL)
    .completion('completion', 'Print a bash/zsh completion script: secoda-convert completion >> ~/.bashrc')
  try {
    await parser.parseAsync(args, { io, run, main, rawArgs: args }, (_err: unknown, _argv: unknown, output: string) => {
      printed = output
    })
  } catch (err) {
    if (usageError === undefined) throw err
  }
  if (usageError !== undefined) {
    const hint = command !== undefined ? `secoda-convert ${cmd} --help` : 'secoda-convert --help'
    const json = args.includes('--json') && usageError !== JSON_ON_DATA
    // the summary still appears where it was asked for, saying the run failed
    const summaryAt = args.indexOf('--summary-json')
    if (json || summaryAt !== -1) {
      run.failure = new SecodaError('USAGE', usageError)
      const file = summaryAt !== -1 ? args[summaryAt + 1] : undefined
      await endRun({ io, run, main, json, quiet: true, 'max-errors': 1, ...(file !== undefined ? { 'summary-json': file } : {}) }, 2)
    }
    io.stderr.write(`error USAGE ${usageError} (see ${hint})\n`)
    return 2
  }
  if (printed) io.stdout.write(printed + '\n')
  return run.exitCode
}
