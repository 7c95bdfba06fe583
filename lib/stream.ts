// A stream-free stage core → a Node Transform: the one stream shell every stage uses, with
// one error path and backpressure. Modelled on stream-json's `asStream` and csv-parse's
// `Parser` Transform around its `parse(buf, end, push, close)` core.
//
// The core protocol, the same for every stage (readers, validator, writers, sources):
//   push(chunk, emit)  one input chunk (a Buffer, or a record); output goes to emit()
//   end(emit)          end of input; may also return an Iterable of trailing output,
//                      which the stream pulls only as its reader asks for it
//   info               the stage's counters (StageInfo plus stage-specific fields)
//   mode               what it takes in and gives out: bytes or records
// A core reports problems to its Report and throws a SecodaError to stop the run. Whatever a
// core throws reaches the stream's callback once, through toStageError().

import { Transform, type TransformCallback } from 'node:stream'
import { SecodaError, isSecodaError } from './errors.js'

/** Bytes (Buffers) or records (objects) on one side of a stage. */
export type StageSide = 'bytes' | 'records'

/** What a stage takes in and gives out. */
export interface StageMode {
  readonly in: StageSide
  readonly out: StageSide
}

/** The four stage shapes. */
export const BYTES_TO_RECORDS: StageMode = Object.freeze({ in: 'bytes', out: 'records' })
export const RECORDS_TO_RECORDS: StageMode = Object.freeze({ in: 'records', out: 'records' })
export const RECORDS_TO_BYTES: StageMode = Object.freeze({ in: 'records', out: 'bytes' })
export const BYTES_TO_BYTES: StageMode = Object.freeze({ in: 'bytes', out: 'bytes' })

/**
 * The counters every stage keeps, under the one name `info` (as csv-parse's `parser.info`).
 * A stage adds its own fields (lines, invalid, dropped, ...) beside these.
 */
export interface StageInfo {
  /** Bytes taken in (stages whose input is bytes; 0 for the others). */
  bytesIn: number
  /** Records taken in (stages whose input is records; 0 for the others). */
  recordsIn: number
  /** Records given out (for writers: the lines or rows written). */
  recordsOut: number
  /** Bytes given out (stages whose output is bytes; 0 for the others). */
  bytesOut: number
}

/** A fresh {@link StageInfo} with every counter at 0, plus a stage's own fields. */
export function stageInfo<E extends object = Record<never, never>>(extra?: E): StageInfo & E {
  return { bytesIn: 0, recordsIn: 0, recordsOut: 0, bytesOut: 0, ...(extra as E) }
}

/** Where a core's output goes. */
export type Emit<Out> = (out: Out) => void

/** The stream-free core of a stage (see the protocol at the top of this file). */
export interface StageCore<In, Out, I extends StageInfo = StageInfo> {
  readonly mode: StageMode
  readonly info: I
  /** One input chunk; output (any amount) goes to `emit` before it returns. */
  push(chunk: In, emit: Emit<Out>): void
  /**
   * End of input: the rest of the output goes to `emit`, or is returned as an Iterable that
   * the stream pulls as its reader asks (so a long tail is not buffered all at once).
   */
  end(emit: Emit<Out>): Iterable<Out> | undefined
}

/** Stream-level options of {@link asStream}. */
export interface AsStreamOptions {
  /** Buffered records on an object side (default 256): one crossing per record is costly. */
  objectHighWaterMark?: number
  /** Run before the first chunk (e.g. load a WASM parser); a rejection fails the stream. */
  init?: () => Promise<void>
}

/** A stage as a Transform: its counters as `info`, its core as `core`. */
export type StageStream<C extends StageCore<unknown, unknown, StageInfo>> = Transform & { readonly info: C['info']; readonly core: C }

/**
 * The one conversion of whatever a core throws: an Error (SecodaError or not) passes as it
 * is, so its code, position and stack stay; anything else thrown becomes an INTERNAL error.
 */
export function toStageError(e: unknown): Error {
  if (isSecodaError(e) || e instanceof Error) return e
  return new SecodaError('INTERNAL', `internal error: a stage threw ${typeof e === 'string' ? JSON.stringify(e) : String(e)}`, { cause: e })
}

/**
 * Wrap a stage core as a Transform, byte or object mode on each side as `core.mode` says.
 * Backpressure: the Transform takes the next input chunk only once its reader has room, and
 * an Iterable returned by `end` is pulled while `push` returns true, resumed on the next read.
 */
