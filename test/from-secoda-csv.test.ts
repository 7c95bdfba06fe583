import t from 'tap'
import { readFileSync } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { createSecodaCsvReader } from '../transforms/from-secoda-csv.js'
import { createJsonlWriter } from '../transforms/to-jsonl.js'
import { createCsvWriter } from '../transforms/to-csv.js'
import { Report } from '../lib/report.js'
import { type SecodaRecord, recordSource } from '../lib/records.js'
import { chunkings, chunksReadable, collect, fixture, golden } from './helpers.js'

async function toText(chunks: Buffer[], writer: 'jsonl' | 'csv', report = new Report({ maxErrors: 50 })): Promise<string> {
  let text = ''
  await pipeline(
    chunksReadable(chunks),
    createSecodaCsvReader({ report, file: 'in.csv' }),
    writer === 'jsonl' ? createJsonlWriter() : createCsvWriter({ report }),
    new Writable({
      write(c, _e, cb) {
        text += c
        cb()
      },
    }),
  )
  return text
}

async function records(text: string, report = new Report({ maxErrors: 50 })): Promise<SecodaRecord[]> {
  return collect<SecodaRecord>(chunksReadable([Buffer.from(text)]).pipe(createSecodaCsvReader({ report, file: 'in.csv' })))
}

for (const name of ['basic', 'variants']) {
  t.test(`${name}: golden JSONL, identical under every chunking (UTF-8 split included)`, async (t) => {
    const input = readFileSync(fixture('secoda-csv', name, 'input.csv'))
    const expected = golden(fixture('secoda-csv', name, 'expected.jsonl'), await toText([input], 'jsonl'))
    for (const [how, chunks] of chunkings(input, 4)) t.equal(await toText(chunks, 'jsonl'), expected, how)
  })
}

t.test('Secoda CSV → JSONL → CSV round-trips byte for byte', async (t) => {
  const input = readFileSync(fixture('secoda-csv', 'basic', 'input.csv'))
  const jsonl = await toText([input], 'jsonl')
  let csv = ''
  const { createJsonlReader } = await import('../transforms/from-jsonl.js')
  const report = new Report()
  await pipeline(
    chunksReadable([Buffer.from(jsonl)]),
    createJsonlReader({ report }),
    createCsvWriter({ report }),
    new Writable({
      write(c, _e, cb) {
        csv += c
        cb()
      },
    }),
  )
  t.equal(csv, input.toString('utf8'))
  t.equal(await toText([input], 'csv'), input.toString('utf8'), 'CSV → CSV directly too')
})

t.test('variants: sort_order header, None, TRUE, empty fields', async (t) => {
  const recs = await records(readFileSync(fixture('secoda-csv', 'variants', 'input.csv'), 'utf8'))
  const users = recs.find((r) => 'entity_type' in r && r.databuilder_id === 'dw.core.users')
  t.match(users, { native_type: 'view', title: 'Users', database: 'DW', schema: 'Core' })
  t.notOk(users && 'description' in users, 'None means absent')
  const name = recs.find((r) => 'entity_type' in r && r.databuilder_id === 'dw.core.users.name')
  t.match(name, { description: 'Display name, as typed', parent_databuilder_id: 'dw.core.users' })
  t.notOk(name && 'sort_order' in name)
  t.same(recordSource(name!), { file: 'in.csv', line: 3 })
  const x = recs.find((r) => 'entity_type' in r && r.databuilder_id === 'dw.core.empty_types.x')
  t.same(recordSource(x!), { file: 'in.csv', line: 5 }, 'line numbers count blank lines')
})

const HEADER = 'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time\n'

t.test('row errors: code, line, path', async (t) => {
  const report = new Report({ maxErrors: 50 })
  await records(
    HEADER +
      [
        'a,,int,1,db,s,t,desc,false,',
        'b,,int,x,db,s,t,desc,false,',
        'c,,int,3,db,s,t,desc,maybe,',
        'd,,int,4,db,s,t,desc,false,yesterday',
        'e,,int,5,db,s,t,other desc,false,',
        ',,int,6,db,s,t,desc,false,',
      ].join('\n') +
      '\n',
    report,
  )
  t.match(report.diagnostics, [
    { code: 'CSV_VALUE', line: 3, path: 'col_sort_order' },
    { code: 'CSV_VALUE', line: 4, path: 'is_view' },
    { code: 'CSV_VALUE', line: 5, path: 'last_updated_time' },
    { code: 'TABLE_INCONSISTENT', line: 6, path: 'description', databuilderId: 'db.s.t' },
    { code: 'FIELD_REQUIRED', line: 7, path: 'col_name' },
  ])
})

t.test('header and syntax errors fail the stream with their line', async (t) => {
  await t.rejects(records('col_name,database,schema\nx,y,z\n'), { code: 'CSV_HEADER', line: 1, message: /lacks name/ })
  await t.rejects(records('col_name,database,schema,name,name\n'), { code: 'CSV_HEADER', message: /repeats/ })
  await t.rejects(records(HEADER + 'a,,int,1,db,s,t,desc,false,\nb,"unclosed,int,1,db,s,t,desc,false,\n'), {
    code: 'CSV_SYNTAX',
    file: 'in.csv',
  })
  await t.rejects(records(HEADER + 'a,,int,1,db,s,t\n'), { code: 'CSV_SYNTAX', line: 2 })
  const bad = Buffer.concat([Buffer.from(HEADER + 'a,caf'), Buffer.from([0xe9]), Buffer.from(',int,1,db,s,t,,false,\n')])
  for (const [how, chunks] of chunkings(bad, 2)) {
    await t.rejects(
      collect(chunksReadable(chunks).pipe(createSecodaCsvReader({ report: new Report(), file: 'in.csv' }))),
      { code: 'INPUT_UTF8', line: 2 },
      how,
    )
  }
})

t.test('unknown CSV columns warn', async (t) => {
  const report = new Report()
  await records('col_name,database,schema,name,extra\na,b,c,d,e\n', report)
  t.match(report.diagnostics, [{ code: 'FIELD_UNKNOWN', severity: 'warning', line: 1 }])
})
