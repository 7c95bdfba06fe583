import t from 'tap'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inspect } from 'node:util'
import { ApiKey, REGION_URLS, SecodaClient, isLoopbackHost, parseRetryAfter, resolveApiSettings } from '../lib/upload/http.js'
import { startTestServer } from '../lib/testing/server.js'

const KEY = 'sk-live-0123456789abcdef'

t.test('base URL: regions, self-hosted, SECODA_API_URL, precedence', async (t) => {
  const env = { SECODA_API_KEY: KEY }
  t.equal(resolveApiSettings({ env }).baseUrl, REGION_URLS.us)
  t.equal(resolveApiSettings({ env, region: 'eu' }).baseUrl, 'https://eapi.secoda.co/api/v1')
  t.equal(resolveApiSettings({ env, region: 'APAC' }).baseUrl, 'https://aapi.secoda.co/api/v1')
  t.equal(
    resolveApiSettings({ env: { ...env, SECODA_API_URL: 'https://secoda.example.com/api/v1/' } }).baseUrl,
    'https://secoda.example.com/api/v1',
  )
  t.equal(
    resolveApiSettings({ env: { ...env, SECODA_API_URL: 'https://x.example/api/v1' }, apiUrl: 'https://y.example/api/v1' }).baseUrl,
    'https://y.example/api/v1',
  )
  t.match(resolveApiSettings({ env, apiUrl: 'https://secoda.example.com' }).warnings, [/does not end in \/api\/v1/])
  t.throws(() => resolveApiSettings({ env, region: 'mars' }), { code: 'UPLOAD_CONFIG', message: /unknown region.*mars/ })
  t.throws(() => resolveApiSettings({ env, region: 'eu', apiUrl: 'https://a.example/api/v1' }), { code: 'UPLOAD_CONFIG' })
  t.throws(() => resolveApiSettings({ env, apiUrl: 'not a url' }), { code: 'UPLOAD_CONFIG' })
  t.throws(() => resolveApiSettings({ env, apiUrl: 'ftp://a.example/api/v1' }), { code: 'UPLOAD_CONFIG' })
  t.throws(() => resolveApiSettings({ env, apiUrl: 'https://u:p@a.example/api/v1' }), { code: 'UPLOAD_CONFIG' })
})

t.test('plain http:// only to loopback', async (t) => {
  const env = { SECODA_API_KEY: KEY }
  t.throws(() => resolveApiSettings({ env, apiUrl: 'http://secoda.example.com/api/v1' }), {
    code: 'UPLOAD_CONFIG',
    message: /refusing plain http:\/\/ to secoda\.example\.com/,
  })
  t.throws(() => resolveApiSettings({ env, apiUrl: 'http://10.0.0.1/api/v1' }), { code: 'UPLOAD_CONFIG' })
  for (const h of ['127.0.0.1:8080', 'localhost', '[::1]:9000', '127.1.2.3']) {
    t.equal(resolveApiSettings({ env, apiUrl: `http://${h}/api/v1` }).baseUrl, `http://${h}/api/v1`)
  }
  t.ok(isLoopbackHost('[::1]'))
  t.notOk(isLoopbackHost('127.example.com'))
})

t.test('key: file, flag (warned), environment; missing key', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'secoda-key-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'key')
  writeFileSync(file, `  ${KEY}  \nignored\n`)
  t.equal(resolveApiSettings({ apiKeyFile: file, env: { SECODA_API_KEY: 'other' } }).key!.reveal(), KEY)
  const flag = resolveApiSettings({ apiKey: KEY, env: {} })
  t.equal(flag.key!.reveal(), KEY)
  t.match(flag.warnings, [/--api-key puts the key in shell history/])
  t.notMatch(flag.warnings.join(' '), KEY)
  t.equal(resolveApiSettings({ env: { SECODA_API_KEY: KEY } }).key!.reveal(), KEY)
  t.throws(() => resolveApiSettings({ env: {} }), {
    code: 'UPLOAD_CONFIG',
    message: /no API key: set SECODA_API_KEY or pass --api-key-file/,
  })
  t.equal(resolveApiSettings({ env: {}, keyOptional: true }).key, undefined)
  t.throws(() => resolveApiSettings({ apiKeyFile: path.join(dir, 'missing'), env: {} }), { code: 'UPLOAD_CONFIG', message: /ENOENT/ })
  writeFileSync(file, '\n')
  t.throws(() => resolveApiSettings({ apiKeyFile: file, env: {} }), { code: 'UPLOAD_CONFIG', message: /is empty/ })
})

