// What every command shares: the output and policy flags, the run context (report, id
// builder, signal), printing diagnostics and the summary on stderr, and mapping how a run
// ended to an exit status (0 ok, 1 invalid input, 2 usage or I/O).

import type { Argv } from 'yargs'
import type { Readable } from 'node:stream'
import { writeFile } from 'node:fs/promises'
import { type Diagnostic, SecodaError, formatDiagnostic, formatLocation, isSecodaError } from '../errors.js'
import { type IdBuilder, createIdBuilder } from '../ids.js'
import { type InputOptions, type SourceStream, openSource } from '../input.js'
import type { InputReader } from '../sniff.js'
import { BrokenPipeError, runConversion, toSecodaError, type OutputOptions } from '../run/pipeline.js'
import { Report } from '../report.js'
import type { SecodaRecord } from '../records.js'
import type { CliIO, GlobalArgs } from './io.js'
import { buildSummary, formatSummary } from './summary.js'
import { progressMode, startProgress } from './progress.js'
import { ReportCollector } from './html-report.js'
import { expandInputs } from '../run/read-records.js'
import { inputSize } from '../input.js'
import { ENTITY_TYPES } from '../records.js'

export type { GlobalArgs } from './io.js'
export { formatSummary } from './summary.js'
import { type UploadArgs, conversionUploadOptions, runUpload } from './upload-options.js'

/** Flags of conversion commands. */
export interface ConversionArgs extends GlobalArgs {
  to: 'jsonl' | 'csv'
  output?: string
  'out-dir'?: string
  'sort-order-header': 'col_sort_order' | 'sort_order'
  'id-prefix'?: string
  'keep-case'?: boolean
  /** Upload instead of writing (the upload flags come with it). */
  upload?: boolean
}

/** The text given for flag `name` on the command line (`--name v` or `--name=v`). */
function flagText(raw: readonly string[] | undefined, name: string): string | undefined {
  if (raw === undefined) return undefined
  for (let i = raw.length - 1; i >= 0; i--) {
    const a = raw[i]!
    if (a === `--${name}`) return raw[i + 1] ?? ''
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3)
  }
  return undefined
}

/**
 * Check that numeric flags hold what they accept: a whole number of at least `min`. The
 * message says what the flag takes and quotes what was given (yargs would only say NaN).
 */
export function numberChecks<T>(y: Argv<T>, flags: Record<string, { min: number; example: number }>): Argv<T> {
  return y.check((argv) => {
    const a = argv as unknown as Record<string, unknown> & { rawArgs?: readonly string[] }
    for (const [name, { min, example }] of Object.entries(flags)) {
      const n = a[name]
      if (n === undefined) continue
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
        const given = flagText(a.rawArgs, name) ?? String(n)
        throw new Error(`--${name} takes a whole number ≥ ${min} (e.g. --${name} ${example}), got "${given}"`)
      }
    }
    return true
  })
}

/** Add --max-errors (every command that reads input has it). */
export function policyOptions<T>(y: Argv<T>): Argv<T & { 'max-errors': number }> {
  return numberChecks(
    y.option('max-errors', {
      type: 'number',
      default: 20,
      describe: 'Stop after this many errors (a whole number ≥ 1; 1 = stop at the first); warnings never stop a run',
      group: GENERAL_GROUP,
    }),
    { 'max-errors': { min: 1, example: 1 } },
  ) as Argv<T & { 'max-errors': number }>
}

/** Help headings, in the order --help shows them (see {@link helpGroups}). */
export const GENERAL_GROUP = 'General options:'
export const OUTPUT_GROUP = 'Output:'
export const UPLOAD_GROUP = 'Upload:'

/**
 * Fix the order of a command's help headings: its positionals and own options first, then
 * output, upload and general options. yargs lists headings in the order they were created,
 * so a command builder calls this before adding any option.
 */
export function helpGroups<T>(y: Argv<T>): Argv<T> {
  return y.group([], 'Positionals:').group([], 'Options:').group([], OUTPUT_GROUP).group([], UPLOAD_GROUP).group([], GENERAL_GROUP)
}

