// Progress of a long run on stderr, drawn with cli-progress: bytes read with percent and ETA
// when the input's size is known (files), bytes and rate when it is not (stdin); records out;
// and the phase. Redrawn at most 10 times a second on a terminal and cleared before the
// summary; with --progress on a non-terminal (CI logs), one plain line every few seconds.

import { formatBytes } from './summary.js'

/** How progress shows: redrawn in place, as periodic plain lines, or not at all. */
export type ProgressMode = 'tty' | 'plain' | 'off'

/** What the progress line reads, each time it is drawn. */
export interface ProgressSource {
  /** Bytes read so far. */
  bytes(): number
  /** Records out so far. */
  records(): number
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  stream: NodeJS.WritableStream
  mode: ProgressMode
  /** Total input bytes, when known (every input a regular file). */
  total?: number
  /** What the run does: reading, validating, uploading. */
  phase: string
  source: ProgressSource
  /** Redraws a second on a terminal (default 10). */
  fps?: number
  /** Milliseconds between plain lines (default 5000). */
  plainEveryMs?: number
}

/** A running progress display. */
export interface Progress {
  readonly mode: ProgressMode
  /** Erase the line (on a terminal) so that other output starts on a clean line. */
  clearLine(): void
  /** Stop drawing and erase the line; safe to call twice. */
  stop(): void
}

const OFF: Progress = { mode: 'off', clearLine() {}, stop() {} }

/** Choose the mode from the flags and the stream: --progress forces it, --no-progress and --quiet turn it off. */
export function progressMode(flag: boolean | undefined, quiet: boolean | undefined, stream: NodeJS.WritableStream): ProgressMode {
  const tty = (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true
  if (flag === false) return 'off'
  if (flag === true) return tty ? 'tty' : 'plain'
  return tty && !quiet ? 'tty' : 'off'
}

function seconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?'
  if (s < 60) return `${Math.round(s)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** The progress line (without the bar's own escape codes). */
export function progressLine(
  p: { phase: string; bytes: number; total?: number; records: number; elapsedMs: number; bar?: string },
  eta?: number,
): string {
  const rate = p.elapsedMs > 0 ? (p.bytes / p.elapsedMs) * 1000 : 0
  const records = `${p.records.toLocaleString('en-US')} records out`
  if (p.total !== undefined && p.total > 0) {
    const pct = Math.min(100, Math.floor((p.bytes / p.total) * 100))
    const left = eta ?? (rate > 0 ? (p.total - p.bytes) / rate : Number.NaN)
    return `${p.phase} ${p.bar ?? ''}${p.bar ? ' ' : ''}${pct}% ${formatBytes(p.bytes)} of ${formatBytes(p.total)}, ETA ${seconds(left)} | ${records}`
  }
  return `${p.phase} ${formatBytes(p.bytes)} at ${formatBytes(Math.round(rate))}/s | ${records}`
}

/** Start drawing progress (or nothing, in mode 'off'). */
export async function startProgress(options: ProgressOptions): Promise<Progress> {
  if (options.mode === 'off') return OFF
  // loaded on use: runs without progress (pipes, CI) do not pay for loading it
  const { default: cliProgress } = await import('cli-progress')
  const { source, total, phase } = options
  const known = total !== undefined && total > 0
  const bar = new cliProgress.SingleBar(
    {
      stream: options.stream as NodeJS.WritableStream & NodeJS.WriteStream,
      fps: options.fps ?? 10,
      noTTYOutput: options.mode === 'plain',
      notTTYSchedule: options.plainEveryMs ?? 5000,
      clearOnComplete: true,
      hideCursor: false,
      gracefulExit: false,
      linewrap: false,
      barsize: 20,
      format: (opts, params, payload: { records: number }) =>
        progressLine(
          {
            phase,
            bytes: params.value,
            ...(known ? { total: params.total } : {}),
            records: payload.records,
            elapsedMs: Date.now() - params.startTime,
            ...(known && options.mode === 'tty'
              ? {
                  bar:
                    (opts.barCompleteString ?? '').slice(0, Math.round(params.progress * (opts.barsize ?? 20))) +
                    (opts.barIncompleteString ?? '').slice(0, (opts.barsize ?? 20) - Math.round(params.progress * (opts.barsize ?? 20))),
                }
              : {}),
          },
          params.eta,
        ),
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(known ? total : 0, 0, { records: 0 })
  // the values are read on a timer instead of on every chunk: nothing on the hot path
  const tick = setInterval(() => bar.update(source.bytes(), { records: source.records() }), 100)
  tick.unref()
  let stopped = false
  return {
    mode: options.mode,
    clearLine() {
      if (options.mode === 'tty' && !stopped) options.stream.write('\r\x1b[K')
    },
    stop() {
      if (stopped) return
      stopped = true
      clearInterval(tick)
      // stop() draws the final figures once more, then erases the line on a terminal
      bar.update(source.bytes(), { records: source.records() })
      bar.stop()
    },
  }
}
