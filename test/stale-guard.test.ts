import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { IdHashSet, StaleGuard, compareSorted, defaultStateDir } from '../lib/upload/stale-guard.js'

function dir(t: Tap.Test): string {
  const d = mkdtempSync(path.join(tmpdir(), 'secoda-stale-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

t.test('hash set: sorted, deduplicated, 8 bytes per id on disk', async (t) => {
  const s = new IdHashSet()
  for (let i = 0; i < 5000; i++) s.add(`db.s.t${i % 4000}`)
  const h = s.sorted()
  t.equal(h.length, 4000)
  for (let i = 1; i < h.length; i++) if (!(h[i - 1]! < h[i]!)) return t.fail('not strictly ascending')
  const d = dir(t)
  const g = new StaleGuard({ baseUrl: 'https://api.secoda.co/api/v1', integrationId: 'i', stateDir: d })
  for (let i = 0; i < 4000; i++) g.add(`db.s.t${i}`)
  g.check()
  g.commit()
  t.equal(readFileSync(g.file).length, 8 + 4000 * 8)
  t.same(readdirSync(d), [path.basename(g.file)], 'no temp file left')
  t.notMatch(readFileSync(g.file, 'latin1'), /db\.s\.t|secoda\.co/, 'neither ids nor URL in the file')
})

t.test('compareSorted counts added, kept, archived', async (t) => {
  const a = new BigUint64Array([1n, 3n, 5n, 7n])
  const b = new BigUint64Array([3n, 4n, 7n, 9n, 10n])
  t.same(compareSorted(a, b), { added: 3, kept: 2, archived: 2, previous: 4 })
  t.same(compareSorted(new BigUint64Array(0), b), { added: 5, kept: 0, archived: 0, previous: 0 })
})

t.test('state is keyed by API URL and integration; threshold is a share', async (t) => {
  const d = dir(t)
  const guard = (url: string, id: string, ids: number, maxStale = 0.1, allowStale = false) => {
    const g = new StaleGuard({ baseUrl: url, integrationId: id, stateDir: d, maxStale, allowStale })
    for (let i = 0; i < ids; i++) g.add(`id${i}`)
    return g
  }
  const g1 = guard('https://a/api/v1', 'x', 100)
  g1.check()
  g1.commit()
  t.same(guard('https://b/api/v1', 'x', 1).check(), { added: 1, kept: 0, archived: 0, previous: 0 }, 'other URL: no state')
  t.same(guard('https://a/api/v1', 'y', 1).check(), { added: 1, kept: 0, archived: 0, previous: 0 }, 'other integration: no state')
  t.same(guard('https://a/api/v1', 'x', 90).check(), { added: 0, kept: 90, archived: 10, previous: 100 }, '10% is allowed at 10%')
  t.throws(() => guard('https://a/api/v1', 'x', 89).check(), {
    code: 'UPLOAD_STALE',
    message: /archive 11 of the 100.*11%.*--max-stale 10%/,
  })
  t.same(guard('https://a/api/v1', 'x', 0, 0.1, true).check(), { added: 0, kept: 0, archived: 100, previous: 100 }, 'allowStale')
  t.throws(() => guard('https://a/api/v1', 'x', 99, 0).check(), { code: 'UPLOAD_STALE' }, 'max-stale 0')
  t.throws(() => new StaleGuard({ baseUrl: 'u', integrationId: 'i', maxStale: 2 }), { code: 'USAGE' })
})

t.test('corrupt or unreadable state: UPLOAD_STATE, with the file named', async (t) => {
  const d = dir(t)
  const g = new StaleGuard({ baseUrl: 'u', integrationId: 'i', stateDir: d })
  writeFileSync(g.file, 'garbage')
  t.throws(() => g.check(), { code: 'UPLOAD_STATE', file: g.file, message: /not a secoda-convert state file/ })
  const blocked = new StaleGuard({ baseUrl: 'u', integrationId: 'i', stateDir: path.join(g.file, 'sub') })
  t.throws(() => blocked.commit(), { code: 'UPLOAD_STATE' })
})

t.test('default state dir: XDG_CACHE_HOME, else ~/.cache', async (t) => {
  t.equal(defaultStateDir({ XDG_CACHE_HOME: '/x/cache' }), path.join('/x/cache', 'secoda-convert'))
  t.match(defaultStateDir({}), /\.cache[/\\]secoda-convert$/)
  t.match(defaultStateDir({ XDG_CACHE_HOME: 'relative' }), /\.cache[/\\]secoda-convert$/, 'relative XDG path ignored, as the spec says')
})
