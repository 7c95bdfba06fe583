import t from 'tap'
import { CsvScanner, parseCsv, type CsvRow } from '../lib/scan/csv.js'
import { isSecodaError } from '../lib/errors.js'
import { rng } from './helpers.js'

/** Feed `input` in the given chunk sizes (cycled) and collect rows. */
function feed(input: Uint8Array, sizes: number[]): CsvRow[] {
  const s = new CsvScanner()
  const rows: CsvRow[] = []
  let k = 0
  for (let i = 0; i < input.length; ) {
    const n = Math.max(1, sizes[k++ % sizes.length]!)
    rows.push(...s.push(input.subarray(i, i + n)))
    i += n
  }
  rows.push(...s.end())
  return rows
}

const SAMPLE = '\uFEFFa,b,c\r\n1,"two, with comma","three ""quoted"""\r\n"multi\nline\r\nfield",é€😀,\r\n\n"",x,"y"\nlast,row,no newline'

t.test('RFC 4180: quotes, doubled quotes, CRLF, quoted newlines, BOM, empty lines', async (t) => {
  const rows = parseCsv(SAMPLE)
  t.same(
    rows.map((r) => r.fields),
    [
      ['a', 'b', 'c'],
      ['1', 'two, with comma', 'three "quoted"'],
      ['multi\nline\r\nfield', 'é€😀', ''],
      ['', 'x', 'y'],
      ['last', 'row', 'no newline'],
    ],
  )
  // line numbers: quoted newlines count; the empty line 6 is skipped
  t.same(
    rows.map((r) => r.line),
    [1, 2, 3, 7, 8],
  )
})

t.test('chunking invariance: one byte at a time, random chunks, UTF-8 split', async (t) => {
  const bytes = new TextEncoder().encode(SAMPLE)
  const whole = parseCsv(bytes)
  t.same(parseCsv(SAMPLE), whole, 'string and bytes agree (byte BOM stripped too)')
  t.same(feed(bytes, [1]), whole, 'one byte at a time')
  const r = rng(42)
  for (let trial = 0; trial < 200; trial++) {
    const sizes = Array.from({ length: 7 }, () => 1 + Math.floor(r() * 9))
    t.same(feed(bytes, sizes), whole, `chunk sizes ${sizes.join(',')}`)
  }
  // string chunks, split at every position (including between the halves of a CRLF)
  for (let cut = 0; cut <= SAMPLE.length; cut++) {
    const s = new CsvScanner()
    const rows = [...s.push(SAMPLE.slice(0, cut)), ...s.push(SAMPLE.slice(cut)), ...s.end()]
    if (JSON.stringify(rows) !== JSON.stringify(whole)) t.fail(`string cut at ${cut}`)
  }
})

t.test('bare CR line ends, trailing delimiter, other delimiter', async (t) => {
  t.same(
    parseCsv('a,b\rc,\r').map((r) => [r.fields, r.line]),
    [
      [['a', 'b'], 1],
      [['c', ''], 2],
    ],
  )
  t.same(
    parseCsv('a\tb "c"\n', { delimiter: '\t' }).map((r) => r.fields),
    [['a', 'b "c"']],
    'quote inside an unquoted field is kept',
  )
  t.throws(() => new CsvScanner({ delimiter: '"' }), { code: 'USAGE' })
})

t.test('unclosed quote at EOF: CSV_SYNTAX with the line where the field began', async (t) => {
  const input = 'a,b\n1,2\n3,"never\nclosed\n'
  for (const sizes of [[1], [3, 5], [1000]]) {
    try {
      feed(new TextEncoder().encode(input), sizes)
      t.fail('no error')
    } catch (e) {
      t.ok(isSecodaError(e))
      t.match(e, { code: 'CSV_SYNTAX', line: 3 })
      t.match((e as Error).message, /begins on line 3/)
    }
  }
})

t.test('text after a closing quote: CSV_SYNTAX on its line', async (t) => {
  t.throws(() => parseCsv('a\n"x\ny"z,1\n'), { code: 'CSV_SYNTAX', line: 3 })
})

t.test("invalid UTF-8 after a real U+FFFD: the line is the invalid byte's", async (t) => {
  const bad = Buffer.concat([Buffer.from('a,b\nc,\uFFFD\nd,'), Buffer.from([0xff]), Buffer.from('\n')])
  t.throws(() => parseCsv(bad), { code: 'INPUT_UTF8', line: 3 })
})

t.test('invalid UTF-8: INPUT_UTF8 with the line', async (t) => {
  const bad = new Uint8Array([0x61, 0x0a, 0x62, 0xff, 0x0a])
  t.throws(() => parseCsv(bad), { code: 'INPUT_UTF8', line: 2 })
  const s = new CsvScanner()
  s.push(new Uint8Array([0x61, 0xc3]))
  t.throws(() => s.end(), { code: 'INPUT_UTF8' })
})

