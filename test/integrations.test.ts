import t from 'tap'
import { SecodaClient, resolveApiSettings } from '../lib/upload/http.js'
import { catalogCount, checkCustomIntegration, findOrCreateIntegration, listIntegrations, nextPage } from '../lib/upload/integrations.js'
import { startTestServer } from '../lib/testing/server.js'

async function setup(t: Tap.Test, names: string[]) {
  const server = await startTestServer({ pageSize: 2, integrations: names.map((name, i) => ({ name, id: `id-${i}` })) })
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }))
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  return { server, client }
}

t.test('lookup by name follows links.next through every page', async (t) => {
  const { server, client } = await setup(t, ['a', 'b', 'c', 'd', 'warehouse'])
  const found = await findOrCreateIntegration(client, 'warehouse')
  t.same(found, { id: 'id-4', name: 'warehouse', created: false })
  t.equal(server.log.filter((l) => l.startsWith('GET')).length, 3, 'three pages of two')
  const all: string[] = []
  for await (const i of listIntegrations(client)) all.push(i.name)
  t.same(all, ['a', 'b', 'c', 'd', 'warehouse'])
})

t.test('missing: INTEGRATION_NOT_FOUND without --create; created with type custom and teams', async (t) => {
  const { server, client } = await setup(t, ['a'])
  await t.rejects(findOrCreateIntegration(client, 'new'), { code: 'INTEGRATION_NOT_FOUND', message: /add --create/ })
  t.same(await findOrCreateIntegration(client, 'new', { create: true, dryRun: true }), {
    id: '(dry run: would be created)',
    name: 'new',
    created: true,
  })
  t.equal(server.integrations.length, 1, 'dry run creates nothing')
  const made = await findOrCreateIntegration(client, 'new', { create: true, teams: ['team-1'] })
  t.equal(made.created, true)
  t.match(server.integrations[1], { id: made.id, name: 'new', type: 'custom', teams: ['team-1'], credentials: {} })
  t.same(
    await findOrCreateIntegration(client, 'new', { create: true }),
    { id: made.id, name: 'new', created: false },
    'found the second time',
  )
})

t.test('two integrations with one name: INTEGRATION_AMBIGUOUS', async (t) => {
  const { client } = await setup(t, ['x', 'dup', 'y', 'dup'])
  await t.rejects(findOrCreateIntegration(client, 'dup'), {
    code: 'INTEGRATION_AMBIGUOUS',
    message: /2 custom integrations are called "dup" \(ids id-1, id-3\)/,
  })
})

t.test('a 401 on the list says what to check', async (t) => {
  const { server } = await setup(t, ['a'])
  const bad = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: 'nope-nope' } }))
  t.teardown(() => bad.close())
  await t.rejects(findOrCreateIntegration(bad, 'a'), { code: 'UPLOAD_AUTH', message: /401.*check the API key/ })
})

t.test('paging ends on "None", null, "" or a non-URL link; meta.next_page and total_pages are used when present', async (t) => {
  const first = '/integration/integrations/?type=custom'
  t.equal(nextPage({ links: { next: 'None' } }, 1, first), undefined)
  t.equal(nextPage({ links: { next: null } }, 1, first), undefined)
  t.equal(nextPage({ links: { next: '' } }, 1, first), undefined)
  t.equal(nextPage({ links: { next: '/api/v1/integration/integrations/?page=2' } }, 1, first), undefined, 'not a URL')
  t.equal(nextPage({ links: { next: 'https://x.test/api/v1/i/?page=2' } }, 1, first), 'https://x.test/api/v1/i/?page=2')
  t.equal(nextPage({ links: { next: 'None' }, meta: { next_page: 2 } }, 1, first), `${first}&page=2`, 'meta wins')
  t.equal(nextPage({ links: { next: 'https://x.test/?page=2' }, meta: { next_page: null } }, 1, first), undefined)
  t.equal(nextPage({ meta: { next_page: '3' } }, 2, first), `${first}&page=3`)
  t.equal(nextPage({ meta: { next_page: 1 } }, 1, first), undefined, 'never backwards')
  t.equal(nextPage({ total_pages: 3 }, 1, first), `${first}&page=2`, 'total_pages without links')
  t.equal(nextPage({ total_pages: 3 }, 3, first), undefined)
})

