import t from 'tap'
import { readFileSync } from 'node:fs'
import { isSecodaError, type SecodaError } from '../lib/errors.js'
import {
  JsonSectionScanner,
  findJsonError,
  jsonErrorPosition,
  type EntryFields,
  type JsonSectionHandler,
  type SectionMode,
} from '../lib/scan/json-sections.js'
import { chunkings, fixture } from './helpers.js'

type Event = (string | number | unknown)[]

/** Run the scanner over chunks and log everything it reports. */
function scan(chunks: Uint8Array[], modes: Record<string, SectionMode>, fields?: EntryFields): Event[] {
  const log: Event[] = []
  const handler: JsonSectionHandler = {
    section: (name, pos) => {
      log.push(['section', name, pos.offset, pos.line])
      return modes[name] ?? 'skip'
    },
    value: (name, text, pos) => log.push(['value', name, JSON.parse(text), pos.offset, pos.line]),
    wantEntry: (_section, key) => !key.startsWith('skip'),
    entry: (section, key, text, pos, lazy) => log.push(['entry', section, key, JSON.parse(text), pos.offset, pos.line, lazy.get('sql')]),
    sectionEnd: (name, n) => log.push(['end', name, n]),
    ...(fields !== undefined ? { fields: () => fields } : {}),
  }
  const s = new JsonSectionScanner(handler, { file: 'm.json', what: 'test document' })
  for (const c of chunks) s.push(c)
  s.end()
  return log
}

function scanError(text: string | Buffer, chunks?: number): SecodaError {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text)
  try {
    const parts: Buffer[] = []
    const step = chunks ?? buf.length
    for (let i = 0; i < buf.length; i += Math.max(1, step)) parts.push(buf.subarray(i, i + Math.max(1, step)))
    scan(parts, { a: 'entries', m: 'whole' })
  } catch (e) {
    if (isSecodaError(e)) return e
    throw e
  }
  throw new Error('no error')
}

const DOC = Buffer.from(
  [
    '\ufeff{',
    '  "m": {"v": "x\\"y", "n": [1, 2, {"deep": "}]"}]},',
    '  "a": {"k1": {"name": "naïve — 日本 🎉", "sql": "select \\"a\\" from b\\\\", "big": {"x": [1, {"y": "\\\\\\""}]}},',
    '        "skip.me": {"z": "{{{"}, "k2": [1, "2", null], "k3": 3.5e2, "k4": "plain", "k5": true},',
    '  "arr": [{"a": 1}, "two", 3, [4]],',
    '  "s": null,',
    '  "e\\u0041": {"\\"q": 1}',
    '}',
  ].join('\n'),
)

t.test('sections, entries, counts and positions are reported', async (t) => {
  const log = scan([DOC], { m: 'whole', a: 'entries', eA: 'entries' })
  t.same(
    log.filter((e) => e[0] === 'section').map((e) => e[1]),
    ['m', 'a', 'arr', 's', 'eA'],
    'keys decoded, escapes included',
  )
  t.same(
    log.find((e) => e[0] === 'value'),
    ['value', 'm', { v: 'x"y', n: [1, 2, { deep: '}]' }] }, DOC.indexOf('{"v"'), 2],
  )
  const entries = log.filter((e) => e[0] === 'entry')
  t.same(
    entries.map((e) => e[2]),
    ['k1', 'k2', 'k3', 'k4', 'k5', '"q'],
  )
  t.same(entries[0]![3], { name: 'naïve — 日本 🎉', sql: 'select "a" from b\\', big: { x: [1, { y: '\\"' }] } })
  t.same(
    entries.slice(1, 5).map((e) => e[3]),
    [[1, '2', null], 350, 'plain', true],
    'scalars and arrays as entries',
  )
  t.same(entries[0]!.slice(4, 6), [DOC.indexOf('{"name"'), 3], 'entry byte offset and line')
  t.same(
    log.filter((e) => e[0] === 'end'),
    [
      ['end', 'm', 2],
      ['end', 'a', 6],
      ['end', 'arr', 4],
      ['end', 'eA', 1],
    ],
    'entries counted, wanted or not',
  )
})

t.test('output does not depend on chunking (one byte at a time, random chunks, UTF-8 split)', async (t) => {
  const whole = scan([DOC], { m: 'whole', a: 'entries', arr: 'entries' })
  for (const [name, chunks] of chunkings(DOC, 8)) t.same(scan(chunks, { m: 'whole', a: 'entries', arr: 'entries' }), whole, name)
})

t.test('fields: dropped and lazy members leave valid JSON, whatever their place', async (t) => {
  const doc = Buffer.from(
    '{"a": {"x": {"drop1": 1, "keep": {"d": "drop1"}, "sql": "s,q\\"l", "drop2": [1, {"a": 2}]},\n "y": {"sql": "only"}, "z": {"keep": 1, "drop1": 2},\n "w": {"drop1": 1, "drop2": 2}, "v": {}, "u": [1]}}',
  )
  const fields: EntryFields = { drop: new Set(['drop1', 'drop2']), lazy: new Set(['sql']) }
  const expect = [
    ['x', { keep: { d: 'drop1' } }, 's,q"l'],
    ['y', {}, 'only'],
    ['z', { keep: 1 }, undefined],
    ['w', {}, undefined],
    ['v', {}, undefined],
    ['u', [1], undefined],
  ]
  for (const [name, chunks] of chunkings(doc, 8)) {
    const got = scan(chunks, { a: 'entries' }, fields)
      .filter((e) => e[0] === 'entry')
      .map((e) => [e[2], e[3], e[6]])
    t.same(got, expect, name)
  }
})

