import t from 'tap'
import { MysqlBatchScanner, unescapeMysqlBatch } from '../lib/scan/mysql-batch.js'
import type { CsvRow } from '../lib/scan/csv.js'

const TEXT = 'TABLE_NAME\tCOLUMN_NAME\tCOLUMN_COMMENT\r\nt\tc\tline one\\nline two \\"q\\" \\\\ tab\\there é€\nt\td\tNULL\n\nu\tv\tlast'

function feed(bytes: Uint8Array, size: number): CsvRow[] {
  const s = new MysqlBatchScanner()
  const rows: CsvRow[] = []
  for (let i = 0; i < bytes.length; i += size) rows.push(...s.push(bytes.subarray(i, i + size)))
  return [...rows, ...s.end()]
}

t.test('rows, escapes, CRLF, empty lines, line numbers', async (t) => {
  const rows = feed(new TextEncoder().encode(TEXT), 1 << 20)
  t.same(
    rows.map((r) => r.fields),
    [
      ['TABLE_NAME', 'COLUMN_NAME', 'COLUMN_COMMENT'],
      ['t', 'c', 'line one\nline two "q" \\ tab\there é€'],
      ['t', 'd', 'NULL'],
      ['u', 'v', 'last'],
    ],
  )
  t.same(
    rows.map((r) => r.line),
    [1, 2, 3, 5],
  )
})

t.test('chunking invariance, UTF-8 split across chunks', async (t) => {
  const bytes = new TextEncoder().encode(TEXT)
  const whole = JSON.stringify(feed(bytes, 1 << 20))
  for (const size of [1, 2, 3, 5, 7, 13]) t.equal(JSON.stringify(feed(bytes, size)), whole, `chunks of ${size}`)
  const s = new MysqlBatchScanner()
  t.same(
    [...s.push('a\tb\n'), ...s.push('c\td'), ...s.end()].map((r) => r.fields),
    [
      ['a', 'b'],
      ['c', 'd'],
    ],
    'string chunks',
  )
})

t.test('errors carry code and line', async (t) => {
  t.throws(() => feed(new Uint8Array([0x61, 0x0a, 0xff, 0x0a]), 10), { code: 'INPUT_UTF8', line: 2 })
  const s = new MysqlBatchScanner()
  s.push(new Uint8Array([0x61, 0x0a, 0xc3]))
  t.throws(() => s.end(), { code: 'INPUT_UTF8', line: 2 })
  t.throws(() => new MysqlBatchScanner({ maxRowChars: 4 }).push('a\nbbbbbbbb'), { code: 'CSV_SYNTAX', line: 2 })
  t.equal(unescapeMysqlBatch('\\0\\Z\\x'), '\0\x1ax')
  // a real U+FFFD on line 2 before the invalid byte on line 3: the line is the invalid byte's
  // (it was found as the first U+FFFD of a lossy decoding, which is the real one)
  const fffd = Buffer.concat([Buffer.from('a\tb\nx\t\uFFFD\nc\t'), Buffer.of(0xff), Buffer.from('\n')])
  for (const size of [1, 2, 5, fffd.length]) t.throws(() => feed(fffd, size), { code: 'INPUT_UTF8', line: 3 }, `chunks of ${size}`)
  // a character split across chunks, then an invalid continuation: the line of its first byte
  t.throws(() => feed(Buffer.from([0x61, 0x0a, 0x62, 0x0a, 0xe2, 0x82, 0x41]), 5), { code: 'INPUT_UTF8', line: 3 })
})