t.test('maxRowChars bounds an unclosed quote and long rows', async (t) => {
  const s = new CsvScanner({ maxRowChars: 10 })
  t.throws(() => s.push('a\n"' + 'x'.repeat(20)), { code: 'CSV_SYNTAX', line: 2 })
  const s2 = new CsvScanner({ maxRowChars: 10 })
  t.throws(
    () => {
      s2.push('aaaa,bbbb,')
      s2.push('cccc,dddd,')
    },
    { code: 'CSV_SYNTAX', line: 1 },
  )
})

t.test('project: unneeded fields come back empty, chunking-invariant, row length kept', async (t) => {
  const bytes = new TextEncoder().encode('"x,é",yé,"z""é"\n1,2,3\n')
  for (const size of [1, 2, 5, 100]) {
    const s = new CsvScanner()
    const rows: CsvRow[] = s.push(new TextEncoder().encode('a,b,c\n'))
    s.project([true, false, true])
    for (let i = 0; i < bytes.length; i += size) rows.push(...s.push(bytes.subarray(i, i + size)))
    rows.push(...s.end())
    t.same(
      rows.map((r) => r.fields),
      [
        ['a', 'b', 'c'],
        ['x,é', '', 'z"é'],
        ['1', '', '3'],
      ],
      `chunks of ${size}`,
    )
  }
})

/**
 * A plain character-at-a-time reading of the same dialect (RFC 4180 plus LF / bare CR line
 * ends, empty lines skipped, a quote inside an unquoted field kept), for the randomized test.
 */
function reference(text: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = []
  let line = 1
  let i = 0
  const n = text.length
  while (i < n) {
    const c0 = text[i]
    if (c0 === '\n') {
      line++
      i++
      continue
    }
    if (c0 === '\r') {
      line++
      i++
      if (text[i] === '\n') i++
      continue
    }
    const start = line
    const fields: string[] = []
    for (;;) {
      let v = ''
      if (text[i] === '"') {
        i++
        for (;;) {
          const c = text[i]!
          if (c === '"' && text[i + 1] === '"') {
            v += '"'
            i += 2
            continue
          }
          if (c === '"') {
            i++
            break
          }
          if (c === '\n') line++
          v += c
          i++
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') v += text[i++]
      }
      fields.push(v)
      if (i < n && text[i] === ',') {
        i++
        continue
      }
      if (i < n) {
        line++
        i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1
      }
      break
    }
    rows.push({ fields, line: start })
  }
  return rows
}

t.test('randomized: whole, byte at a time and random chunks agree with a plain reading', async (t) => {
  const r = rng(7)
  const pieces = ['a', 'bc', 'é', '€', '😀', ' ', 'x"y', 'select,insert', 'l1\nl2', 'cr\rlf\r\n', '"q"', '']
  const ends = ['\n', '\r\n', '\r', '\n\n']
  for (let trial = 0; trial < 300; trial++) {
    const rows: string[] = []
    const nrows = 1 + Math.floor(r() * 6)
    for (let k = 0; k < nrows; k++) {
      const nf = 1 + Math.floor(r() * 5)
      const fs: string[] = []
      for (let f = 0; f < nf; f++) {
        let v = ''
        for (let p = Math.floor(r() * 3); p > 0; p--) v += pieces[Math.floor(r() * pieces.length)]
        // quote when needed, and sometimes when not
        fs.push(/[",\r\n]/.test(v) || r() < 0.2 ? '"' + v.replaceAll('"', '""') + '"' : v)
      }
      // a row that is one empty field would read as an empty line: give it a second field
      rows.push((fs.length === 1 && fs[0] === '' ? ',' : fs.join(',')) + ends[Math.floor(r() * ends.length)])
    }
    const text = rows.join('').replace(/[\r\n]+$/, r() < 0.5 ? '' : '\n')
    const want = reference(text)
    const bytes = new TextEncoder().encode(text)
    const got = parseCsv(bytes)
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `whole, trial ${trial}: ${JSON.stringify(text)}`)
      return
    }
    const sizes = Array.from({ length: 5 }, () => 1 + Math.floor(r() * 7))
    const chunked = feed(bytes, sizes)
    if (JSON.stringify(chunked) !== JSON.stringify(want)) {
      t.same(chunked, want, `chunks ${sizes}, trial ${trial}: ${JSON.stringify(text)}`)
      return
    }
    const single = feed(bytes, [1])
    if (JSON.stringify(single) !== JSON.stringify(want)) {
      t.same(single, want, `bytes, trial ${trial}: ${JSON.stringify(text)}`)
      return
    }
  }
  t.pass('300 random inputs read alike whole, in random chunks and byte by byte')
})

t.test('fast path and general path report the same errors', async (t) => {
  // text after a closing quote, found by the fast path (whole row in one window) and by the
  // state machine (row split across chunks)
  const input = 'a,b\n"x"y,1\n'
  t.throws(() => parseCsv(input), { code: 'CSV_SYNTAX', line: 2 })
  t.throws(() => feed(new TextEncoder().encode(input), [1]), { code: 'CSV_SYNTAX', line: 2 })
  t.same(
    parseCsv('"a\n""b"""\r\nc\rd\n').map((x) => [x.fields, x.line]),
    [
      [['a\n"b"'], 1],
      [['c'], 3],
      [['d'], 4],
    ],
  )
})
