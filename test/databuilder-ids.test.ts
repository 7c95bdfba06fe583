import t from 'tap'
import { createIdBuilder, defaultIds } from '../lib/ids.js'
import { serializeRecord, type SecodaRecord } from '../lib/records.js'
import { IdIndex, hash64 } from '../lib/id-index.js'

t.test('default ids: lower(database).lower(schema).lower(table)[.lower(column)]', async (t) => {
  t.equal(defaultIds.table('Analytics', 'Marts', 'Orders'), 'analytics.marts.orders')
  t.equal(defaultIds.column('Analytics', 'Marts', 'Orders', 'Order_ID'), 'analytics.marts.orders.order_id')
  t.equal(defaultIds.table(undefined, 'shop', 'orders'), 'shop.orders', 'database left out when the source has none')
  t.equal(defaultIds.table('', 'shop', 'orders'), 'shop.orders')
  t.equal(defaultIds.columnOf(defaultIds.table('a', 'b', 'c'), 'D'), 'a.b.c.d')
  t.equal(defaultIds.schema('A', 'B'), 'a.b')
  t.equal(defaultIds.database('A'), 'a')
})

t.test('prefix and keep-case options', async (t) => {
  const ids = createIdBuilder({ prefix: 'MyInt', keepCase: true })
  t.equal(ids.table('DB', 'S', 'T'), 'MyInt.DB.S.T')
  t.equal(ids.column('DB', 'S', 'T', 'C'), 'MyInt.DB.S.T.C')
  t.same(ids.options, { prefix: 'MyInt', keepCase: true })
})

t.test('names with periods or quotes stay unambiguous', async (t) => {
  t.equal(defaultIds.table('db', 'a.b', 'c'), 'db."a.b".c')
  t.not(defaultIds.table('db', 'a.b', 'c'), defaultIds.table('db', 'a', 'b.c'))
  t.equal(defaultIds.table('db', 's', 'say "hi"'), 'db.s.say "hi"', 'a quote alone needs no quoting')
  t.equal(defaultIds.table('db', 's', 'x."y'), 'db.s."x.""y"')
  t.equal(defaultIds.table('db', 's', '"q'), 'db.s."""q"', 'a leading quote is quoted')
})

t.test('serializer: fixed key order, null/undefined omitted, unknown fields dropped', async (t) => {
  const r = {
    type: 'int',
    title: 'c',
    databuilder_id: 'a.b',
    entity_type: 'column',
    description: null,
    sort_order: 0,
    extra: 1,
    parent_databuilder_id: 'a',
    is_pk: false,
  } as unknown as SecodaRecord
  t.equal(
    serializeRecord(r),
    '{"entity_type":"column","databuilder_id":"a.b","parent_databuilder_id":"a","title":"c","sort_order":0,"type":"int","is_pk":false}',
  )
  const e = {
    to_identifier: { table: 't', type: 'external_table', schema: null },
    from_identifier: { databuilder_id: 'x', type: 'internal_resource' },
  } as unknown as SecodaRecord
  t.equal(
    serializeRecord(e),
    '{"from_identifier":{"type":"internal_resource","databuilder_id":"x"},"to_identifier":{"type":"external_table","table":"t"}}',
  )
})

t.test('id index: add, find, duplicates, growth', async (t) => {
  const idx = new IdIndex(16)
  const h = { hi: 0, lo: 0 }
  let fresh = 0
  for (let i = 0; i < 10000; i++) if (idx.add(hash64(`db.s.t${i}`, h), 3, 1, i + 1) === -1) fresh++
  t.equal(fresh, 10000, 'all new')
  t.equal(idx.size, 10000)
  const slot = idx.add(hash64('db.s.t1234', h), 4, 2, 99)
  t.not(slot, -1, 'duplicate found')
  t.same(idx.entryAt(slot), { type: 3, file: 1, line: 1235 }, 'the first entry is kept')
  t.equal(idx.find(hash64('db.s.t9999', h)), idx.find(hash64('db.s.t9999', h)))
  t.equal(idx.find(hash64('db.s.nope', h)), -1)
  t.ok(idx.byteLength < 10000 * 30, `compact: ${idx.byteLength} bytes for 10000 ids`)
  const a = hash64('abc', { hi: 0, lo: 0 })
  const b = hash64('abd', { hi: 0, lo: 0 })
  t.not(`${a.hi}:${a.lo}`, `${b.hi}:${b.lo}`)
})

t.test('id index: sized for the expected ids it does not grow; it grows by less than doubling', async (t) => {
  const h = { hi: 0, lo: 0 }
  const sized = new IdIndex(Math.ceil(1000 / 0.7) + 1)
  const cap = sized.capacity
  t.not(cap & (cap - 1), 0, 'any capacity, not only powers of two')
  for (let i = 0; i < 1000; i++) t.equal(sized.add(hash64(`a.b.c${i}`, h), 1, 0, i), -1)
  t.equal(sized.capacity, cap, 'no growth')
  for (let i = 0; i < 1000; i++) if (sized.find(hash64(`a.b.c${i}`, h)) === -1) t.fail(`lost a.b.c${i}`)
  const small = new IdIndex(100)
  for (let i = 0; i < 71; i++) small.add(hash64(`x${i}`, h), 1, 0, i)
  t.ok(small.capacity > 100 && small.capacity <= 150, `grown to ${small.capacity}`)
  for (let i = 0; i < 71; i++) if (small.find(hash64(`x${i}`, h)) === -1) t.fail(`lost x${i} in growth`)
  t.equal(small.find(hash64('x71', h)), -1)
})

t.test('hash64: no collisions among a million similar ids (regression: the first version collided here)', async (t) => {
  const h = { hi: 0, lo: 0 }
  const seen = new Set<string>()
  let collisions = 0
  for (let m = 0; m < 25000; m++) {
    for (let c = 0; c < 40; c++) {
      hash64(`analytics.dbt_prod.model_${m}.col_property_${c}`, h)
      const k = `${h.hi}:${h.lo}`
      if (seen.has(k)) collisions++
      seen.add(k)
    }
  }
  t.equal(seen.size + collisions, 1_000_000)
  t.equal(collisions, 0)
  const a = hash64('analytics.dbt_prod.model_34273.col_property_12', { hi: 0, lo: 0 })
  const b = hash64('analytics.dbt_prod.model_34574.col_property_18', { hi: 0, lo: 0 })
  t.not(`${a.hi}:${a.lo}`, `${b.hi}:${b.lo}`, 'the pair that collided under the old hash')
  const single = hash64('a', { hi: 0, lo: 0 })
  t.not(`${single.hi}:${single.lo}`, '0:0')
})
