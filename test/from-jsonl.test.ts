import t from 'tap'
import { readFileSync } from 'node:fs'
import { createJsonlReader, JsonlParser } from '../transforms/from-jsonl.js'
import { createJsonlWriter } from '../transforms/to-jsonl.js'
import { Report } from '../lib/report.js'
import { recordSource, type SecodaRecord } from '../lib/records.js'
import { isSecodaError } from '../lib/errors.js'
import { chunkings, chunksReadable, collect, fixture, golden } from './helpers.js'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'

async function readAll(chunks: Buffer[], report = new Report({ maxErrors: 100 })): Promise<{ records: SecodaRecord[]; report: Report }> {
  const reader = createJsonlReader({ report, file: 'in.jsonl' })
  const records = collect<SecodaRecord>(chunksReadable(chunks).pipe(reader))
  return { records: await records, report }
}

async function normalise(chunks: Buffer[]): Promise<string> {
  let text = ''
  const report = new Report()
  await pipeline(
    chunksReadable(chunks),
    createJsonlReader({ report }),
    createJsonlWriter(),
    new Writable({
      write(c, _e, cb) {
        text += c
        cb()
      },
    }),
  )
  return text
}

t.test('mixed JSONL fixture: golden output, identical under every chunking', async (t) => {
  const input = readFileSync(fixture('jsonl', 'mixed', 'input.jsonl'))
  const expected = golden(fixture('jsonl', 'mixed', 'expected.jsonl'), await normalise([input]))
  for (const [name, chunks] of chunkings(input)) {
    t.equal(await normalise(chunks), expected, name)
  }
  const { records, report } = await readAll([input])
  t.equal(records.length, 11, 'eleven records: BOM, CRLF, blank and whitespace-only lines skipped')
  t.same(recordSource(records[1]!), { file: 'in.jsonl', line: 3 }, 'line numbers count blank lines')
  t.equal(report.count('LINEAGE_OBSOLETE'), 1, 'obsolete lineage form accepted with a warning')
  t.equal(report.errors, 0)
  t.match(
    expected.split('\n')[0],
    /^\{"entity_type":"table","databuilder_id":"wh.sales.orders","title":"orders","native_type":"table","database":"wh","schema":"sales"\}$/,
    'fixed key order, nulls dropped',
  )
  t.match(expected, /"description":"Kund\*innen-Notiz — 日本語 😀"/, 'multi-byte UTF-8 survives one-byte chunks')
})

t.test('errors carry code, line and column; the reader continues when the policy allows', async (t) => {
  const input = Buffer.from(
    [
      '{"entity_type":"table","databuilder_id":"a.b.c","database":"a","schema":"b"}',
      '{"entity_type": "table", oops}',
      '[1,2]',
      '{"hello":"world"}',
      '"just a string"',
      '{"entity_type":"table","databuilder_id":"a.b.d","database":"a","schema":"b"}',
    ].join('\n'),
  )
  const { records, report } = await readAll([input])
  t.equal(records.length, 2, 'good lines still come through')
  const byCode = Object.fromEntries(
    report.diagnostics
      .slice()
      .reverse()
      .map((d) => [d.code, d]),
  )
  t.match(byCode.JSON_SYNTAX, { line: 2, column: Number, file: 'in.jsonl', severity: 'error' })
  t.ok(
    byCode.JSON_SYNTAX!.column! >= 25 && byCode.JSON_SYNTAX!.column! <= 27,
    `column points at the bad token (${byCode.JSON_SYNTAX!.column})`,
  )
  t.match(byCode.JSONL_NOT_OBJECT, { line: 3 })
  t.match(byCode.RECORD_SHAPE, { line: 4 })
  t.equal(report.diagnostics.filter((d) => d.code === 'JSONL_NOT_OBJECT').length, 2, 'array and string lines')
})

t.test('stop at the first error by default', async (t) => {
  const input = Buffer.from('{"entity_type":"table"}\nnot json\nnot json either\n')
  const report = new Report()
  const err = await collect(chunksReadable([input]).pipe(createJsonlReader({ report, file: 'x' }))).catch((e: unknown) => e)
  t.ok(isSecodaError(err))
  t.match(err, { code: 'VALIDATION_FAILED' })
  t.equal(report.errors, 1)
  t.match(report.diagnostics[0], { code: 'JSON_SYNTAX', line: 2 })
})

t.test('invalid UTF-8 is a coded diagnostic with the line, in any chunking', async (t) => {
  const input = Buffer.concat([
    Buffer.from('{"entity_type":"table","databuilder_id":"ok"}\n{"entity_type":"table","title":"caf'),
    Buffer.from([0xe9]),
    Buffer.from('"}\n{"entity_type":"column","title":"\u00e9"}\n'),
  ])
  for (const [name, chunks] of chunkings(input, 3)) {
    const { records, report } = await readAll(chunks)
    t.equal(records.length, 2, name)
    t.match(report.diagnostics, [{ code: 'INPUT_UTF8', line: 2, offset: 81 }], name)
  }
})

t.test('line length cap', async (t) => {
  const long = '{"entity_type":"table","description":"' + 'x'.repeat(200) + '"}\n'
  for (const [name, chunks] of chunkings(Buffer.from('{"entity_type":"table"}\n' + long), 2)) {
    const report = new Report()
    const err = await collect(chunksReadable(chunks).pipe(createJsonlReader({ report, file: 'f', maxLineLength: 100 }))).catch(
      (e: unknown) => e,
    )
    t.match(err, { code: 'LINE_TOO_LONG', line: 2, file: 'f' }, name)
  }
})

t.test('the abort marker of a failed upstream run fails the reader', async (t) => {
  const input = Buffer.from(
    '{"entity_type":"table","databuilder_id":"a"}\n\n{"__secoda_convert_aborted__":{"code":"VALIDATION_FAILED","message":"input is invalid"}}\n',
  )
  const err = await readAll([input]).catch((e: unknown) => e)
  t.match(err, { code: 'UPSTREAM_ABORTED', line: 3 })
})

t.test('last line without newline, CR only at end, counters', async (t) => {
  const emitted: SecodaRecord[] = []
  const report = new Report()
  const p = new JsonlParser({ report })
  const emit = (r: SecodaRecord): void => {
    emitted.push(r)
  }
  p.push(Buffer.from('{"entity_type":"table"}\r\n{"entity_'), emit)
  p.push(Buffer.from('type":"column"}'), emit)
  p.end(emit)
  t.equal(emitted.length, 2)
  t.same(p.info, { bytesIn: 49, lines: 2, recordsOut: 2, invalid: 0, recordsIn: 0, bytesOut: 0 })
})