/** Add --json and --summary-json (every command that ends with a run summary has them). */
export function summaryOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('json', {
      type: 'boolean',
      group: GENERAL_GROUP,
      describe: 'Print the run summary as one JSON object on stdout instead of text on stderr (docs/summary.md)',
    })
    .option('summary-json', { type: 'string', describe: 'Also write the run summary as JSON into this file', group: GENERAL_GROUP })
    .option('report', {
      type: 'string',
      describe: 'Also write an HTML report here: summary, diagnostics, tables and columns, lineage around a table (docs/summary.md)',
      group: GENERAL_GROUP,
    })
    .option('progress', {
      type: 'boolean',
      describe:
        'Progress on stderr: shown on a terminal unless --quiet; --progress forces it (plain lines every 5 s off a terminal, for CI logs), --no-progress turns it off',
      group: GENERAL_GROUP,
    })
}

/** The usage error of --json on a command whose stdout carries data. */
export const JSON_ON_DATA =
  '--json prints the summary on stdout, which carries the data here: use --summary-json FILE, or write the data with -o/--out-dir'

/** Add the output flags every conversion command has (and --upload with its flags). */
export function conversionOptions<T>(y: Argv<T>): Argv<T & ConversionArgs> {
  return conversionUploadOptions(summaryOptions(policyOptions(helpGroups(y))))
    .check((argv) => {
      const a = argv as Partial<ConversionArgs>
      if (a.json && a.output === undefined && a['out-dir'] === undefined && !a.upload) throw new Error(JSON_ON_DATA)
      return true
    })
    .conflicts('upload', ['output', 'out-dir'])
    .option('to', {
      group: OUTPUT_GROUP,
      choices: ['jsonl', 'csv'] as const,
      default: 'jsonl' as const,
      describe: 'Output format: Secoda JSONL or the Secoda columns CSV',
    })
    .option('output', { alias: 'o', type: 'string', describe: 'Write to this file (atomically) instead of stdout', group: OUTPUT_GROUP })
    .option('out-dir', {
      group: OUTPUT_GROUP,
      type: 'string',
      describe: 'Write resources.jsonl + lineage.jsonl (or columns.csv with --to csv) into this directory',
    })
    .conflicts('output', 'out-dir')
    .option('sort-order-header', {
      group: OUTPUT_GROUP,
      choices: ['col_sort_order', 'sort_order'] as const,
      default: 'col_sort_order' as const,
      describe: 'CSV: header name of the column-position field',
    })
    .option('id-prefix', {
      type: 'string',
      describe: 'Prefix every databuilder_id with this (e.g. an integration name)',
      group: OUTPUT_GROUP,
    })
    .option('keep-case', {
      group: OUTPUT_GROUP,
      type: 'boolean',
      describe: 'Keep the case of names in databuilder_ids (default: lower-case)',
    }) as unknown as Argv<T & ConversionArgs>
}

/** What a source command's builder gets. */
export interface SourceContext {
  report: Report
  ids: IdBuilder
  signal?: AbortSignal
  io: CliIO
  /** Options for openInput: signal, stdin, and the byte count for the summary. */
  input: InputOptions
  /**
   * The builder may set this to about how many resource ids the input holds, so the
   * validator's id index is sized once instead of growing (growth briefly holds the old and
   * the new index: on a 1 GB dbt manifest that was the largest single cost in peak RSS).
   */
  expectedIds?: number
  /** Set by {@link openCommandInput}: the main input held something (so no record is an error). */
  inputNotEmpty?: boolean
}

/**
 * Open a source command's main input (see openSource: missing files, directories and inputs
 * of another format fail here with coded errors), noting in `ctx` whether it held anything.
 */
export async function openCommandInput(
  ctx: SourceContext,
  file: string,
  expect: InputReader,
  options: { allowTruncated?: boolean } = {},
): Promise<SourceStream> {
  const input = await openSource(file, { ...ctx.input, expect, allowTruncated: options.allowTruncated === true })
  ctx.inputNotEmpty = input.kind !== 'empty'
  return input
}

/**
 * The run's report, which prints diagnostics on stderr as they happen (not with --json: they
 * go into its JSON summary), and is what the run summary is built from.
 */
