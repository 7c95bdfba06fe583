import t from 'tap'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createValidator, Validator } from '../transforms/validate.js'
import { Report } from '../lib/report.js'
import { type SecodaRecord, withSource } from '../lib/records.js'

const table = (id: string, extra: object = {}): SecodaRecord =>
  ({ entity_type: 'table', databuilder_id: id, database: 'db', schema: 's', ...extra }) as SecodaRecord
const column = (id: string, parent: string, extra: object = {}): SecodaRecord =>
  ({ entity_type: 'column', databuilder_id: id, parent_databuilder_id: parent, ...extra }) as SecodaRecord
const edge = (from: object, to: object): SecodaRecord => ({ from_identifier: from, to_identifier: to }) as SecodaRecord
const internal = (id: string): object => ({ type: 'internal_resource', databuilder_id: id })

function check(records: SecodaRecord[], options: { forCsv?: boolean } = {}): Report {
  const report = new Report({ maxErrors: 1000 })
  const v = new Validator({ report, ...options })
  for (const [i, r] of records.entries()) v.check(withSource(r, { file: 'f.jsonl', line: i + 1 }))
  v.finish()
  return report
}
const codes = (r: Report): string[] => r.diagnostics.map((d) => `${d.severity === 'warning' ? 'w:' : ''}${d.code}@${d.line ?? '-'}`)

t.test('a valid mixed stream has no diagnostics, in any order of parents', async (t) => {
  const r = check([
    column('db.s.t.c', 'db.s.t', { sort_order: 1, is_pk: true, type: 'int' }),
    table('db.s.t', { external_updated_at: '2000-10-31T01:30:00.000-05:00' }),
    edge(internal('db.s.v'), internal('db.s.t')),
    table('db.s.v', { native_type: 'view' }),
    { entity_type: 'dashboard_group', databuilder_id: 'g' } as SecodaRecord,
    { entity_type: 'dashboard', databuilder_id: 'd', parent_databuilder_id: 'g', group: 'G' } as SecodaRecord,
    { entity_type: 'chart', databuilder_id: 'ch', parent_databuilder_id: 'd', product: 'tableau' } as SecodaRecord,
    edge({ type: 'external_table', cluster: 'c', database: 'd', schema: 's', table: 't' }, internal('db.s.t')),
    edge({ type: 'tables_from_query', sql: 'select 1' }, internal('db.s.v')),
    edge(internal('db.s.t'), { type: 'external_column', cluster: 'c', database: 'd', schema: 's', table: 't', column: 'c' }),
  ])
  t.same(codes(r), [])
  t.equal(r.resources.table, 2)
  t.equal(r.lineage, 4)
})

t.test('per-record checks', async (t) => {
  const r = check([
    { entity_type: 'view', databuilder_id: 'x' } as unknown as SecodaRecord,
    { entity_type: 'table', databuilder_id: '' } as SecodaRecord,
    { entity_type: 'column', databuilder_id: 'c', title: 5 } as unknown as SecodaRecord,
    table('t2', { sort_order: 1.5, is_pk: 'yes', hidden: 1 }),
    table('t3', { external_updated_at: '2020-01-01 10:00' }),
    table('t4', { colour: 'red' }),
    { entity_type: 'dashboard', databuilder_id: 'd' } as SecodaRecord,
    { entity_type: 'chart', databuilder_id: 'ch', parent_databuilder_id: 'd' } as SecodaRecord,
  ])
  t.same(codes(r), [
    'FIELD_ENUM@1',
    'FIELD_REQUIRED@2',
    'FIELD_REQUIRED@2',
    'FIELD_REQUIRED@2',
    'FIELD_TYPE@3',
    'FIELD_REQUIRED@3',
    'FIELD_TYPE@4',
    'FIELD_TYPE@4',
    'FIELD_TYPE@4',
    'FIELD_TYPE@5',
    'w:FIELD_UNKNOWN@6',
    'FIELD_REQUIRED@7',
    'FIELD_REQUIRED@8',
  ])
  t.match(r.diagnostics[1], { path: 'databuilder_id' })
  t.match(r.diagnostics[4], { path: 'title', databuilderId: 'c' })
})