t.test('fields filtering matches a full parse on a real manifest (every chunking)', async (t) => {
  const buf = readFileSync(fixture('dbt', 'v1-snowflake-catalog', 'manifest.json'))
  const fields: EntryFields = { drop: new Set(['config', 'fqn', 'columns']), lazy: new Set(['raw_sql', 'compiled_sql']) }
  const full = JSON.parse(buf.toString('utf8')) as { nodes: Record<string, Record<string, unknown>> }
  const expected = Object.entries(full.nodes).map(([k, n]) => {
    const o = Object.fromEntries(Object.entries(n).filter(([f]) => !fields.drop.has(f) && !fields.lazy.has(f)))
    return [k, o, n['raw_sql'], n['compiled_sql']]
  })
  for (const [name, chunks] of chunkings(buf, 3)) {
    const got: unknown[] = []
    const s = new JsonSectionScanner({
      section: (n) => (n === 'nodes' ? 'entries' : 'skip'),
      wantEntry: () => true,
      fields: () => fields,
      entry: (_s, k, text, _p, lazy) => got.push([k, JSON.parse(text), lazy.get('raw_sql'), lazy.get('compiled_sql')]),
    })
    for (const c of chunks) s.push(c)
    s.end()
    t.same(got, expected, name)
  }
})

t.test('structural errors: DBT_JSON with byte offset and line, for every chunking', async (t) => {
  const cases: [string, string, number, number, RegExp][] = [
    ['truncated in a string', '{"a": {"k": "abc', 16, 1, /inside a string.*truncated/],
    ['truncated between tokens', '{"a": {"k": [1,\n2', 17, 2, /2 unclosed brackets|3 unclosed/],
    ['mismatched bracket', '{"a": {"k": [1}\n}', 14, 1, /unexpected '\}', expected '\]'/],
    ['garbage after the document', '{"a": {}}\n\nx', 11, 3, /after the end/],
    ['missing value', '{"a": }', 6, 1, /expected a value/],
    ['missing comma between sections', '{"a": {} "b": 1}', 9, 1, /unexpected '"'/],
    ['non-key at the top level', '{1: 2}', 1, 1, /expected a key/],
  ]
  for (const [name, text, offset, line, msg] of cases) {
    for (const step of [undefined, 1, 3]) {
      const e = scanError(text, step)
      t.equal(e.code, 'DBT_JSON', `${name} (chunk ${step ?? 'whole'})`)
      t.equal(e.offset, offset, `${name}: offset`)
      t.equal(e.line, line, `${name}: line`)
      t.equal(e.file, 'm.json')
      t.match(e.message, msg, name)
    }
  }
})

t.test('a document that is not an object: DBT_WRONG_ARTIFACT', async (t) => {
  for (const text of ['[{"a": 1}]', '"text"', '42', '']) {
    const e = scanError(text)
    t.equal(e.code, text === '"text"' ? 'DBT_JSON' : 'DBT_WRONG_ARTIFACT', JSON.stringify(text))
    t.equal(e.line, 1)
  }
})

t.test('jsonErrorPosition maps a JSON.parse error inside an entry to bytes and lines', async (t) => {
  const text = '{\n  "é": 1,\n  "b": nope\n}'
  let err: unknown
  try {
    JSON.parse(text)
  } catch (e) {
    err = e
  }
  const p = jsonErrorPosition(text, err, { offset: 100, line: 10 })
  t.equal(p.line, 12)
  t.equal(p.offset, 100 + Buffer.byteLength(text.slice(0, text.indexOf('nope'))))
  t.same(jsonErrorPosition('{"a": ', new SyntaxError('Unexpected end of JSON input'), { offset: 0, line: 1 }), { offset: 6, line: 1 })
})

t.test('findJsonError finds the first syntax error, JSON.parse agreeing that there is one', async (t) => {
  const cases: [string, number][] = [
    ['{"a": "\\x"}', 8],
    ['{"a" 1}', 5],
    ['[1,]', 3],
    ['{"a": tru}', 6],
    ['"abc', 4],
    ['{"a": "\\u12G4"}', 7],
    ['{}x', 2],
    ['{"a": [1, 2 3]}', 12],
    ['{"a": "tab\there"}', 10],
    ['{"a": -}', 6],
    ['{"a": 01}', 7],
  ]
  for (const [text, at] of cases) {
    t.throws(() => JSON.parse(text), SyntaxError, text)
    t.equal(findJsonError(text), at, text)
  }
  const valid = '{"a": [1, {"b": null}], "c": "\\u00e9\\n", "d": -1.5e3, "e": true}'
  t.doesNotThrow(() => JSON.parse(valid))
  t.equal(findJsonError(valid), valid.length, 'valid JSON: its length')
})
