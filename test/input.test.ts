import t from 'tap'
import { gzipSync } from 'node:zlib'
import { writeFileSync, mkdtempSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { openInput, gunzipIfNeeded, displayName, inputSize } from '../lib/input.js'
import { createAtomicWriteStream } from '../lib/atomic-file.js'
import { chunkings, collect } from './helpers.js'

const text = Buffer.from('{"entity_type":"table","title":"caf\u00e9 \u65e5\u672c"}\n'.repeat(50))

t.test('gzip is detected by magic bytes and decompressed, under any chunking', async (t) => {
  for (const input of [text, gzipSync(text), Buffer.concat([gzipSync(text.subarray(0, 100)), gzipSync(text.subarray(100))])]) {
    for (const [how, chunks] of chunkings(input, 2)) {
      const out = Buffer.concat(await collect<Buffer>(gunzipIfNeeded(Readable.from(chunks, { objectMode: false }))))
      t.ok(out.equals(text), how)
    }
  }
  t.same(await collect(gunzipIfNeeded(Readable.from([], { objectMode: false }))), [], 'empty input')
  t.same(
    Buffer.concat(await collect<Buffer>(gunzipIfNeeded(Readable.from([Buffer.from('x')], { objectMode: false })))).toString(),
    'x',
    'one byte',
  )
})

t.test('corrupt gzip is INPUT_GZIP', async (t) => {
  const gz = gzipSync(text)
  const bad = Buffer.concat([gz.subarray(0, 20), Buffer.alloc(40, 7)])
  await t.rejects(collect(gunzipIfNeeded(Readable.from([bad], { objectMode: false }), 'x.gz')), { code: 'INPUT_GZIP', file: 'x.gz' })
})

t.test('files and stdin', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sc-input-'))
  const f = join(dir, 'in.jsonl.gz')
  writeFileSync(f, gzipSync(text))
  t.ok(Buffer.concat(await collect<Buffer>(openInput(f))).equals(text), 'file')
  t.equal(await inputSize(f), gzipSync(text).length)
  t.equal(await inputSize('-'), undefined)
  const stdin = new PassThrough()
  stdin.end(text)
  t.ok(Buffer.concat(await collect<Buffer>(openInput('-', { stdin }))).equals(text), 'stdin')
  t.equal(displayName('-'), '<stdin>')
  await t.rejects(collect(openInput(join(dir, 'missing'))), { code: 'INPUT_NOT_FOUND', message: /no such file/ })
  await t.rejects(collect(openInput(dir)), { code: 'INPUT_NOT_FOUND', message: /is a directory/ })
})

t.test('atomic output: renamed on success, removed on failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sc-atomic-'))
  const target = join(dir, 'sub', 'out.jsonl')
  await pipeline(Readable.from(['a\n', 'b\n']), createAtomicWriteStream(target))
  t.equal(readFileSync(target, 'utf8'), 'a\nb\n')
  const failing = Readable.from(
    (async function* () {
      yield 'partial\n'
      throw new Error('boom')
    })(),
  )
  await t.rejects(pipeline(failing, createAtomicWriteStream(target)), /boom/)
  t.equal(readFileSync(target, 'utf8'), 'a\nb\n', 'the previous good file is untouched')
  t.same(readdirSync(join(dir, 'sub')), ['out.jsonl'], 'no temporary file left behind')
  const fresh = join(dir, 'never.jsonl')
  await t.rejects(
    pipeline(
      Readable.from(
        (async function* () {
          yield 'x'
          throw new Error('boom')
        })(),
      ),
      createAtomicWriteStream(fresh),
    ),
  )
  t.notOk(existsSync(fresh), 'a failed run leaves no file')
})
