import t from 'tap'
import { isUtf8 } from 'node:buffer'
import { firstInvalidUtf8 } from '../lib/utf8.js'
import { rng } from './helpers.js'

t.test('firstInvalidUtf8: offset of the first byte that does not start a valid character, -1 when none', async (t) => {
  t.equal(firstInvalidUtf8(Buffer.from('fine é€😀')), -1)
  t.equal(firstInvalidUtf8(Buffer.alloc(0)), -1)
  t.equal(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82, 0xac, 0xff])), 4)
  t.equal(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82])), 1, 'a character cut off by the end')
  t.equal(firstInvalidUtf8(Buffer.from([0xc0, 0x80])), 0, 'overlong')
  t.equal(firstInvalidUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80])), 1, 'a surrogate')
  t.equal(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0, 'above U+10FFFF')
  // a real U+FFFD is valid text: the invalid byte after it is the answer
  t.equal(firstInvalidUtf8(Buffer.concat([Buffer.from('\uFFFD\n'), Buffer.from([0xfe])])), 4)
})

t.test('firstInvalidUtf8 agrees with isUtf8 on random bytes', async (t) => {
  const r = rng(5)
  const pieces = [
    [0x61],
    [0x0a],
    [0xc3, 0xa9],
    [0xe2, 0x82, 0xac],
    [0xf0, 0x9f, 0x98, 0x80],
    [0xef, 0xbf, 0xbd],
    [0xff],
    [0x80],
    [0xe2, 0x82],
    [0xed, 0xa0, 0x80],
  ]
  let invalid = 0
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(Array.from({ length: Math.floor(r() * 10) }, () => pieces[Math.floor(r() * pieces.length)]!).flat())
    const k = firstInvalidUtf8(buf)
    if (k === -1) {
      t.ok(isUtf8(buf))
      continue
    }
    invalid++
    t.ok(!isUtf8(buf) && isUtf8(buf.subarray(0, k)), `prefix before ${k} is valid`)
    // no valid character starts at k
    t.ok(buf[k]! >= 0x80, 'not an ASCII byte')
    for (let w = 1; w <= 4; w++) if (k + w <= buf.length) t.notOk(isUtf8(buf.subarray(k, k + w)), `no character of ${w} bytes at ${k}`)
  }
  t.ok(invalid > 500)
})
