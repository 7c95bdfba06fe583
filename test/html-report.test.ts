// `--report FILE.html` (lib/cli/html-report.ts): a self-contained page, checked in a real
// browser (Chromium from Debian packages, driven by playwright-core; .ci/setup-browser.sh
// installs it): no console errors, no request leaves the page, search finds a column,
// picking a table shows its upstream and downstream nodes, counts match the JSON summary.
// Also makes the screenshot docs/report.png (UPDATE_SCREENSHOT=1).
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root, runCli } from './helpers.js'
import type { RunSummary } from '../lib/cli/summary.js'

const dir = mkdtempSync(join(tmpdir(), 'sc-html-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const table = (db: string, schema: string, name: string, description = '') => ({
  entity_type: 'table',
  databuilder_id: `${db}.${schema}.${name}`,
  title: name,
  database: db,
  schema,
  description,
})
const column = (tableId: string, name: string, type: string, isPk = false) => ({
  entity_type: 'column',
  databuilder_id: `${tableId}.${name}`,
  parent_databuilder_id: tableId,
  title: name,
  type,
  ...(isPk ? { is_pk: true } : {}),
})
const edge = (a: string, b: string) => ({
  from_identifier: { type: 'internal_resource', databuilder_id: a },
  to_identifier: { type: 'internal_resource', databuilder_id: b },
})
const records = [
  table('shop', 'raw', 'orders', 'Orders as loaded'),
  column('shop.raw.orders', 'id', 'integer', true),
  column('shop.raw.orders', 'amount_cents', 'integer'),
  table('shop', 'staging', 'stg_orders'),
  column('shop.staging.stg_orders', 'order_id', 'integer', true),
  column('shop.staging.stg_orders', 'amount', 'numeric'),
  table('shop', 'marts', 'revenue', 'Daily revenue'),
  column('shop.marts.revenue', 'amount', 'numeric'),
  table('analytics', 'public', 'dashboard_feed'),
  edge('shop.raw.orders', 'shop.staging.stg_orders'),
  edge('shop.staging.stg_orders', 'shop.marts.revenue'),
  edge('shop.marts.revenue', 'analytics.public.dashboard_feed'),
  edge('shop.raw.orders.amount_cents', 'shop.staging.stg_orders.amount'),
  edge('shop.staging.stg_orders.amount', 'shop.marts.revenue.amount'),
]
const input = join(dir, 'in.jsonl')
writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n')

t.test('the page is written, self-contained, and carries the summary', async (t) => {
  const html = join(dir, 'report.html')
  const r = await runCli(['validate', input, '--json', '--report', html])
  t.equal(r.code, 0, r.stderr)
  const page = readFileSync(html, 'utf8')
  t.notMatch(page, /<(script|link|img)[^>]+(src|href)=/i, 'no external scripts, styles or images')
  t.notMatch(page, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no URL but the SVG namespace')
  t.match(page, /var dagre=/, 'the layout library is inlined')
  const s = JSON.parse(r.stdout) as RunSummary
  t.match(s, { lineage: { total: 5, table: 3, column: 2 } })
  // a failed run writes its page too
  const bad = join(dir, 'bad.html')
  const f = await runCli(['validate', join(dir, 'missing.jsonl'), '--report', bad])
  t.equal(f.code, 2)
  t.match(readFileSync(bad, 'utf8'), /INPUT_NOT_FOUND/)
})

const chromium = '/usr/bin/chromium'
t.test(
  'in Chromium: loads cleanly, search finds a column, picking a table shows its neighbours, counts match',
  { skip: !existsSync(chromium) && 'no /usr/bin/chromium (.ci/setup-browser.sh installs it)' },
  async (t) => {
    const { chromium: pw } = await import('playwright-core')
    const html = join(dir, 'browser.html')
    const r = await runCli(['validate', input, '--json', '--report', html])
    const s = JSON.parse(r.stdout) as RunSummary
    const browser = await pw.launch({
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    t.teardown(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    const requests: string[] = []
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) requests.push(req.url())
    })
    await page.goto(`file://${html}`)
    await page.waitForSelector('#counts-table')
    t.same(problems, [], 'no console errors')
    t.same(requests, [], 'no network requests')
    t.equal(await page.textContent('[data-figure="tables"]'), String(s.resources.table), 'tables count matches the JSON summary')
    t.equal(await page.textContent('[data-figure="columns"]'), String(s.resources.column), 'columns count matches')
    t.match(
      await page.textContent('[data-figure="lineage edges"]'),
      `${s.lineage.total} (${s.lineage.table} table-level, ${s.lineage.column} column-level)`,
    )
    t.match(await page.textContent('#counts-table'), /shop\s*staging\s*1\s*2/, 'counts by database and schema')
    await page.fill('#search', 'amount_cents')
    await page.waitForFunction(() => document.querySelector('#result-count')?.textContent?.startsWith('1 match'))
    t.match(await page.textContent('#results tbody'), /orders\.amount_cents\s*integer/, 'search finds the column')
    await page.fill('#search', 'stg_orders')
    await page.waitForSelector('tr[data-table]:not([data-column])')
    await page.click('tr[data-table]:not([data-column])')
    await page.waitForSelector('#graph svg')
    const roles = await page.$$eval('#graph .node', (ns) =>
      ns.map((n) => `${n.getAttribute('class')}: ${n.querySelector('title')?.textContent}`),
    )
    t.same(
      roles.sort(),
      [
        'node down: shop.marts.revenue',
        'node down: analytics.public.dashboard_feed',
        'node picked: shop.staging.stg_orders',
        'node up: shop.raw.orders',
      ].sort(),
      'the picked table with two steps up and down',
    )
    t.equal(await page.$$eval('#graph path.edge', (p) => p.length), 3)
    t.ok((await page.$$('#column-graph .node')).length >= 3, 'column-level lineage drawn')
    t.same(problems, [], 'still no console errors')
    const shot = join(root, 'docs', 'report.png')
    if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(shot)) await page.screenshot({ path: shot, fullPage: true })
  },
)