t.test('lineage checks', async (t) => {
  const r = check([
    table('t'),
    edge(internal('t'), { type: 'tables_from_query', sql: 'select 1' }),
    edge({ type: 'external_table', table: 'a' }, { type: 'external_table', cluster: 'c', database: 'd', schema: 's', table: 'b' }),
    edge(
      { type: 'external_column', cluster: 'c', database: 'd', schema: 's', table: 'a', column: 'x' },
      { type: 'external_table', cluster: 'c', database: 'd', schema: 's', table: 'b' },
    ),
    edge({ type: 'internal_resource' }, internal('t')),
    edge({ type: 'bogus' }, internal('t')),
    { to_identifier: internal('t') } as unknown as SecodaRecord,
    edge(internal('t'), internal('t')),
  ])
  t.same(codes(r), [
    'LINEAGE_QUERY_TARGET@2',
    'w:LINEAGE_EXTERNAL_PARTIAL@3',
    'w:LINEAGE_EXTERNAL_ONLY@3',
    'LINEAGE_NO_INTERNAL@4',
    'FIELD_REQUIRED@5',
    'FIELD_ENUM@6',
    'FIELD_REQUIRED@7',
  ])
  t.match(r.diagnostics[0], { path: 'to_identifier.type' })
  t.match(r.diagnostics[4], { path: 'from_identifier.databuilder_id' })
})

t.test('cross-record checks: duplicates, dangling references at end, parent types', async (t) => {
  const r = check([
    table('db.s.t'),
    column('db.s.t.c', 'db.s.t'),
    table('db.s.t'),
    column('db.s.t.x', 'db.s.missing'),
    edge(internal('db.s.t'), internal('db.s.gone')),
    column('db.s.t.c.nested', 'db.s.t.c'),
    { entity_type: 'chart', databuilder_id: 'ch', parent_databuilder_id: 'db.s.t', product: 'p' } as SecodaRecord,
    column('late', 'db.s.later_view'),
    { entity_type: 'dashboard', databuilder_id: 'db.s.later_view', group: 'g' } as SecodaRecord,
  ])
  t.same(codes(r), ['ID_DUPLICATE@3', 'PARENT_TYPE@7', 'PARENT_MISSING@4', 'LINEAGE_MISSING@5', 'PARENT_TYPE@8'])
  t.match(r.diagnostics[0].message, /first at f.jsonl:1/)
  t.match(r.diagnostics[2], { message: /"db.s.missing"/, path: 'parent_databuilder_id' })
  t.match(r.diagnostics[3], { message: /"db.s.gone"/ })
})

t.test('CSV rules: periods in names', async (t) => {
  const r = check([table('a', { title: 'my.table' }), column('a.c', 'a', { title: 'c.d' }), table('b', { schema: 'x.y' })], {
    forCsv: true,
  })
  t.same(codes(r), ['CSV_NAME_PERIOD@1', 'CSV_NAME_PERIOD@2', 'CSV_NAME_PERIOD@3'])
})

t.test('empty input warns', async (t) => {
  t.same(codes(check([])), ['w:INPUT_EMPTY@-'])
})

t.test('the stream stage passes valid records, drops invalid ones, fails at end of stream', async (t) => {
  const report = new Report({ maxErrors: 10 })
  const seen: SecodaRecord[] = []
  const sink = new Writable({
    objectMode: true,
    write(r, _e, cb) {
      seen.push(r)
      cb()
    },
  })
  await t.rejects(pipeline(Readable.from([table('a'), table('a'), column('a.c', 'nope'), table('b')]), createValidator({ report }), sink), {
    code: 'VALIDATION_FAILED',
  })
  t.same(
    seen.map((r) => 'entity_type' in r && r.databuilder_id),
    ['a', 'a.c', 'b'],
    'the duplicate is held back; the dangling reference is only known at the end',
  )
  t.equal(report.errors, 2)
  t.notOk(sink.writableFinished, 'the sink never finished: writers do not commit')
})