export function createReport(argv: GlobalArgs, options: { print?: boolean } = {}): Report {
  const report = new Report({ maxErrors: argv['max-errors'] })
  argv.run.report = report
  if (argv.report !== undefined) {
    const collector = new ReportCollector()
    argv.run.collector = collector
    report.onRecord = (r, columnEdge) => collector.add(r, columnEdge)
  }
  const stderr = argv.io.stderr
  if (options.print !== false && !argv.json) {
    report.on('diagnostic', (d: Diagnostic) => {
      if (argv.quiet && d.severity === 'warning') return
      argv.run.progress?.clearLine()
      stderr.write(formatDiagnostic(d) + '\n')
    })
    report.on('suppressed', (code: string) => {
      argv.run.progress?.clearLine()
      if (!argv.quiet) stderr.write(`warning ${code}: further warnings of this kind are counted, not shown\n`)
    })
  }
  return report
}

/** Id builder from --id-prefix / --keep-case. */
export function idsFrom(argv: Partial<ConversionArgs>): IdBuilder {
  return createIdBuilder({ prefix: argv['id-prefix'], keepCase: argv['keep-case'] })
}

/**
 * Print how a run ended and return its exit status. SecodaErrors print as
 * `file:line: error CODE message`; anything else is a bug (INTERNAL), with its stack only
 * under --verbose. A closed stdout (EPIPE) ends quietly with 0.
 */
export function reportFailure(argv: GlobalArgs, err: unknown): number {
  argv.run.failure = err
  if (err instanceof BrokenPipeError) return 0
  const e = toSecodaError(err)
  // --json: the error is the summary's `fatal` (VALIDATION_FAILED: its diagnostics)
  if (argv.json && !argv.verbose) return e.exitCode
  const stderr = argv.io.stderr
  // VALIDATION_FAILED repeats what the diagnostics already said: print only its summary line
  if (e.code !== 'VALIDATION_FAILED') {
    const loc = formatLocation(e)
    stderr.write(`${loc && !e.message.includes(loc) ? loc + ': ' : ''}error ${e.code} ${e.message}\n`)
  } else stderr.write(`secoda-convert: ${e.message}\n`)
  if (argv.verbose || (!isSecodaError(err) && e.code === 'INTERNAL')) {
    if (argv.verbose) stderr.write(String((err as Error)?.stack ?? err) + '\n')
    else stderr.write('(run with --verbose for the stack trace)\n')
  }
  return e.exitCode
}

/** Options for openInput in a run: its signal, stdin, and counting bytes for the summary. */
export function inputOptions(argv: GlobalArgs): InputOptions {
  const run = argv.run
  run.bytes ??= 0
  const o: InputOptions = { stdin: argv.io.stdin, onRead: (n) => (run.bytes = (run.bytes ?? 0) + n) }
  if (argv.io.signal !== undefined) o.signal = argv.io.signal
  return o
}

/**
 * A source command about to read stdin that is a terminal would wait silently for typing:
 * fail with a usage hint instead. `inputs`: the command's input arguments ('-' or '' is stdin,
 * an empty list too).
 */
export function terminalStdin(argv: GlobalArgs, inputs: readonly (string | undefined)[]): SecodaError | undefined {
  const stdin = argv.io.stdin as NodeJS.ReadableStream & { isTTY?: boolean }
  if (stdin.isTTY !== true) return undefined
  if (inputs.length > 0 && !inputs.some((f) => f === '-' || f === '')) return undefined
  const cmd = argv.run.command ?? ''
  return new SecodaError(
    'USAGE',
    `no input: name a file, or pipe one in (stdin is a terminal); see secoda-convert ${cmd} --help for examples`,
  )
}

/** Total bytes of the inputs when every one is a regular file (directories: their split files). */
async function totalSize(inputs: readonly string[]): Promise<number | undefined> {
  if (inputs.length === 0) return undefined
  let total = 0
  for (const f of await expandInputs(inputs)) {
    const n = await inputSize(f)
    if (n === undefined) return undefined
    total += n
  }
  return total
}

/**
 * Start reading a command's inputs: refuse a terminal on stdin (see {@link terminalStdin}) and
 * start the progress display (bytes read of the inputs' total, records out, `phase`).
 */
