// The bundled Secoda-compatible server (secoda-convert/testing): routes, auth, part checks.
import t from 'tap'
import { request } from 'undici'
import { createHash } from 'node:crypto'
import { startTestServer } from '../lib/testing/server.js'

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body })
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers }
}

function multipart(parts: Array<[name: string, filename: string, text: string]>, close = true) {
  const b = 'XBOUNDARYX'
  let s = ''
  for (const [n, f, text] of parts)
    s += `--${b}\r\nContent-Disposition: form-data; name="${n}"; filename="${f}"\r\nContent-Type: application/octet-stream\r\n\r\n${text}\r\n`
  if (close) s += `--${b}--\r\n`
  return { body: s, type: `multipart/form-data; boundary=${b}` }
}

t.test('is importable under its package export name', async (t) => {
  const mod = await import('secoda-convert/testing')
  t.equal(typeof mod.startTestServer, 'function')
})

t.test('auth, routes, list paging, create validation', async (t) => {
  const s = await startTestServer({
    pageSize: 1,
    integrations: [
      { name: 'a', id: 'ia' },
      { name: 'b', id: 'ib' },
    ],
  })
  t.teardown(() => s.close())
  const auth = { authorization: `Bearer ${s.apiKey}` }
  t.equal((await call(`${s.url}/integration/integrations/`)).status, 401)
  t.equal((await call(`${s.url}/integration/integrations/`, { headers: { authorization: 'Bearer wrong' } })).status, 401)
  t.equal((await call(`${s.url}/integration/integrations`, { headers: auth })).status, 404, 'paths end with a slash')
  const p1 = JSON.parse((await call(`${s.url}/integration/integrations/`, { headers: auth })).body)
  t.match(p1, { count: 2, total_pages: 2, results: [{ id: 'ia' }], links: { previous: null } })
  const p2 = JSON.parse((await call(p1.links.next, { headers: auth })).body)
  t.match(p2, { results: [{ id: 'ib' }], links: { next: null } })
  const bad = await call(`${s.url}/integration/integrations/`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'postgres', name: 'x' }),
  })
  t.equal(bad.status, 400)
  t.equal((await call(`${s.url}/integration/integrations/`, { method: 'POST', headers: auth, body: '{not json' })).status, 400)
  const made = await call(`${s.url}/integration/integrations/`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ type: 'custom', name: 'c', credentials: {} }),
  })
  t.equal(made.status, 201)
  t.equal(s.integrations.length, 3)
  t.ok(
    s.log.every((l) => !l.includes(s.apiKey)),
    'the request log holds no key',
  )
})

