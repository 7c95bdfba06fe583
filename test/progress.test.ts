// Progress on stderr (lib/cli/progress.ts): when it shows, what it says, how often it
// redraws, and that it is gone before the summary. A fake terminal is a Writable with isTTY.
import t from 'tap'
import { Writable } from 'node:stream'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixture, runCli } from './helpers.js'
import { progressLine, progressMode, startProgress } from '../lib/cli/progress.js'

const ESC = '\u001b'
const dir = mkdtempSync(join(tmpdir(), 'sc-progress-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function fakeTerminal(tty: boolean): Writable & { text: string; writes: number } {
  const w = new Writable({
    write(c, _e, cb) {
      w.text += c.toString()
      w.writes++
      cb()
    },
  }) as Writable & { text: string; writes: number }
  w.text = ''
  w.writes = 0
  if (tty) Object.assign(w, { isTTY: true, columns: 120 })
  return w
}

t.test('mode: a terminal shows it, --progress forces it, --no-progress and --quiet turn it off', async (t) => {
  const tty = fakeTerminal(true)
  const pipe = fakeTerminal(false)
  t.equal(progressMode(undefined, undefined, tty), 'tty')
  t.equal(progressMode(undefined, true, tty), 'off')
  t.equal(progressMode(false, undefined, tty), 'off')
  t.equal(progressMode(undefined, undefined, pipe), 'off')
  t.equal(progressMode(true, undefined, pipe), 'plain')
  t.equal(progressMode(true, undefined, tty), 'tty')
})

t.test('the line: percent and ETA for a known size, bytes and rate for stdin', async (t) => {
  t.equal(
    progressLine({ phase: 'converting', bytes: 50_000_000, total: 200_000_000, records: 12345, elapsedMs: 5000 }),
    'converting 25% 50.0 MB of 200.0 MB, ETA 15s | 12,345 records out',
  )
  t.equal(
    progressLine({ phase: 'validating', bytes: 3_000_000, records: 7, elapsedMs: 2000 }),
    'validating 3.0 MB at 1.5 MB/s | 7 records out',
  )
  t.match(progressLine({ phase: 'uploading', bytes: 1, total: 1000, records: 0, elapsedMs: 0 }), /ETA \?/)
})

t.test('at most ~10 redraws a second on a terminal, and the line is erased at the end', async (t) => {
  const term = fakeTerminal(true)
  let bytes = 0
  const started = Date.now()
  const p = await startProgress({
    stream: term,
    mode: 'tty',
    phase: 'reading',
    total: 1000,
    source: { bytes: () => bytes, records: () => bytes },
  })
  // the figures change all the time: every draw would differ
  const feed = setInterval(() => bytes++, 1)
  await new Promise((r) => setTimeout(r, 600))
  clearInterval(feed)
  p.stop()
  const elapsed = Date.now() - started
  const draws = term.text.split('reading').length - 1
  t.ok(draws >= 1, `drew (${draws} times)`)
  t.ok(draws <= elapsed / 100 + 3, `${draws} draws in ${elapsed} ms: at most ~10 a second`)
  t.ok(term.text.endsWith(`${ESC}[2K`), 'the last thing written erases the line')
  p.stop()
})

t.test('a conversion on a terminal: progress while it runs, erased before the summary', async (t) => {
  const r = await runCli(['pg-dump', fixture('samples', 'shop-pg_dump.sql'), '--database', 'shop', '-o', join(dir, 'pg.jsonl')], {
    tty: { stderr: true },
  })
  t.equal(r.code, 0)
  t.match(r.stderr, /converting .*% .* of .*, ETA .* records out/)
  const summaryAt = r.stderr.indexOf('secoda-convert:')
  t.ok(summaryAt > 0)
  t.ok(r.stderr.slice(0, summaryAt).endsWith(`${ESC}[2K`), 'the line is erased right before the summary')
  t.notMatch(r.stderr.slice(summaryAt), /records out/, 'no progress after the summary')
})

t.test('stdin: bytes and rate, no percent', async (t) => {
  const input = Array.from({ length: 2000 }, (_, i) =>
    JSON.stringify({ entity_type: 'table', databuilder_id: `d.s.t${i}`, title: `t${i}`, database: 'd', schema: 's' }),
  ).join('\n')
  const r = await runCli(['validate'], { stdin: input, tty: { stderr: true } })
  t.equal(r.code, 0)
  t.match(r.stderr, /validating [\d.]+ [kM]?B at [\d.]+ [kM]?B\/s \| [\d,]+ records out/)
  t.notMatch(r.stderr, /ETA/)
})

t.test('off when stderr is not a terminal, with --quiet or --no-progress; --progress gives plain lines', async (t) => {
  const file = join(dir, 'in.jsonl')
  writeFileSync(file, '{"entity_type":"table","databuilder_id":"a","title":"a","database":"d","schema":"s"}\n')
  const plain = await runCli(['validate', file])
  t.notMatch(plain.stderr, /records out/)
  const quiet = await runCli(['validate', file, '--quiet'], { tty: { stderr: true } })
  t.notMatch(quiet.stderr, /records out/)
  const off = await runCli(['validate', file, '--no-progress'], { tty: { stderr: true } })
  t.notMatch(off.stderr, /records out/)
  const forced = await runCli(['validate', file, '--progress'])
  t.match(forced.stderr, /^validating 100% (\d+) B of \1 B, ETA 0s \| 1 records out\n/m, 'a plain line, no escape codes')
  t.notOk(forced.stderr.includes(ESC), 'no escape codes')
})
