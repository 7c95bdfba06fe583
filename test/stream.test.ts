// lib/stream.ts: the one stage adapter — error path, backpressure, many records per chunk,
// the pulled tail of end(), init, the async-generator form and chained cores.

import t from 'tap'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { SecodaError } from '../lib/errors.js'
import {
  BYTES_TO_RECORDS,
  RECORDS_TO_RECORDS,
  type Emit,
  type StageCore,
  type StageInfo,
  asStream,
  chain,
  iterateStage,
  stageInfo,
  toStageError,
} from '../lib/stream.js'
import { collect } from './helpers.js'

/** A byte → record core: each byte becomes `fanOut` records; `fail` says where to throw. */
class Fan implements StageCore<Buffer, { n: number }> {
  readonly mode = BYTES_TO_RECORDS
  readonly info: StageInfo = stageInfo()
  ended = 0
  constructor(
    private readonly fanOut: number,
    private readonly fail: { inPush?: unknown; inEnd?: unknown; inTail?: unknown; tail?: number } = {},
  ) {}
  push(chunk: Buffer, emit: Emit<{ n: number }>): void {
    this.info.bytesIn += chunk.length
    for (const _ of chunk) {
      for (let i = 0; i < this.fanOut; i++) {
        this.info.recordsOut++
        emit({ n: this.info.recordsOut })
      }
    }
    if (this.fail.inPush !== undefined) throw this.fail.inPush
  }
  end(emit: Emit<{ n: number }>): Iterable<{ n: number }> | undefined {
    this.ended++
    if (this.fail.inEnd !== undefined) throw this.fail.inEnd
    emit({ n: -1 })
    const tail = this.fail.tail
    if (tail === undefined) return undefined
    const info = this.info
    const inTail = this.fail.inTail
    return (function* () {
      for (let i = 0; i < tail; i++) {
        if (inTail !== undefined && i === tail - 1) throw inTail
        info.recordsOut++
        yield { n: -2 - i }
      }
    })()
  }
}

/** A Writable that records every error callback and counts records, reading slowly. */
function slowSink(seen: number[], delayEvery = 50): Writable {
  let k = 0
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(r: { n: number }, _enc, cb) {
      seen.push(r.n)
      if (++k % delayEvery === 0) setImmediate(cb)
      else cb()
    },
  })
}

t.test('a SecodaError thrown in push reaches the pipeline once, unchanged', async (t) => {
  const err = new SecodaError('JSON_SYNTAX', 'bad', { file: 'f', line: 3 })
  const s = asStream(new Fan(1, { inPush: err }))
  const errors: unknown[] = []
  s.on('error', (e) => errors.push(e))
  await t.rejects(pipeline(Readable.from([Buffer.from('ab')]), s, slowSink([])), err)
  t.equal(errors.length, 1, 'one error event')
  t.equal(errors[0], err, 'the same object: code, file and line kept')
})

t.test('a plain Error thrown in end passes as it is; end is called once', async (t) => {
  const err = new TypeError('boom')
  const core = new Fan(1, { inEnd: err })
  const s = asStream(core)
  const errors: unknown[] = []
  s.on('error', (e) => errors.push(e))
  await t.rejects(pipeline(Readable.from([Buffer.from('a')]), s, slowSink([])), err)
  t.same([errors.length, core.ended], [1, 1])
})

t.test('a thrown non-Error becomes one INTERNAL SecodaError, in push and in end alike', async (t) => {
  for (const where of ['inPush', 'inEnd', 'inTail'] as const) {
    const s = asStream(new Fan(1, { [where]: 'a string', tail: 3 }))
    const errors: unknown[] = []
    s.on('error', (e) => errors.push(e))
    const got = await pipeline(Readable.from([Buffer.from('a')]), s, slowSink([])).catch((e: unknown) => e)
    t.match(got, { code: 'INTERNAL', message: /a stage threw "a string"/, cause: 'a string' }, where)
    t.equal(errors.length, 1, `${where}: one error event`)
  }
  t.equal(toStageError(42).message, 'internal error: a stage threw 42')
})

t.test('many records from one chunk all arrive, in order, through a slow reader', async (t) => {
  const seen: number[] = []
  const core = new Fan(10_000)
  await pipeline(Readable.from([Buffer.from('xyz')]), asStream(core), slowSink(seen))
  t.equal(seen.length, 30_001)
  t.same(seen.slice(0, 3), [1, 2, 3])
  t.equal(seen[29_999], 30_000)
  t.equal(seen[30_000], -1, 'what end() emits comes last')
  t.same(core.info, { bytesIn: 3, recordsIn: 0, recordsOut: 30_000, bytesOut: 0 })
})

