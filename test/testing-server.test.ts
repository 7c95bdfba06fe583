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
          ['lineages_file', 'lineage.jsonl', ''],
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
})
