import t from 'tap'
import { Readable } from 'node:stream'
import { createJsonlWriter } from '../transforms/to-jsonl.js'
import { serializeRecord, type SecodaRecord } from '../lib/records.js'

const titles = ['plain', 'café', '— “quoted” —', 'emoji 😀 pair', 'lone \ud800 surrogate', 'x'.repeat(70000), '日本語']

function records(n: number): SecodaRecord[] {
  const out: SecodaRecord[] = []
  for (let i = 0; i < n; i++) {
    out.push({
      entity_type: 'table',
      databuilder_id: `db.s.t${i}`,
      title: titles[i % titles.length]!,
      database: 'db',
      schema: 's',
    } as SecodaRecord)
    if (i % 5 === 0)
      out.push({
        from_identifier: { type: 'internal_resource', databuilder_id: `db.s.t${i}` },
        to_identifier: { type: 'external_table', table: 'ext' },
      } as SecodaRecord)
  }
  return out
}

async function run(recs: SecodaRecord[], options: Parameters<typeof createJsonlWriter>[0]): Promise<{ bytes: Buffer; written: number }> {
  const w = createJsonlWriter(options)
  const parts: Buffer[] = []
  Readable.from(recs).pipe(w)
  for await (const c of w) parts.push(c as Buffer)
  return { bytes: Buffer.concat(parts), written: w.info.recordsOut }
}

t.test('JSONL writer: the UTF-8 of serializeRecord lines, whatever the batch size', async (t) => {
  const recs = records(200)
  const expected = Buffer.from(recs.map((r) => serializeRecord(r) + '\n').join(''))
  for (const batchSize of [1, 7, 100, 4096, 65536, undefined]) {
    const got = await run(recs, batchSize === undefined ? {} : { batchSize })
    t.ok(got.bytes.equals(expected), `batch size ${batchSize ?? 'default'}: identical bytes`)
    t.equal(got.written, recs.length)
  }
})

t.test('JSONL writer: resources or lineage only', async (t) => {
  const recs = records(50)
  for (const kind of ['resources', 'lineage'] as const) {
    const keep = recs.filter((r) => 'from_identifier' in r === (kind === 'lineage'))
    const got = await run(recs, { kind, batchSize: 300 })
    t.equal(got.bytes.toString('utf8'), keep.map((r) => serializeRecord(r) + '\n').join(''), kind)
    t.equal(got.written, keep.length)
  }
})
