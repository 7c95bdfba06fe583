import t from 'tap'
import { CsvWriter, csvHeader, isViewType } from '../transforms/to-csv.js'
import { Report } from '../lib/report.js'
import type { SecodaRecord } from '../lib/records.js'

/** The writer core with its emitted text returned per call, as the tests below read it. */
function textWriter(options?: ConstructorParameters<typeof CsvWriter>[0]): {
  write(r: SecodaRecord): string
  end(): string
  info: CsvWriter['info']
} {
  const w = new CsvWriter(options)
  let out = ''
  const emit = (s: string): void => {
    out += s
  }
  const take = (): string => {
    const s = out
    out = ''
    return s
  }
  return {
    write: (r) => {
      w.push(r, emit)
      return take()
    },
    end: () => {
      w.end(emit)
      return take()
    },
    info: w.info,
  }
}

const table = (id: string, extra: object = {}): SecodaRecord =>
  ({ entity_type: 'table', databuilder_id: id, database: 'db', schema: 's', title: id, ...extra }) as SecodaRecord
const column = (id: string, parent: string, extra: object = {}): SecodaRecord =>
  ({ entity_type: 'column', databuilder_id: `${parent}.${id}`, parent_databuilder_id: parent, title: id, ...extra }) as SecodaRecord

t.test('header order and sort column name', async (t) => {
  t.equal(
    csvHeader().join(','),
    'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time',
  )
  t.equal(csvHeader('sort_order')[3], 'sort_order')
})

t.test('is_view from native_type', async (t) => {
  t.equal(isViewType('view'), true)
  t.equal(isViewType('materialized view'), true)
  t.equal(isViewType('table'), false)
  t.equal(isViewType(undefined), undefined)
})

t.test('rows carry their table; columns before their table wait; drops are counted and warned', async (t) => {
  const report = new Report()
  const w = textWriter({ report })
  let out = ''
  out += w.write(column('early', 't1', { sort_order: 1 }))
  out += w.write(table('t1', { description: 'd, with comma', native_type: 'view', external_updated_at: '2025-01-01T01:00:00.000+01:00' }))
  out += w.write(column('late', 't1', { type: 'int', description: 'x' }))
  out += w.write({
    from_identifier: { type: 'internal_resource', databuilder_id: 't1' },
    to_identifier: { type: 'internal_resource', databuilder_id: 't1' },
  } as SecodaRecord)
  out += w.write({ entity_type: 'dashboard', databuilder_id: 'd', group: 'g' } as SecodaRecord)
  out += w.write(table('empty'))
  out += w.write(column('nested', 't1.late'))
  out += w.end()
  t.equal(
    out,
    [
      'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time',
      'early,,,1,db,s,t1,"d, with comma",true,1735689600',
      'late,x,int,,db,s,t1,"d, with comma",true,1735689600',
      '',
    ].join('\n'),
  )
  t.same(w.info.dropped, { lineage: 1, entities: 1, emptyTables: 1, nestedColumns: 1 })
  t.match(report.diagnostics, [
    {
      code: 'CSV_DROPPED',
      severity: 'warning',
      message: /1 lineage edge, 1 resource other than tables and columns, 1 table without columns, 1 nested column/,
    },
  ])
})

t.test('a column whose table never comes is CSV_NO_PARENT', async (t) => {
  const w = textWriter()
  w.write(column('c', 'nowhere'))
  t.throws(() => w.end(), { code: 'CSV_NO_PARENT', databuilderId: 'nowhere.c' })
})

t.test('empty input still writes the header', async (t) => {
  t.equal(textWriter({ eol: '\r\n' }).end(), csvHeader().join(',') + '\r\n')
})

t.test('a table written again: its later columns carry the later table fields', async (t) => {
  const w = textWriter()
  const t1 = table('d.s.t', { description: 'first' })
  const t2 = table('d.s.t', { description: 'second' })
  const rows = (w.write(t1) + w.write(column('a', 'd.s.t')) + w.write(t2) + w.write(column('b', 'd.s.t')) + w.end()).split('\n')
  t.match(rows[1], /^a,.*,first,/)
  t.match(rows[2], /^b,.*,second,/)
})