export async function beginInput(argv: GlobalArgs, inputs: readonly (string | undefined)[], phase: string): Promise<void> {
  const tty = terminalStdin(argv, inputs)
  if (tty) throw tty
  const mode = progressMode(argv.progress, argv.quiet, argv.io.stderr)
  if (mode === 'off') return
  const files = inputs.filter((f): f is string => f !== undefined)
  const total = files.some((f) => f === '-' || f === '') ? undefined : await totalSize(files)
  const run = argv.run
  run.bytes ??= 0
  run.progress = await startProgress({
    stream: argv.io.stderr,
    mode,
    phase,
    ...(total !== undefined ? { total } : {}),
    source: {
      bytes: () => run.bytes ?? 0,
      records: () => {
        const r = run.report
        if (r === undefined) return 0
        let n = r.lineage
        for (const t of ENTITY_TYPES) n += r.resources[t]
        return n
      },
    },
  })
}

/**
 * End a command that read input: print its summary (text on stderr, or JSON on stdout with
 * --json; JSON into --summary-json's file too) and return the exit status. The summary is
 * printed on failure too, except after a usage or I/O error (exit 2) in text mode, whose
 * error line says it all.
 */
export async function endRun(argv: GlobalArgs, code: number): Promise<number> {
  const run = argv.run
  run.exitCode = code
  run.progress?.stop()
  const summary = buildSummary(run)
  // stdout's reader went away (`| head`): end quietly, as a pipe-closing run should
  if (run.failure instanceof BrokenPipeError) return 0
  if (argv.json) argv.io.stdout.write(JSON.stringify(summary, null, 2) + '\n')
  else if (!argv.quiet && code <= 1) argv.io.stderr.write(formatSummary(summary))
  if (argv.report !== undefined) {
    const html = (run.collector ?? new ReportCollector()).render(summary)
    try {
      await writeFile(argv.report, html)
    } catch (err) {
      const e = new SecodaError('OUTPUT_WRITE', `cannot write the report: ${(err as Error).message}`, { file: argv.report, cause: err })
      argv.io.stderr.write(`${argv.report}: error ${e.code} ${e.message}\n`)
      return Math.max(summary.exitCode, e.exitCode)
    }
  }
  const file = argv['summary-json']
  if (file !== undefined) {
    try {
      await writeFile(file, JSON.stringify(summary, null, 2) + '\n')
    } catch (err) {
      const e = new SecodaError('OUTPUT_WRITE', `cannot write the summary: ${(err as Error).message}`, { file, cause: err })
      argv.io.stderr.write(`${file}: error ${e.code} ${e.message}\n`)
      return Math.max(summary.exitCode, e.exitCode)
    }
  }
  return summary.exitCode
}

/**
 * The body of every conversion command: build the record source from `inputs` (file names,
 * '-' or none for stdin), validate and write it as the flags say, print the summary, and
 * return the exit status.
 */
export async function runSourceCommand(
  argv: ConversionArgs,
  inputs: readonly (string | undefined)[],
  build: (ctx: SourceContext) => Readable | AsyncIterable<SecodaRecord> | Promise<Readable | AsyncIterable<SecodaRecord>>,
): Promise<number> {
  const report = createReport(argv)
  const ctx: SourceContext = { report, ids: idsFrom(argv), signal: argv.io.signal, io: argv.io, input: inputOptions(argv) }
  const output: OutputOptions = {
    to: argv.to,
    output: argv.output,
    outDir: argv['out-dir'],
    sortOrderHeader: argv['sort-order-header'],
    stdout: argv.io.stdout,
    frame: argv.io.stdoutIsPipe === true,
  }
  try {
    await beginInput(argv, inputs, argv.upload ? 'uploading' : 'converting')
    // --upload: the integration is looked up first, then the source is opened and streamed
    // through validation into the request body. A source may set ctx.expectedIds while it is
    // built, to size the validator's id index up front.
    if (argv.upload) await runUpload(argv as unknown as UploadArgs, () => build(ctx), report, argv.to)
    else
      await runConversion(await build(ctx), {
        report,
        output,
        signal: argv.io.signal,
        validate: {
          ...(ctx.expectedIds !== undefined ? { expectedIds: ctx.expectedIds } : {}),
          ...(ctx.inputNotEmpty === true ? { emptyIsError: true } : {}),
        },
      })
    return await endRun(argv, 0)
  } catch (err) {
    return await endRun(argv, reportFailure(argv, err))
  }
}
