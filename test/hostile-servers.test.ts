// Hostile or broken servers: the API key never reaches the terminal in any form, bodies are
// read up to a cap, a body that trickles is cut by an overall deadline, URLs are printed
// without their userinfo, and the stale-guard state is never written through a planted symlink.

import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiKey, SecodaClient, resolveApiSettings, withoutUserinfo } from '../lib/upload/http.js'

const KEY = 'sk_live_Abc123+/xyz=='

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

t.test('the key is redacted in every form a server may echo it', async (t) => {
  const k = new ApiKey(KEY)
  for (const form of [
    KEY,
    KEY.toUpperCase(),
    encodeURIComponent(KEY),
    JSON.stringify(KEY).slice(1, -1),
    Buffer.from(KEY).toString('base64'),
    Buffer.from(KEY).toString('base64url'),
  ]) {
    t.notMatch(k.redact(`error: bad key ${form} here`), form, `redacted: ${form}`)
  }
  t.equal(k.redact('nothing secret'), 'nothing secret')
})

t.test('URLs in messages lose their userinfo', async (t) => {
  t.equal(withoutUserinfo('https://user:s3cret@api.example.com/x'), 'https://[redacted]@api.example.com/x')
  t.throws(() => resolveApiSettings({ apiUrl: 'https://user:s3cret@exa mple.com', apiKey: KEY }), { code: 'UPLOAD_CONFIG' })
  try {
    resolveApiSettings({ apiUrl: 'https://user:s3cret@exa mple.com', apiKey: KEY })
  } catch (e) {
    t.notMatch((e as Error).message, /s3cret/)
  }
})

t.test('a server echoing the key in an error, a non-JSON answer or a success: never in a message', async (t) => {
  const { server, url } = await serve((req, res) => {
    const echo = req.headers.authorization ?? ''
    if (req.url === '/error') res.writeHead(400).end(JSON.stringify({ detail: `bad ${echo}` }))
    else if (req.url === '/text') res.writeHead(200).end(`<html>${echo}</html>`)
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: echo }))
  })
  t.teardown(() => server.close())
  const client = new SecodaClient(resolveApiSettings({ apiUrl: url, apiKey: KEY }), { maxAttempts: 1 })
  await t.rejects(client.json('GET', '/error'), { code: 'UPLOAD_HTTP' })
  for (const path of ['/error', '/text']) {
    try {
      await client.json('GET', path)
      t.fail('should fail')
    } catch (e) {
      t.notMatch((e as Error).message, /Abc123/, `${path}: no key in the message`)
    }
  }
  const ok = await client.json<{ ok: string }>('GET', '/ok')
  t.notMatch(ok.ok, /Abc123/, 'not in a successful answer either')
})

t.test('a huge answer is cut at the cap; a trickling one is cut by the overall deadline', async (t) => {
  const { server, url } = await serve((req, res) => {
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(1 << 20, 0x20)
      let n = 0
      const more = (): void => {
        while (n++ < 200) if (!res.write(chunk)) return void res.once('drain', more)
        res.end('{}')
      }
      more()
    } else {
      res.writeHead(200)
      const timer = setInterval(() => res.write(' '), 50)
      res.on('close', () => clearInterval(timer))
    }
  })
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const client = new SecodaClient(resolveApiSettings({ apiUrl: url, apiKey: KEY }), { maxAttempts: 1, bodyTimeoutMs: 1000 })
  const before = process.memoryUsage().rss
  await t.rejects(client.json('GET', '/huge'), { code: 'UPLOAD_HTTP', message: /larger than 1048576 bytes/ })
  t.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'a 200 MB answer is not held in memory')
  await t.rejects(client.json('GET', '/trickle'), { code: 'UPLOAD_NETWORK' })
})
