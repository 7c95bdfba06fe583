import t from 'tap'
import { forcesQuotes, quoteCsvField, writeQuotedBytes } from '../lib/csv-quote.js'
import { parseCsv } from '../lib/scan/csv.js'
import { rng } from './helpers.js'

t.test('RFC 4180 quoting of strings', async (t) => {
  t.equal(quoteCsvField('plain text'), 'plain text')
  t.equal(quoteCsvField(''), '')
  t.equal(quoteCsvField('a,b'), '"a,b"')
  t.equal(quoteCsvField('say "hi"'), '"say ""hi"""')
  t.equal(quoteCsvField('two\nlines'), '"two\nlines"')
  t.equal(quoteCsvField('cr\r'), '"cr\r"')
  t.equal(quoteCsvField('semi;colon\ttab é😀'), 'semi;colon\ttab é😀', 'other delimiters and non-ASCII stay bare')
})

t.test('only comma, quote, CR and LF force quotes', async (t) => {
  const forcing: number[] = []
  for (let c = 0; c < 0x10000; c++) if (forcesQuotes(c)) forcing.push(c)
  t.same(forcing, [0x0a, 0x0d, 0x22, 0x2c])
})

t.test('quoted fields round-trip through the scanner', async (t) => {
  const values = ['plain', 'with,comma', 'with "quote"', 'line\nbreak', 'cr\rlf', '', 'é😀', '""', '"']
  const text = values.map(quoteCsvField).join(',') + '\n'
  t.same(parseCsv(text)[0]!.fields, values)
})

t.test('bytes are quoted as strings are', async (t) => {
  const r = rng(11)
  const alphabet = ['a', ',', '"', '\n', '\r', 'é', '😀', ';', ' ']
  for (let i = 0; i < 500; i++) {
    const v = Array.from({ length: Math.floor(r() * 12) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('')
    const src = Buffer.from('xx' + v + 'yy', 'utf8')
    const n = Buffer.byteLength(v)
    const dst = Buffer.alloc(2 * n + 2 + 3)
    const end = writeQuotedBytes(src, 2, 2 + n, dst, 3)
    t.equal(dst.toString('utf8', 3, end), '"' + v.replaceAll('"', '""') + '"')
    // a byte forces quotes exactly when a character of the string does
    t.equal(
      src.subarray(2, 2 + n).some((b) => forcesQuotes(b)),
      quoteCsvField(v) !== v,
    )
  }
})