export function asStream<C extends StageCore<never, unknown, StageInfo>>(core: C, options: AsStreamOptions = {}): StageStream<C> {
  const hwm = options.objectHighWaterMark ?? 256
  const objIn = core.mode.in === 'records'
  const objOut = core.mode.out === 'records'
  const init = options.init
  /** Set while an end() Iterable waits for the reader (see _read below). */
  let resume: (() => void) | undefined
  const t = new Transform({
    writableObjectMode: objIn,
    readableObjectMode: objOut,
    ...(objIn ? { writableHighWaterMark: hwm } : {}),
    ...(objOut ? { readableHighWaterMark: hwm } : {}),
    ...(init !== undefined
      ? {
          construct(cb: (e?: Error | null) => void) {
            init().then(
              () => cb(),
              (e: unknown) => cb(toStageError(e)),
            )
          },
        }
      : {}),
    transform(chunk: Parameters<C['push']>[0], _enc: BufferEncoding, cb: TransformCallback) {
      try {
        core.push(chunk, emit)
      } catch (e) {
        cb(toStageError(e))
        return
      }
      cb()
    },
    flush(cb: TransformCallback) {
      let rest: Iterator<unknown> | undefined
      try {
        rest = core.end(emit)?.[Symbol.iterator]()
      } catch (e) {
        cb(toStageError(e))
        return
      }
      if (rest === undefined) {
        cb()
        return
      }
      const iter = rest
      const pump = (): void => {
        resume = undefined
        if (t.destroyed) return
        try {
          for (;;) {
            const next = iter.next()
            if (next.done === true) break
            if (!t.push(next.value)) {
              resume = pump
              return
            }
          }
        } catch (e) {
          cb(toStageError(e))
          return
        }
        cb()
      }
      pump()
    },
  })
  const emit = (out: unknown): void => {
    t.push(out)
  }
  // Transform's _read only asks its writable side for more; while end()'s Iterable waits,
  // a read resumes it
  const transformRead = t._read.bind(t)
  t._read = (n: number): void => {
    transformRead(n)
    if (resume !== undefined) resume()
  }
  return Object.assign(t, { info: core.info, core }) as StageStream<C>
}

/**
 * The same core as an async generator over an input (e.g. `openInput(file)`): for a caller
 * that wants records without a stream. Errors are thrown through {@link toStageError}, as
 * the stream's are.
 */
export async function* iterateStage<In, Out>(core: StageCore<In, Out, StageInfo>, source: AsyncIterable<In>): AsyncGenerator<Out> {
  const out: Out[] = []
  const emit = (x: Out): void => {
    out.push(x)
  }
  let rest: Iterable<Out> | undefined
  try {
    for await (const chunk of source) {
      core.push(chunk, emit)
      if (out.length > 0) yield* out.splice(0)
    }
    rest = core.end(emit)
  } catch (e) {
    throw toStageError(e)
  }
  if (out.length > 0) yield* out.splice(0)
  if (rest === undefined) return
  try {
    yield* rest
  } catch (e) {
    throw toStageError(e)
  }
}

/**
 * Two cores as one stage: `a`'s output is `b`'s input, in the same call. Saves the stream
 * crossing per record between two record stages (the validator in front of the CSV writer).
 * Its info is `info`, by default `b`'s (`a` keeps its own).
 */
export function chain<In, Mid, Out, IA extends StageInfo, IB extends StageInfo, I extends StageInfo = IB>(
  a: StageCore<In, Mid, IA>,
  b: StageCore<Mid, Out, IB>,
  info?: I,
): StageCore<In, Out, I> {
  // one forwarding function per downstream emit (the adapter's is always the same one)
  let lastEmit: Emit<Out> | undefined
  let toB: Emit<Mid> = () => {}
  const forward = (emit: Emit<Out>): Emit<Mid> => {
    if (emit !== lastEmit) {
      lastEmit = emit
      toB = (m) => b.push(m, emit)
    }
    return toB
  }
  return {
    mode: { in: a.mode.in, out: b.mode.out },
    info: info ?? (b.info as StageInfo as I),
    push(chunk: In, emit: Emit<Out>): void {
      a.push(chunk, forward(emit))
    },
    end(emit: Emit<Out>): Iterable<Out> | undefined {
      const f = forward(emit)
      const rest = a.end(f)
      if (rest !== undefined) for (const m of rest) f(m)
      return b.end(emit)
    },
  }
}