t.test('ApiKey never prints itself', async (t) => {
  const k = new ApiKey(KEY)
  const settings = resolveApiSettings({ env: { SECODA_API_KEY: KEY } })
  for (const s of [String(k), `${k}`, JSON.stringify({ k }), inspect(k), inspect(settings), JSON.stringify(settings)]) t.notMatch(s, KEY)
  t.equal(k.redact(`a ${KEY} b ${KEY}`), 'a [redacted] b [redacted]')
})

t.test('Retry-After and backoff', async (t) => {
  t.equal(parseRetryAfter('7'), 7000)
  t.equal(parseRetryAfter(undefined), undefined)
  t.equal(parseRetryAfter('soon'), undefined)
  const now = Date.parse('2026-01-01T00:00:00Z')
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000)
  t.equal(parseRetryAfter('Thu, 01 Jan 2025 00:00:30 GMT', now), 0)
  const c = new SecodaClient(resolveApiSettings({ env: { SECODA_API_KEY: KEY } }), {
    baseDelayMs: 1000,
    maxDelayMs: 10_000,
    random: () => 0.5,
  })
  t.teardown(() => c.close())
  t.equal(c.backoffMs(1, undefined), 750)
  t.equal(c.backoffMs(2, undefined), 1500)
  t.equal(c.backoffMs(3, undefined), 3000)
  t.equal(c.backoffMs(10, undefined), 7500, 'capped at maxDelay (half fixed, half jitter)')
  t.equal(c.backoffMs(1, 4000), 4500, 'Retry-After plus a little jitter')
  const r0 = new SecodaClient(resolveApiSettings({ env: { SECODA_API_KEY: KEY } }), { baseDelayMs: 1000, random: () => 0 })
  const r1 = new SecodaClient(resolveApiSettings({ env: { SECODA_API_KEY: KEY } }), { baseDelayMs: 1000, random: () => 0.999 })
  t.ok(r0.backoffMs(2, undefined) < r1.backoffMs(2, undefined), 'jitter spreads retries')
  await r0.close()
  await r1.close()
})

t.test('Retry-After longer than --max-wait fails at once; waits are honoured', async (t) => {
  const server = await startTestServer()
  const waits: number[] = []
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), {
    maxDelayMs: 5000,
    random: () => 0,
    sleep: async (ms) => {
      waits.push(ms)
    },
  })
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  server.fault({ on: 'list', status: 429, retryAfter: 3 })
  const page = await client.json<{ count: number }>('GET', '/integration/integrations/')
  t.equal(page.count, 0)
  t.same(waits, [3000])
  server.fault({ on: 'list', status: 429, retryAfter: 3600 })
  await t.rejects(client.json('GET', '/integration/integrations/'), {
    code: 'UPLOAD_HTTP',
    message: /the next wait \(3600 s, the rate window or Retry-After\) would exceed --max-wait 120 s/,
  })
})

t.test('a connection reset on GET is retried; a paging link to another origin is refused', async (t) => {
  const server = await startTestServer()
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), {
    sleep: async () => {},
  })
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  server.fault({ on: 'list', resetAfterBytes: 0 })
  const res = await client.send({ method: 'GET', path: '/integration/integrations/' })
  t.equal(res.attempts, 2)
  await t.rejects(client.send({ method: 'GET', path: 'https://evil.example/api/v1/integration/integrations/?page=2' }), {
    code: 'UPLOAD_HTTP',
    message: /another origin/,
  })
  await t.rejects(client.json('GET', '/nowhere/'), { code: 'UPLOAD_HTTP', message: /HTTP 404: Not found\./ })
})

t.test('a server that echoes the key gets it redacted from errors and debug lines', async (t) => {
  const server = await startTestServer()
  const lines: string[] = []
  const client = new SecodaClient(resolveApiSettings({ apiUrl: server.url, env: { SECODA_API_KEY: server.apiKey } }), {
    debug: (l) => lines.push(l),
  })
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  server.fault({ on: 'list', status: 400, body: JSON.stringify({ detail: `bad token ${server.apiKey}` }) })
  const err = await client.json('GET', '/integration/integrations/').catch((e: unknown) => e as Error)
  t.match(err, { code: 'UPLOAD_HTTP', message: /bad token \[redacted\]/ })
  t.ok(lines.length > 0)
  t.notMatch(lines.join('\n') + (err as Error).message, server.apiKey)
})
