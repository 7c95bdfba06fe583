// The run summary every command that reads input ends with: one model (RunSummary) built
// from the report, the run's fatal error, the bytes read, the wall time and the upload's
// result; printed as text on stderr, or as one JSON object (--json on stdout, --summary-json
// into a file). Its schema is documented in docs/summary.md.

import type { Diagnostic } from '../errors.js'
import type { Report } from '../report.js'
import { ENTITY_TYPES, type EntityType } from '../records.js'
import type { UploadResult } from '../upload/sink.js'
import { BrokenPipeError, toSecodaError } from '../run/pipeline.js'

/** Version of the JSON shape below; bumped when a field changes meaning or goes away. */
export const SUMMARY_VERSION = 1

/** What an upload did, or how far it got (see docs/summary.md). */
export interface UploadSummary extends Partial<UploadResult> {
  /** True once the server accepted the upload (false for a dry run or a stopped upload). */
  synced: boolean
  /** Requests beyond the first (attempts - 1). */
  retries: number
}

/** The summary of one command run (the --json object; docs/summary.md). */
export interface RunSummary {
  version: number
  command: string
  /** True when the run had no error: `valid` ⇔ `errors === 0` ⇔ `exitCode === 0`. */
  valid: boolean
  exitCode: number
  /** Errors, the fatal one included. */
  errors: number
  warnings: number
  errorsByCode: Record<string, number>
  warningsByCode: Record<string, number>
  /** The error that ended the run, when it was not the collected errors' VALIDATION_FAILED. */
  fatal: Diagnostic | null
  resources: Record<EntityType, number>
  lineage: { total: number; table: number; column: number }
  input: { bytes: number }
  seconds: number
  /** Input megabytes (10⁶ bytes) per second of wall time. */
  mbPerSecond: number
  counters: Record<string, number>
  notes: Record<string, string>
  upload: UploadSummary | null
  /** The diagnostics kept (up to 1000; the counts above include the rest). */
  diagnostics: Diagnostic[]
}

/** What main() and the handlers collect while a command runs. */
export interface RunState {
  exitCode: number
  command?: string
  startedAt?: number
  /** Bytes read from input files and stdin (before gzip decompression). */
  bytes?: number
  report?: Report
  /** What ended the run (undefined when it ended normally). */
  failure?: unknown
  /** The upload's result, once the sink has one. */
  upload?: UploadResult
  /** True once an upload was set up (an upload command, or --upload). */
  uploading?: boolean
  /** What --report's page shows, collected as records pass. */
  collector?: { render(summary: RunSummary): string }
  /** The progress display, stopped before the summary prints. */
  progress?: { clearLine(): void; stop(): void }
}

/** Build the summary of a run. */
export function buildSummary(run: RunState, now = performance.now()): RunSummary {
  const s = run.report?.summary()
  const errorsByCode = { ...(s?.errorsByCode ?? {}) }
  let errors = s?.errors ?? 0
  let fatal: Diagnostic | null = null
  if (run.failure !== undefined && !(run.failure instanceof BrokenPipeError)) {
    const e = toSecodaError(run.failure)
    if (e.code !== 'VALIDATION_FAILED') {
      fatal = e.toDiagnostic()
      errors++
      errorsByCode[e.code] = (errorsByCode[e.code] ?? 0) + 1
    } else if (errors === 0) {
      // a validation failure with nothing counted (a stage threw it itself): still an error
      errors = 1
      errorsByCode[e.code] = 1
    }
  }
  const seconds = run.startedAt === undefined ? 0 : Math.max(0, (now - run.startedAt) / 1000)
  const bytes = run.bytes ?? 0
  const total = s?.lineage ?? 0
  const column = s?.columnLineage ?? 0
  const u = run.upload
  const upload: UploadSummary | null =
    u !== undefined
      ? { ...u, synced: !u.dryRun && u.status !== undefined, retries: Math.max(0, u.attempts - 1) }
      : run.uploading
        ? { synced: false, retries: 0 }
        : null
  const diagnostics = [...(run.report?.diagnostics ?? [])]
  if (fatal !== null) diagnostics.push(fatal)
  const exitCode = errors > 0 && run.exitCode === 0 ? 1 : run.exitCode
  return {
    version: SUMMARY_VERSION,
    command: run.command ?? '',
    valid: errors === 0 && exitCode === 0,
    exitCode,
    errors: errors === 0 && exitCode !== 0 ? 1 : errors,
    warnings: s?.warnings ?? 0,
    errorsByCode,
    warningsByCode: s?.warningsByCode ?? {},
    fatal,
    resources: s?.resources ?? (Object.fromEntries(ENTITY_TYPES.map((t) => [t, 0])) as Record<EntityType, number>),
    lineage: { total, table: total - column, column },
    input: { bytes },
    seconds: Math.round(seconds * 1000) / 1000,
    mbPerSecond: seconds > 0 ? Math.round((bytes / 1e6 / seconds) * 100) / 100 : 0,
    counters: s?.counters ?? {},
    notes: s?.notes ?? {},
    upload,
    diagnostics,
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`
}

/** Bytes for people: 512 B, 1.5 kB, 293.1 MB (powers of 10, as MB/s is). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n / 1000
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

function byCode(m: Record<string, number>): string {
  return Object.entries(m)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c, n]) => `${c} ${n}`)
    .join(', ')
}

/** The summary as text for stderr: one line of counts, then indented details. */
export function formatSummary(s: RunSummary): string {
  const parts = ENTITY_TYPES.filter((t) => s.resources[t] > 0).map((t) => plural(s.resources[t], t.replace('_', ' ')))
  parts.push(plural(s.lineage.total, 'lineage edge'))
  let text = `secoda-convert: ${parts.join(', ')}; ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}\n`
  const lines: string[] = []
  if (s.lineage.column > 0) lines.push(`lineage: ${s.lineage.table} table-level, ${s.lineage.column} column-level`)
  if (s.errors > 0) lines.push(`errors by code: ${byCode(s.errorsByCode)}`)
  if (s.warnings > 0) lines.push(`warnings by code: ${byCode(s.warningsByCode)}`)
  lines.push(`read ${formatBytes(s.input.bytes)} in ${s.seconds.toFixed(2)} s${s.seconds > 0 ? ` (${s.mbPerSecond.toFixed(1)} MB/s)` : ''}`)
  if (s.upload !== null && !s.upload.synced && s.upload.dryRun !== true) lines.push('upload: nothing was synced')
  for (const [k, v] of Object.entries(s.notes)) lines.push(`${k}: ${v}`)
  for (const [k, v] of Object.entries(s.counters)) lines.push(`${k}: ${v}`)
  if (lines.length > 0) text += lines.map((l) => `  ${l}`).join('\n') + '\n'
  return text
}
