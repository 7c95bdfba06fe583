// What every command shares: the output and policy flags, the run context (report, id
// builder, signal), printing diagnostics and the summary on stderr, and mapping how a run
// ended to an exit status (0 ok, 1 invalid input, 2 usage or I/O).

import type { Argv } from 'yargs'
import type { Readable } from 'node:stream'
import { type Diagnostic, formatDiagnostic, formatLocation, isSecodaError } from '../errors.js'
import { type IdBuilder, createIdBuilder } from '../ids.js'
import { BrokenPipeError, runConversion, toSecodaError, type OutputOptions } from '../run/pipeline.js'
import { Report, type Summary } from '../report.js'
import { ENTITY_TYPES, type SecodaRecord } from '../records.js'
import type { CliIO, GlobalArgs } from './io.js'

export type { GlobalArgs } from './io.js'
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

/** Add --max-errors (every command that reads input has it). */
export function policyOptions<T>(y: Argv<T>): Argv<T & { 'max-errors': number }> {
  return y
    .option('max-errors', {
      type: 'number',
      default: 20,
      describe: 'Stop after this many errors (1 = stop at the first); warnings never stop a run',
    })
    .check((a) => {
      const n = (a as { 'max-errors'?: unknown })['max-errors']
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        throw new Error(`--max-errors must be a whole number ≥ 1, got ${String(n)}`)
      return true
    }) as Argv<T & { 'max-errors': number }>
}

/** Add the output flags every conversion command has (and --upload with its flags). */
export function conversionOptions<T>(y: Argv<T>): Argv<T & ConversionArgs> {
  return conversionUploadOptions(policyOptions(y))
    .conflicts('upload', ['output', 'out-dir'])
    .option('to', {
      choices: ['jsonl', 'csv'] as const,
      default: 'jsonl' as const,
      describe: 'Output format: Secoda JSONL or the Secoda columns CSV',
    })
    .option('output', { alias: 'o', type: 'string', describe: 'Write to this file (atomically) instead of stdout' })
    .option('out-dir', {
      type: 'string',
      describe: 'Write resources.jsonl + lineage.jsonl (or columns.csv with --to csv) into this directory',
    })
    .conflicts('output', 'out-dir')
    .option('sort-order-header', {
      choices: ['col_sort_order', 'sort_order'] as const,
      default: 'col_sort_order' as const,
      describe: 'CSV: header name of the column-position field',
    })
    .option('id-prefix', { type: 'string', describe: 'Prefix every databuilder_id with this (e.g. an integration name)' })
    .option('keep-case', {
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
  /**
   * The builder may set this to about how many resource ids the input holds, so the
   * validator's id index is sized once instead of growing (growth briefly holds the old and
   * the new index: on a 1 GB dbt manifest that was the largest single cost in peak RSS).
   */
  expectedIds?: number
}

/** A report that prints diagnostics on stderr as they happen (unless --json). */
export function createReport(argv: GlobalArgs, options: { print?: boolean } = {}): Report {
  const report = new Report({ maxErrors: argv['max-errors'] })
  const stderr = argv.io.stderr
  if (options.print !== false) {
    report.on('diagnostic', (d: Diagnostic) => {
      if (argv.quiet && d.severity === 'warning') return
      stderr.write(formatDiagnostic(d) + '\n')
    })
    report.on('suppressed', (code: string) => {
      if (!argv.quiet) stderr.write(`warning ${code}: further warnings of this kind are counted, not shown\n`)
    })
  }
  return report
}

/** Id builder from --id-prefix / --keep-case. */
export function idsFrom(argv: Partial<ConversionArgs>): IdBuilder {
  return createIdBuilder({ prefix: argv['id-prefix'], keepCase: argv['keep-case'] })
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`
}

/** One-paragraph summary for stderr. */
export function formatSummary(s: Summary): string {
  const parts = ENTITY_TYPES.filter((t) => s.resources[t] > 0).map((t) => plural(s.resources[t], t.replace('_', ' ')))
  parts.push(plural(s.lineage, 'lineage edge'))
  let text = `secoda-convert: ${parts.join(', ')}; ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}\n`
  const notes = Object.entries(s.notes)
  if (notes.length > 0) text += notes.map(([k, v]) => `  ${k}: ${v}`).join('\n') + '\n'
  const counters = Object.entries(s.counters)
  if (counters.length > 0) text += counters.map(([k, v]) => `  ${k}: ${v}`).join('\n') + '\n'
  return text
}

/**
 * Print how a run ended and return its exit status. SecodaErrors print as
 * `file:line: error CODE message`; anything else is a bug (INTERNAL), with its stack only
 * under --verbose. A closed stdout (EPIPE) ends quietly with 0.
 */
export function reportFailure(argv: GlobalArgs, err: unknown): number {
  if (err instanceof BrokenPipeError) return 0
  const e = toSecodaError(err)
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

/**
 * The body of every conversion command: build the record source, validate and write it as
 * the flags say, print the summary, and return the exit status.
 */
export async function runSourceCommand(
  argv: ConversionArgs,
  build: (ctx: SourceContext) => Readable | AsyncIterable<SecodaRecord> | Promise<Readable | AsyncIterable<SecodaRecord>>,
): Promise<number> {
  const report = createReport(argv)
  const ctx: SourceContext = { report, ids: idsFrom(argv), signal: argv.io.signal, io: argv.io }
  const output: OutputOptions = {
    to: argv.to,
    output: argv.output,
    outDir: argv['out-dir'],
    sortOrderHeader: argv['sort-order-header'],
    stdout: argv.io.stdout,
  }
  try {
    // --upload: the integration is looked up first, then the source is opened and streamed
    // through validation into the request body. A source may set ctx.expectedIds while it is
    // built, to size the validator's id index up front.
    const summary = argv.upload
      ? await runUpload(argv as unknown as UploadArgs, () => build(ctx), report, argv.to)
      : await runConversion(await build(ctx), {
          report,
          output,
          signal: argv.io.signal,
          ...(ctx.expectedIds !== undefined ? { validate: { expectedIds: ctx.expectedIds } } : {}),
        })
    if (!argv.quiet) argv.io.stderr.write(formatSummary(summary))
    return 0
  } catch (err) {
    const code = reportFailure(argv, err)
    if (!argv.quiet && code === 1) argv.io.stderr.write(formatSummary(report.summary()))
    return code
  }
}