t.test('uploads: complete vs incomplete bodies, part checks, unknown integration, not multipart', async (t) => {
  const s = await startTestServer({ integrations: [{ name: 'a', id: 'ia' }] })
  t.teardown(() => s.close())
  const up = (id: string, mp: { body: string; type: string }, endpoint = 'import_jsonl_metadata') =>
    call(`${s.url}/integration/integrations/${id}/${endpoint}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': mp.type },
      body: mp.body,
    })
  t.equal(
    (
      await up(
        'ia',
        multipart([
          ['resources_file', 'resources.jsonl', '{}\n'],
          ['lineages_file', 'lineage.jsonl', '{}\n'],
        ]),
      )
    ).status,
    200,
  )
  t.equal((await up('ia', multipart([['lineages_file', 'lineage.jsonl', '']]))).status, 400, 'resources part required')
  t.equal((await up('ia', multipart([['file', 'x.csv', 'a\n']]), 'import_metadata')).status, 200)
  t.equal((await up('nope', multipart([['file', 'x.csv', 'a\n']]), 'import_metadata')).status, 404)
  t.equal((await up('ia', { body: 'plain', type: 'text/plain' })).status, 400)
  const trunc = await up('ia', multipart([['resources_file', 'resources.jsonl', '{}\n']], false))
  t.equal(trunc.status, 400, 'a whole request without the closing boundary is refused')
  const ups = await s.waitForUploads(6)
  t.same(
    ups.map((u) => [u.status, u.complete, u.synced]),
    [
      [200, true, true],
      [400, true, false],
      [200, true, true],
      [404, true, false],
      [400, false, false],
      [400, false, false],
    ],
  )
  t.match(ups[1]!.error, /missing part "resources_file"/)
  t.equal(ups[0]!.parts[0]!.sha256, createHash('sha256').update('{}\n').digest('hex'))
  t.match(ups[5]!.error, /Unexpected end of form/)
  const empty = await up(
    'ia',
    multipart([
      ['resources_file', 'resources.jsonl', '{}\n'],
      ['lineages_file', 'lineage.jsonl', ''],
    ]),
  )
  t.equal(empty.status, 400, 'a 0-byte file part is refused, as Python form handling does')
  t.match(JSON.parse(empty.body).detail, /lineages_file: The submitted file is empty\./)
})

const auth = (s: { apiKey: string }) => ({ authorization: `Bearer ${s.apiKey}` })

t.test('resource/catalog counts per integration (filter), a sync replaces the count; 404 when switched off', async (t) => {
  const s = await startTestServer({
    pageSize: 10,
    integrations: [
      { name: 'a', id: 'ia', resources: 48 },
      { name: 'b', id: 'ib', resources: 5 },
    ],
  })
  t.teardown(() => s.close())
  const count = async (filter?: unknown) => {
    const q = filter === undefined ? '' : `?filter=${encodeURIComponent(JSON.stringify(filter))}`
    const r = await call(`${s.url}/resource/catalog${q}`, { headers: auth(s) })
    return { status: r.status, body: r.status === 200 ? JSON.parse(r.body) : r.body }
  }
  const inA = { operator: 'in', field: 'integration_id', value: ['ia'] }
  t.match(await count(inA), { status: 200, body: { count: 48, total_pages: 5, results: { length: 10 } } })
  t.match(await count({ operator: 'and', operands: [inA, { operator: 'exact', field: 'native_type', value: 'table' }] }), {
    body: { count: 48 },
  })
  t.match(await count(), { body: { count: 53 } }, 'no filter: every resource')
  t.match(await count({ operator: 'in', field: 'integration_id', value: ['nope'] }), { body: { count: 0 } })
  t.equal((await count({ operator: 'bogus' })).status, 400)
  t.equal((await call(`${s.url}/resource/catalog/`, {})).status, 401)
  const jsonl = '{"entity_type":"table","databuilder_id":"x.y.t1"}\n\n{"entity_type":"table","databuilder_id":"x.y.t2"}'
  const r = await call(`${s.url}/integration/integrations/ia/import_jsonl_metadata/`, {
    method: 'POST',
    headers: { ...auth(s), 'content-type': multipart([]).type },
    body: multipart([['resources_file', 'resources.jsonl', jsonl]]).body,
  })
  t.equal(r.status, 200)
  t.match(await count(inA), { body: { count: 2 } }, 'a sync leaves what it carried')
  const csv = 'col_name,col_description,col_type,col_sort_order,database,schema,name,description,is_view,last_updated_time\n'
  const rows = 'id,,int,1,db,s,t1,"two\nlines",false,\nname,,text,2,db,s,t1,"two\nlines",false,\nid,,int,1,db,s,t2,,false,\n'
  const r2 = await call(`${s.url}/integration/integrations/ib/import_metadata/`, {
    method: 'POST',
    headers: { ...auth(s), 'content-type': multipart([]).type },
    body: multipart([['file', 'columns.csv', csv + rows]]).body,
  })
  t.equal(r2.status, 200)
  t.equal(s.integrations[1]!.resources, 5, 'CSV: 3 columns + 2 tables')
  const off = await startTestServer({ catalog: false })
  t.teardown(() => off.close())
  t.equal((await call(`${off.url}/resource/catalog?filter=%7B%7D`, { headers: auth(off) })).status, 404, 'an older self-hosted version')
})

t.test('type filter, GET one integration, "None" links and meta paging', async (t) => {
  const s = await startTestServer({
    pageSize: 1,
    noneLinks: true,
    integrations: [
      { name: 'snow', id: 'is', type: 'snowflake' },
      { name: 'c1', id: 'i1' },
      { name: 'c2', id: 'i2' },
    ],
  })
  t.teardown(() => s.close())
  const get = async (u: string) => JSON.parse((await call(u, { headers: auth(s) })).body)
  const p1 = await get(`${s.url}/integration/integrations/?type=custom`)
  t.match(p1, { count: 2, total_pages: 2, results: [{ id: 'i1' }], links: { previous: 'None' }, meta: { page: 1, next_page: 2 } })
  t.match(p1.links.next, /type=custom/, 'the next link keeps the filter')
  t.match(await get(p1.links.next), { results: [{ id: 'i2' }], links: { next: 'None' }, meta: { next_page: null } })
  t.match(await get(`${s.url}/integration/integrations/is/`), { id: 'is', type: 'snowflake' })
  t.equal((await call(`${s.url}/integration/integrations/nope/`, { headers: auth(s) })).status, 404)
})

t.test(
  '30 writes a window answered 429 without Retry-After; 411 for chunked bodies when asked; create answered 502 after creating',
  async (t) => {
    const s = await startTestServer({ writeLimit: 2, rateWindowMs: 300, rejectChunked: true, integrations: [{ name: 'a', id: 'ia' }] })
    t.teardown(() => s.close())
    const create = (name: string) =>
      call(`${s.url}/integration/integrations/`, {
        method: 'POST',
        headers: { ...auth(s), 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'custom', name, credentials: {} }),
      })
    t.equal((await create('x1')).status, 201)
    s.fault({ on: 'create', status: 502, afterCreate: true })
    t.equal((await create('x2')).status, 502)
    t.ok(
      s.integrations.some((i) => i.name === 'x2'),
      'created although the answer was 502',
    )
    const limited = await create('x3')
    t.equal(limited.status, 429)
    t.equal(limited.headers['retry-after'], undefined, 'no Retry-After, as documented')
    await new Promise((r) => setTimeout(r, 350))
    t.equal((await create('x3')).status, 201, 'the window passed')
    await new Promise((r) => setTimeout(r, 350))
    const { Readable } = await import('node:stream')
    const mp = multipart([['resources_file', 'resources.jsonl', '{}\n']])
    const res = await request(`${s.url}/integration/integrations/ia/import_jsonl_metadata/`, {
      method: 'POST',
      headers: { ...auth(s), 'content-type': mp.type },
      body: Readable.from([Buffer.from(mp.body)]),
    })
    await res.body.text()
    t.equal(res.statusCode, 411, 'a chunked body is refused')
    t.equal(
      (
        await call(`${s.url}/integration/integrations/ia/import_jsonl_metadata/`, {
          method: 'POST',
          headers: { ...auth(s), 'content-type': mp.type },
          body: mp.body,
        })
      ).status,
      200,
      'Content-Length accepted',
    )
  },
)

t.test('a --dir that does not exist fails at start-up', async (t) => {
  await t.rejects(startTestServer({ dir: '/nonexistent/secoda-test-dir' }), { code: 'USAGE', message: /is not an existing directory/ })
})