t.test('lookup through a server writing "None" links; non-custom integrations never match a name', async (t) => {
  const server = await startTestServer({
    pageSize: 1,
    noneLinks: true,
    integrations: [
      { name: 'warehouse', id: 'native', type: 'snowflake' },
      { name: 'a', id: 'ia' },
      { name: 'warehouse', id: 'custom-1' },
    ],
  })
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }))
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  t.same(await findOrCreateIntegration(client, 'warehouse'), { id: 'custom-1', name: 'warehouse', created: false })
  t.ok(
    server.log.every((l) => !l.startsWith('GET') || l.includes('type=custom')),
    'asked for custom integrations only',
  )
  await t.rejects(checkCustomIntegration(client, 'native'), {
    code: 'INTEGRATION_NOT_CUSTOM',
    message: /"snowflake" integration, not a custom one/,
  })
  t.match(await checkCustomIntegration(client, 'custom-1'), { id: 'custom-1', type: 'custom' })
  await t.rejects(checkCustomIntegration(client, 'gone'), { code: 'INTEGRATION_NOT_FOUND' })
})

t.test('a create answered 502 after creating is not repeated: the name is looked up again', async (t) => {
  const { server, client } = await setup(t, ['a'])
  server.fault({ on: 'create', status: 502, afterCreate: true })
  const made = await findOrCreateIntegration(client, 'new', { create: true })
  t.equal(made.created, true)
  t.equal(server.integrations.filter((i) => i.name === 'new').length, 1, 'exactly one created')
  t.equal(server.log.filter((l) => l.startsWith('POST')).length, 1, 'one POST')
  t.equal(made.id, server.integrations.find((i) => i.name === 'new')!.id)
  // 502 before creating: looked up, not there, created again (safe now).
  server.fault({ on: 'create', status: 502 })
  const fast = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), { baseDelayMs: 5 })
  t.teardown(() => fast.close())
  const second = await findOrCreateIntegration(fast, 'other', { create: true })
  t.equal(server.integrations.filter((i) => i.name === 'other').length, 1)
  t.equal(second.id, server.integrations.find((i) => i.name === 'other')!.id)
  // A reset on create: also looked up again.
  server.fault({ on: 'create', resetAfterBytes: 0 })
  await findOrCreateIntegration(fast, 'third', { create: true })
  t.equal(server.integrations.filter((i) => i.name === 'third').length, 1)
})

t.test('catalogCount reads count with the integration filter', async (t) => {
  const server = await startTestServer({
    integrations: [
      { name: 'a', id: 'ia', resources: 12345 },
      { name: 'b', id: 'ib', resources: 3 },
    ],
  })
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), { baseDelayMs: 5 })
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  t.equal(await catalogCount(client, 'ia'), 12345)
  t.match(
    server.log.at(-1),
    /^GET \/api\/v1\/resource\/catalog\?filter=%7B%22operator%22%3A%22in%22%2C%22field%22%3A%22integration_id%22%2C%22value%22%3A%5B%22ia%22%5D%7D 200$/,
  )
  server.fault({ on: 'catalog', body: '{"results": []}', status: 200 })
  await t.rejects(catalogCount(client, 'ia'), { code: 'UPLOAD_GUARD_UNAVAILABLE', message: /no "count"/ })
})

t.test('catalogCount also finds a catalog routed only with a trailing slash', async (t) => {
  for (const catalogPath of ['plain', 'slash'] as const) {
    const server = await startTestServer({ catalogPath, integrations: [{ name: 'a', id: 'ia', resources: 7 }] })
    const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }))
    t.teardown(async () => {
      await client.close()
      await server.close()
    })
    t.equal(await catalogCount(client, 'ia'), 7, catalogPath)
  }
})
