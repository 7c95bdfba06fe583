// The diagnostics collector every stage of one run shares: it applies the error policy
// (stop at the first error, or collect up to N), keeps counters for progress and the
// summary, and tells listeners about each diagnostic as it happens.

import { EventEmitter } from 'node:events'
import { SecodaError, type Diagnostic, type ErrorCode, type Position } from './errors.js'
import { ENTITY_TYPES, type EntityType, type SecodaRecord, isLineage } from './records.js'

/** Options of a {@link Report}. */
export interface ReportOptions {
  /**
   * Stop the run when this many errors have been reported (1 = stop at the first error).
   * Errors below the limit are collected and the run fails at its end. Default 1.
   */
  maxErrors?: number
  /** Warnings of one code passed to listeners before the rest are only counted. Default 20. */
  maxWarningsPerCode?: number
  /** Diagnostics kept in {@link Report.diagnostics} (the rest are only counted). Default 1000. */
  keep?: number
}

/** The counts a summary prints. */
export interface Summary {
  resources: Record<EntityType, number>
  /** Lineage edges, all of them. */
  lineage: number
  /**
   * Of {@link lineage}, the column-level edges: both ends are columns (an external_column id,
   * or the id of a column resource that came before the edge in the input). The rest are
   * table-level.
   */
  columnLineage: number
  errors: number
  warnings: number
  /** Errors per code (reported ones: a run's fatal error is added by the CLI's run summary). */
  errorsByCode: Record<string, number>
  /** Warnings per code, including the ones only counted. */
  warningsByCode: Record<string, number>
  /** Extra per-source counters, e.g. `dbt.skipped.test`. */
  counters: Record<string, number>
  /** Notes sources attach for the summary, e.g. `dbt.schema_version`. */
  notes: Record<string, string>
}

/**
 * Shared by the stages of one run. Stages call {@link Report.add} (or the error/warn
 * shorthands); when the error limit is reached, `add` throws a VALIDATION_FAILED
 * {@link SecodaError}, which the calling stage turns into a stream error.
 *
 * Events: `diagnostic` (each diagnostic passed to listeners), `suppressed` (code, the first
 * warning of a code beyond maxWarningsPerCode).
 */
export class Report extends EventEmitter {
  readonly options: Readonly<Required<ReportOptions>>
  readonly diagnostics: Diagnostic[] = []
  errors = 0
  warnings = 0
  readonly resources: Record<EntityType, number>
  lineage = 0
  columnLineage = 0
  readonly counters: Record<string, number> = {}
  readonly notes: Record<string, string> = {}
  private readonly perCode = new Map<ErrorCode, number>()
  private readonly errorCodes = new Map<ErrorCode, number>()

  constructor(options: ReportOptions = {}) {
    super()
    this.options = Object.freeze({
      maxErrors: Math.max(1, options.maxErrors ?? 1),
      maxWarningsPerCode: options.maxWarningsPerCode ?? 20,
      keep: options.keep ?? 1000,
    })
    this.resources = Object.fromEntries(ENTITY_TYPES.map((t) => [t, 0])) as Record<EntityType, number>
  }

  /** True once any error has been reported. */
  get failed(): boolean {
    return this.errors > 0
  }

  /** Record one diagnostic; throws VALIDATION_FAILED when the error limit is reached. */
  add(d: Diagnostic): void {
    const n = (this.perCode.get(d.code) ?? 0) + 1
    this.perCode.set(d.code, n)
    if (d.severity === 'error') {
      this.errors++
      this.errorCodes.set(d.code, (this.errorCodes.get(d.code) ?? 0) + 1)
      this.keepAndEmit(d)
      if (this.errors >= this.options.maxErrors) throw this.failure()
      return
    }
    this.warnings++
    if (n <= this.options.maxWarningsPerCode) this.keepAndEmit(d)
    else if (n === this.options.maxWarningsPerCode + 1) this.emit('suppressed', d.code)
  }

  /** Report an error. */
  error(code: ErrorCode, message: string, pos: Position = {}): void {
    this.add({ code, severity: 'error', message, ...pos })
  }

  /** Report a warning. */
  warn(code: ErrorCode, message: string, pos: Position = {}): void {
    this.add({ code, severity: 'warning', message, ...pos })
  }

  /** Number of diagnostics of a code (including ones not passed to listeners). */
  count(code: ErrorCode): number {
    return this.perCode.get(code) ?? 0
  }

  /** Add to a named counter. */
  bump(counter: string, by = 1): void {
    this.counters[counter] = (this.counters[counter] ?? 0) + by
  }

  /** Told each record counted (the CLI's --report collects what its page shows from it). */
  onRecord: ((r: SecodaRecord, columnEdge: boolean) => void) | undefined

  /** Count a record that passed through (for the summary); `columnEdge`: a column-level edge. */
  countRecord(r: SecodaRecord, columnEdge = false): void {
    this.onRecord?.(r, columnEdge)
    if (isLineage(r)) {
      this.lineage++
      if (columnEdge) this.columnLineage++
    } else if (r.entity_type in this.resources) this.resources[r.entity_type]++
  }

  /** The error a failed run ends with. */
  failure(): SecodaError {
    const first = this.diagnostics.find((d) => d.severity === 'error')
    const msg =
      this.errors === 1 && first
        ? `input is invalid: 1 error (${first.code})`
        : `input is invalid: ${this.errors} error${this.errors === 1 ? '' : 's'}${this.errors >= this.options.maxErrors && this.options.maxErrors > 1 ? ` (stopped at --max-errors ${this.options.maxErrors})` : ''}`
    return new SecodaError('VALIDATION_FAILED', msg, { diagnostics: this.diagnostics.filter((d) => d.severity === 'error') })
  }

  /** Throw the run's failure if any error was reported (call at the end of a run). */
  throwIfFailed(): void {
    if (this.errors > 0) throw this.failure()
  }

  /** A plain snapshot for summaries and --json. */
  summary(): Summary {
    return {
      resources: { ...this.resources },
      lineage: this.lineage,
      columnLineage: this.columnLineage,
      errors: this.errors,
      warnings: this.warnings,
      errorsByCode: Object.fromEntries(this.errorCodes),
      warningsByCode: Object.fromEntries(
        [...this.perCode].filter(([c, n]) => n > (this.errorCodes.get(c) ?? 0)).map(([c, n]) => [c, n - (this.errorCodes.get(c) ?? 0)]),
      ),
      counters: { ...this.counters },
      notes: { ...this.notes },
    }
  }

  private keepAndEmit(d: Diagnostic): void {
    if (this.diagnostics.length < this.options.keep) this.diagnostics.push(d)
    this.emit('diagnostic', d)
  }
}
