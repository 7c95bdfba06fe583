// Every stage keeps its counters under one name, `info` (bytesIn, recordsIn, recordsOut,
// bytesOut and its own fields), the same object on the stream and on its core, and counts
// what really went through.

import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, type Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { SecodaRecord } from '../lib/records.js'
import { Report } from '../lib/report.js'
import type { StageInfo } from '../lib/stream.js'
import { DbtCatalogReader } from '../transforms/dbt/catalog.js'
import { createDbtManifestStream } from '../transforms/dbt/manifest.js'
import { createJsonlReader } from '../transforms/from-jsonl.js'
import { createSecodaCsvReader } from '../transforms/from-secoda-csv.js'
import { createMysqlDumpTransform } from '../transforms/sql/mysql-dump.js'
import { createPgDumpTransform } from '../transforms/sql/pg-dump.js'
import { createCsvWriter } from '../transforms/to-csv.js'
import { createJsonlWriter, createSplitJsonlWriter } from '../transforms/to-jsonl.js'
import { createValidator } from '../transforms/validate.js'
import { fixture } from './helpers.js'

const table = { entity_type: 'table', databuilder_id: 'd.s.t', database: 'd', schema: 's', title: 't' } as SecodaRecord
const column = { entity_type: 'column', databuilder_id: 'd.s.t.c', parent_databuilder_id: 'd.s.t', title: 'c' } as SecodaRecord
const edge = {
  from_identifier: { type: 'internal_resource', databuilder_id: 'd.s.t' },
  to_identifier: { type: 'external_table', database: 'x', schema: 'y', table: 'z', cluster: 'c' },
} as SecodaRecord

/** Run `stage` over `input`; the outputs (records, or byte count) it gave. */
async function run(stage: Transform & { info: StageInfo; core: { info: StageInfo } }, input: unknown[]): Promise<unknown[]> {
  const out: unknown[] = []
  await pipeline(
    Readable.from(input),
    stage,
    new Writable({
      objectMode: true,
      write(x, _e, cb) {
        out.push(x)
        cb()
      },
    }),
  )
  return out
}

const base = (i: StageInfo): number[] => [i.bytesIn, i.recordsIn, i.recordsOut, i.bytesOut]

t.test('byte readers and sources: bytes in, records out', async (t) => {
  const jsonl = Buffer.from(`${JSON.stringify(table)}\nnot json\n${JSON.stringify(column)}\n`)
  const r1 = createJsonlReader({ report: new Report({ maxErrors: 10 }) })
  await run(r1, [jsonl]).catch(() => {})
  t.equal(r1.info, r1.core.info, 'one object on the stream and its core')
  t.same(r1.info, { bytesIn: jsonl.length, recordsIn: 0, recordsOut: 2, bytesOut: 0, lines: 3, invalid: 1 }, 'JSONL reader')

  const csv = Buffer.from('col_name,database,schema,name\nc,d,s,t\nc2,d,s,t\n')
  const r2 = createSecodaCsvReader({ report: new Report() })
  t.equal((await run(r2, [csv])).length, 3)
  t.same(r2.info, { bytesIn: csv.length, recordsIn: 0, recordsOut: 3, bytesOut: 0, rows: 2 }, 'Secoda CSV reader')

  const manifest = readFileSync(fixture('dbt', 'v7-exposures', 'manifest.json'))
  const r3 = createDbtManifestStream({ report: new Report() })
  const got = await run(r3, [manifest])
  t.same(base(r3.info), [manifest.length, 0, got.length, 0], 'dbt manifest')
  t.ok(got.length > 5)

  const catalogBytes = readFileSync(fixture('dbt', 'v1-snowflake-catalog', 'catalog.json'))
  const cat = new DbtCatalogReader({ report: new Report() })
  cat.push(catalogBytes, () => {})
  cat.end(() => {})
  t.same(cat.info, { bytesIn: catalogBytes.length, recordsIn: 0, recordsOut: 1, bytesOut: 0, entries: 4 }, 'dbt catalog: one index out')

  const pg = Buffer.from('CREATE TABLE public.t (id integer);\n')
  const r4 = createPgDumpTransform({ report: new Report(), database: 'd' })
  const pgOut = await run(r4, [pg])
  t.same(r4.info, { bytesIn: pg.length, recordsIn: 0, recordsOut: pgOut.length, bytesOut: 0, statements: 1 }, 'pg_dump')
  t.equal(pgOut.length, 4, 'database, schema, table, column')

  const my = Buffer.from('USE d;\nCREATE TABLE t (a int);\n')
  const r5 = createMysqlDumpTransform({ report: new Report() })
  const myOut = await run(r5, [my])
  t.same(r5.info, { bytesIn: my.length, recordsIn: 0, recordsOut: myOut.length, bytesOut: 0, statements: 2 }, 'mysqldump')
  t.equal(myOut.length, 4)
})

t.test('record stages and writers: records in, records or bytes out', async (t) => {
  const v = createValidator({ report: new Report({ maxErrors: 10 }) })
  const bad = { entity_type: 'nope', databuilder_id: 'x' } as unknown as SecodaRecord
  await run(v, [table, bad, column]).catch(() => {})
  t.same(v.info, { bytesIn: 0, recordsIn: 3, recordsOut: 2, bytesOut: 0 }, 'validator: the invalid record is not passed on')

  const w = createJsonlWriter({ kind: 'resources' })
  const chunks = (await run(w, [table, edge, column])) as Buffer[]
  const bytes = chunks.reduce((n, c) => n + c.length, 0)
  t.same(w.info, { bytesIn: 0, recordsIn: 3, recordsOut: 2, bytesOut: bytes }, 'JSONL writer: lines of its kind')

  const c = createCsvWriter({ report: new Report() })
  const csvChunks = (await run(c, [table, edge, column])) as Buffer[]
  t.same(base(c.info), [0, 3, 1, csvChunks.reduce((n, x) => n + x.length, 0)], 'CSV writer: one row')
  t.same(c.info.dropped, { lineage: 1, entities: 0, emptyTables: 0, nestedColumns: 0 })

  const dir = mkdtempSync(join(tmpdir(), 'stage-info-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const split = createSplitJsonlWriter(dir)
  await pipeline(Readable.from([table, edge, column]), split)
  t.same(split.info, { bytesIn: 0, recordsIn: 3, recordsOut: 3, bytesOut: 0, resources: 2, lineage: 1 }, 'split writer')
})
