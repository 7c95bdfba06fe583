import t from 'tap'
import { SecodaClient, resolveApiSettings } from '../lib/upload/http.js'
import { findOrCreateIntegration, listIntegrations } from '../lib/upload/integrations.js'
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