t.test('backpressure: no chunk is pushed into the core while the reader is full', async (t) => {
  const core = new Fan(300) // more than the 256-record buffer per byte
  const s = asStream(core)
  const chunks = Array.from({ length: 20 }, () => Buffer.from('a'))
  const src = Readable.from(chunks)
  src.pipe(s)
  // nobody reads: the stage must stop taking input after its buffers fill
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(core.info.bytesIn < 20, `stopped after ${core.info.bytesIn} of 20 chunks`)
  t.ok(s.readableLength <= 300 + 256, `readable side holds ${s.readableLength}`)
  const all = await collect<{ n: number }>(s)
  t.equal(all.length, 20 * 300 + 1, 'nothing lost')
  t.equal(core.info.bytesIn, 20, 'then every chunk went through')
})

t.test("end()'s iterable is pulled as the reader asks, not buffered at once", async (t) => {
  const core = new Fan(0, { tail: 5000 })
  const s = asStream(core)
  s.end(Buffer.from('a'))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(core.info.recordsOut <= 300, `only ${core.info.recordsOut} of 5000 pulled before anyone reads`)
  const all = await collect<{ n: number }>(s)
  t.equal(all.length, 5001)
  t.same(
    all.slice(0, 2).map((r) => r.n),
    [-1, -2],
  )
  t.equal(all[5000]!.n, -5001)
})

t.test('an error inside the pulled tail fails the stream once', async (t) => {
  const err = new SecodaError('DBT_JSON', 'late')
  const core = new Fan(0, { tail: 1000, inTail: err })
  const s = asStream(core)
  const errors: unknown[] = []
  s.on('error', (e) => errors.push(e))
  const seen: number[] = []
  await t.rejects(pipeline(Readable.from([Buffer.from('a')]), s, slowSink(seen, 7)), err)
  t.equal(errors.length, 1)
  t.equal(core.info.recordsOut, 999, 'the tail was pulled up to the error')
  t.ok(seen.length < 1000, `the error ended the stream: ${seen.length} records reached the sink`)
})

t.test('init runs before the first chunk; its rejection fails the stream', async (t) => {
  const order: string[] = []
  const core: StageCore<Buffer, string> = {
    mode: BYTES_TO_RECORDS,
    info: stageInfo(),
    push(c, emit) {
      order.push('push')
      emit(c.toString())
    },
    end() {
      return undefined
    },
  }
  const ok = asStream(core, {
    init: async () => {
      await new Promise((r) => setTimeout(r, 10))
      order.push('init')
    },
  })
  t.same(await collect(Readable.from([Buffer.from('q')]).pipe(ok)), ['q'])
  t.same(order, ['init', 'push'])
  const bad = asStream(core, { init: () => Promise.reject(new Error('no wasm')) })
  await t.rejects(pipeline(Readable.from([Buffer.from('q')]), bad, slowSink([])), { message: 'no wasm' })
})

t.test('the stream exposes the core and its info object (the same object, live)', async (t) => {
  const core = new Fan(2)
  const s = asStream(core)
  t.equal(s.core, core)
  t.equal(s.info, core.info)
  await collect(Readable.from([Buffer.from('abc')]).pipe(s))
  t.equal(s.info.recordsOut, 6)
  t.equal(s.readableObjectMode, true)
  t.equal(s.writableObjectMode, false, 'byte input, as the core declares')
})

t.test('iterateStage: the same records and the same errors without a stream', async (t) => {
  async function* src(): AsyncGenerator<Buffer> {
    yield Buffer.from('ab')
    yield Buffer.from('c')
  }
  const got = await collect(iterateStage(new Fan(2, { tail: 2 }), src()))
  t.same(
    got.map((r) => r.n),
    [1, 2, 3, 4, 5, 6, -1, -2, -3],
  )
  await t.rejects(collect(iterateStage(new Fan(1, { inPush: 'x' }), src())), { code: 'INTERNAL' })
  await t.rejects(collect(iterateStage(new Fan(1, { tail: 2, inTail: 7 }), src())), { code: 'INTERNAL', cause: 7 })
})

t.test('chain: two cores as one stage, in order, with the second one’s info', async (t) => {
  const double: StageCore<{ n: number }, { n: number }> = {
    mode: RECORDS_TO_RECORDS,
    info: stageInfo(),
    push(r, emit) {
      this.info.recordsIn++
      emit({ n: r.n * 2 })
    },
    end(emit) {
      emit({ n: 0 })
      return [{ n: 100 }]
    },
  }
  const fan = new Fan(1, { tail: 1 })
  const both = chain(fan, double)
  t.equal(both.info, double.info)
  t.same(both.mode, BYTES_TO_RECORDS)
  const got = await collect<{ n: number }>(Readable.from([Buffer.from('ab')]).pipe(asStream(both)))
  t.same(
    got.map((r) => r.n),
    [2, 4, -2, -4, 0, 100],
  )
  t.equal(double.info.recordsIn, 4)
})