t.test('fail fast: the first error stops the stream', async (t) => {
  const report = new Report()
  let n = 0
  const src = Readable.from(
    (function* () {
      for (;;) {
        n++
        yield table(`t${n % 3}`)
      }
    })(),
  )
  await t.rejects(
    pipeline(
      src,
      createValidator({ report }),
      new Writable({
        objectMode: true,
        write(_r, _e, cb) {
          cb()
        },
      }),
    ),
    { code: 'VALIDATION_FAILED' },
  )
  t.equal(report.errors, 1)
  t.ok(n < 1000, 'stopped early')
})

t.test('a parent named by consecutive records is checked for each of them (cached lookup)', async (t) => {
  const r = check([
    { entity_type: 'dashboard_group', databuilder_id: 'g' } as SecodaRecord,
    column('g.a', 'g'),
    column('g.b', 'g'),
    table('db.s.t'),
    column('db.s.t.a', 'db.s.t'),
    column('db.s.t.b', 'db.s.t'),
    column('db.s.u.a', 'db.s.u'),
    column('db.s.u.b', 'db.s.u'),
    { entity_type: 'chart', databuilder_id: 'ch', parent_databuilder_id: 'g', product: 'x' } as SecodaRecord,
    { entity_type: 'chart', databuilder_id: 'ch2', parent_databuilder_id: 'g', product: 'x' } as SecodaRecord,
  ])
  t.same(codes(r), ['PARENT_TYPE@2', 'PARENT_TYPE@3', 'PARENT_TYPE@9', 'PARENT_TYPE@10', 'PARENT_MISSING@7', 'PARENT_MISSING@8'])
})

t.test('the parent added just before a record is checked like any other (lastAdded shortcut)', async (t) => {
  const r = check([
    { entity_type: 'dashboard', databuilder_id: 'd', group: 'g' } as SecodaRecord,
    column('d.a', 'd'),
    table('db.s.t'),
    // a duplicate is not "added": the index keeps the table, so the column's parent stays a table
    { entity_type: 'dashboard', databuilder_id: 'db.s.t', group: 'g' } as SecodaRecord,
    column('db.s.t.a', 'db.s.t'),
    table('db.s.u'),
    { entity_type: 'chart', databuilder_id: 'ch', parent_databuilder_id: 'db.s.u', product: 'x' } as SecodaRecord,
    column('self', 'self'),
  ])
  t.same(codes(r), ['PARENT_TYPE@2', 'ID_DUPLICATE@4', 'PARENT_TYPE@7'])
  t.match(r.diagnostics[0], {
    path: 'parent_databuilder_id',
    databuilderId: 'd.a',
    message: /parent "d" is a dashboard, expected a table or column/,
  })
  t.match(r.diagnostics[2], { line: 7, message: /parent "db.s.u" is a table, expected a dashboard/ })
})

t.test('per-record diagnostics do not depend on the records before (key-sequence cache)', async (t) => {
  // records of one type whose keys differ in set, order and value types, so that each one
  // meets a remembered key sequence that matches it fully, partly, or is longer or shorter
  const records: object[] = [
    { entity_type: 'column', databuilder_id: 'a', parent_databuilder_id: 'p', title: 'x', sort_order: 1 },
    { entity_type: 'column', databuilder_id: 'b', parent_databuilder_id: 'p', title: 'x', sort_order: 1.5 },
    { entity_type: 'column', databuilder_id: 'c', parent_databuilder_id: 'p', title: 'x' },
    { entity_type: 'column', databuilder_id: 'd', parent_databuilder_id: 'p', title: 'x', sort_order: 2, colour: 'red' },
    { entity_type: 'column', databuilder_id: 'e', parent_databuilder_id: 'p', title: 7, colour: 'red', sort_order: 'x' },
    { databuilder_id: 'f', entity_type: 'column', parent_databuilder_id: 'p', is_pk: 'no' },
    { entity_type: 'column', databuilder_id: 'g', parent_databuilder_id: 'p', title: 'x', sort_order: 1 },
    {
      entity_type: 'column',
      databuilder_id: 'h',
      parent_databuilder_id: 'p',
      title: 'x',
      sort_order: 1,
      hidden: 0,
      external_updated_at: 'yesterday',
    },
    {
      entity_type: 'column',
      databuilder_id: 'i',
      parent_databuilder_id: 'p',
      title: 'x',
      sort_order: 1,
      hidden: true,
      external_updated_at: 5,
    },
    {
      entity_type: 'column',
      databuilder_id: 'j',
      parent_databuilder_id: 'p',
      title: 'x',
      description: undefined,
      type: null,
      sort_order: 1,
    },
    { entity_type: 'table', databuilder_id: 'k', title: 'x', database: 'db', schema: 's', colour: 1 },
    { entity_type: 'table', databuilder_id: 'l', title: 'x', database: 'db' },
    { entity_type: 'view', databuilder_id: 'm', title: 5 },
    { entity_type: 'view', databuilder_id: 'n', colour: 'red', title: 'x' },
    { entity_type: 'column', databuilder_id: 'o', parent_databuilder_id: 'p', title: 'x', sort_order: 1 },
  ]
  const run = (rs: object[]): object[] => {
    const report = new Report({ maxErrors: 1000 })
    const v = new Validator({ report, references: false })
    for (const r of rs) v.check(withSource({ ...r } as SecodaRecord, { file: 'f.jsonl', line: records.indexOf(r) + 1 }))
    return report.diagnostics.map(({ code, severity, message, file, line, path, databuilderId }) => ({
      code,
      severity,
      message,
      file,
      line,
      path,
      databuilderId,
    }))
  }
  const alone = records.flatMap((r) => run([r]))
  t.ok(alone.length >= 15, `the records have diagnostics of their own (${alone.length})`)
  t.same(run(records), alone, 'in sequence, each record gets what it gets alone')
  t.same(
    run([...records].reverse()),
    [...records].reverse().flatMap((r) => run([r])),
    'and in reverse order',
  )
})

t.test('an entity_type naming an Object.prototype property is not a type', async (t) => {
  const r = check([
    { entity_type: 'toString', databuilder_id: 'a' } as unknown as SecodaRecord,
    { entity_type: 'constructor', databuilder_id: 'b' } as unknown as SecodaRecord,
    { entity_type: '__proto__', databuilder_id: 'c' } as unknown as SecodaRecord,
  ])
  t.same(codes(r), ['FIELD_ENUM@1', 'FIELD_ENUM@2', 'FIELD_ENUM@3'])
  t.match(r.diagnostics[0], { path: 'entity_type', message: /got "toString"/ })
})

t.test('column-level lineage: column ids resolve like any other id; a column that is not there is LINEAGE_MISSING', async (t) => {
  const r = check([
    edge(internal('db.s.orders.id'), internal('db.s.order_view.order_id')),
    table('db.s.orders'),
    column('db.s.orders.id', 'db.s.orders'),
    table('db.s.order_view', { native_type: 'view' }),
    column('db.s.order_view.order_id', 'db.s.order_view'),
    edge(internal('db.s.orders.gone'), internal('db.s.order_view.order_id')),
    edge(internal('db.s.orders.id'), internal('db.s.order_view.missing')),
    edge({ type: 'external_column', database: 'x', schema: 's', table: 't', column: 'c' }, internal('db.s.order_view.order_id')),
  ])
  t.same(codes(r), ['w:LINEAGE_EXTERNAL_PARTIAL@8', 'LINEAGE_MISSING@6', 'LINEAGE_MISSING@7'])
  t.match(r.diagnostics[1], { message: /"db\.s\.orders\.gone"/, line: 6 })
  t.match(r.diagnostics[2], { message: /"db\.s\.order_view\.missing"/, line: 7 })
  t.equal(r.lineage, 4)
})
