// A compact set of databuilder ids for cross-record checks: each id is kept as a 64-bit
// hash (two 32-bit lanes) in open-addressing typed arrays, with its entity type and the
// line it was first seen on. ~14 bytes per slot at ≤ 0.7 load instead of the ~150 bytes a
// Set<string> entry costs, so 3 million ids fit in ~60 MB.
//
// What a hash collision (two different ids with equal 64-bit hashes) can cause: the second
// id is taken for a duplicate of the first (a false ID_DUPLICATE error), and a reference to
// a missing id whose hash equals a present id's goes unreported (a missed PARENT_MISSING /
// LINEAGE_MISSING). It can never make a valid reference look dangling, nor change output.
// With n ids the chance of any collision is about n²/2⁶⁵: 2.4e-7 for 3 million ids.

/** A 64-bit hash of a string as two unsigned 32-bit lanes. */
export interface Hash64 {
  hi: number
  lo: number
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** An ASCII byte, A-Z as a-z when `fold`. */
function lowerAscii(c: number, fold: boolean): number {
  return fold && c >= 65 && c <= 90 ? c + 32 : c
}

/** One block (two UTF-16 code units as `k`) into lane 1 of {@link hash64}. */
function lane1(h1: number, k: number): number {
  let k1 = Math.imul(k, 0xcc9e2d51)
  k1 = Math.imul((k1 << 15) | (k1 >>> 17), 0x1b873593)
  h1 ^= k1
  h1 = (h1 << 13) | (h1 >>> 19)
  return (Math.imul(h1, 5) + 0xe6546b64) | 0
}

/** One block into lane 2 of {@link hash64}. */
function lane2(h2: number, k: number): number {
  let k2 = Math.imul(k, 0x239b961b)
  k2 = Math.imul((k2 << 16) | (k2 >>> 16), 0xab0e9789)
  h2 ^= k2
  h2 = (h2 << 17) | (h2 >>> 15)
  return (Math.imul(h2, 5) + 0x0bcaa747) | 0
}

/** The last, odd code unit `k` and the length `n` mixed in, then the lanes finalized. */
function finish(h1: number, h2: number, k: number, n: number, out: Hash64): Hash64 {
  if (k !== -1) {
    const k1 = Math.imul(k, 0xcc9e2d51)
    h1 ^= Math.imul((k1 << 15) | (k1 >>> 17), 0x1b873593)
    const k2 = Math.imul(k, 0x239b961b)
    h2 ^= Math.imul((k2 << 16) | (k2 >>> 16), 0xab0e9789)
  }
  h1 ^= n
  h2 ^= n
  h1 = (h1 + h2) | 0
  h2 = (h2 + h1) | 0
  h1 = fmix32(h1)
  h2 = fmix32(h2)
  h1 = (h1 + h2) | 0
  h2 = (h2 + h1) | 0
  out.hi = h1 >>> 0
  out.lo = h2 >>> 0
  // (0,0) marks an empty slot
  if (out.hi === 0 && out.lo === 0) out.lo = 1
  return out
}

const SEED1 = 0x9747b28c
const SEED2 = 0x2f8d6e1b

/**
 * Hash a string to 64 bits: two MurmurHash3-style 32-bit lanes over blocks of two UTF-16
 * code units, with different constants per lane, rotations so high bits reach low ones on
 * every block, and the x86_128 finalization that mixes the lanes. (A plain
 * multiply-xor loop without rotations lets high input bits reach only high hash bits; an
 * earlier version of this function built that way collided within a million dbt column ids.)
 * Writes into `out` to avoid allocation.
 */
export function hash64(s: string, out: Hash64): Hash64 {
  const n = s.length
  let h1 = SEED1
  let h2 = SEED2
  let i = 0
  for (; i + 1 < n; i += 2) {
    const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
    h1 = lane1(h1, k)
    h2 = lane2(h2, k)
  }
  return finish(h1, h2, i < n ? s.charCodeAt(i) : -1, n, out)
}

/**
 * {@link hash64} of many strings that share a prefix (the ids of a table's columns), the
 * prefix hashed once: `hash(suffix)` equals `hash64(prefix + suffix)`. The suffix comes as
 * code units: a string, or bytes that are each one code unit (ASCII), optionally folded to
 * lower case as String#toLowerCase folds ASCII.
 */
export class Hash64Prefix {
  private readonly h1: number
  private readonly h2: number
  /** The prefix's last code unit when its length is odd (it pairs with the suffix's first), else -1. */
  private readonly odd: number
  private readonly length: number

  constructor(prefix: string) {
    // hash64's loop (one shared through a module-level state measured 8-12% slower there)
    const n = prefix.length
    let h1 = SEED1
    let h2 = SEED2
    let i = 0
    for (; i + 1 < n; i += 2) {
      const k = prefix.charCodeAt(i) | (prefix.charCodeAt(i + 1) << 16)
      h1 = lane1(h1, k)
      h2 = lane2(h2, k)
    }
    this.h1 = h1
    this.h2 = h2
    this.odd = i < n ? prefix.charCodeAt(i) : -1
    this.length = n
  }

  /** hash64(prefix + s). */
  hash(s: string, out: Hash64): Hash64 {
    let h1 = this.h1
    let h2 = this.h2
    let held = this.odd
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (held === -1) held = c
      else {
        const k = held | (c << 16)
        h1 = lane1(h1, k)
        h2 = lane2(h2, k)
        held = -1
      }
    }
    return finish(h1, h2, held, this.length + s.length, out)
  }

  /** hash64(prefix + the ASCII bytes b[start, end)), A-Z read as a-z when `fold`. */
  hashAscii(b: Uint8Array, start: number, end: number, fold: boolean, out: Hash64): Hash64 {
    let h1 = this.h1
    let h2 = this.h2
    let i = start
    let held = this.odd
    if (held !== -1 && i < end) {
      const k = held | (lowerAscii(b[i++]!, fold) << 16)
      h1 = lane1(h1, k)
      h2 = lane2(h2, k)
      held = -1
    }
    for (; i + 1 < end; i += 2) {
      const k = lowerAscii(b[i]!, fold) | (lowerAscii(b[i + 1]!, fold) << 16)
      h1 = lane1(h1, k)
      h2 = lane2(h2, k)
    }
    if (i < end) held = lowerAscii(b[i]!, fold)
    return finish(h1, h2, held, this.length + end - start, out)
  }
}

/** Result of a lookup: the slot's stored type and position, or -1 when absent. */
export interface IdEntry {
  type: number
  file: number
  line: number
}

const MAX_LOAD = 0.7
/**
 * Growth factor when the load limit is reached. While growing, the old and the new arrays
 * coexist, so the peak is (1 + GROWTH) × the old size: 2.5× at 1.5 instead of 3× when
 * doubling, and the final table overshoots what it needs by less.
 */
const GROWTH = 1.5
const TWO_32 = 4294967296

/**
 * Open-addressing hash set of 64-bit id hashes with a small payload per entry. The capacity
 * is any size (not a power of two), so a caller that knows about how many ids to expect
 * gets an index of about that size, and growth can be by less than doubling.
 */
export class IdIndex {
  private hi: Uint32Array
  private lo: Uint32Array
  private types: Uint8Array
  private files: Uint8Array
  private lines: Uint32Array
  private cap: number
  private limit: number
  private count = 0

  constructor(initialCapacity = 1 << 16) {
    this.cap = Math.max(16, Math.ceil(initialCapacity))
    this.limit = Math.floor(this.cap * MAX_LOAD)
    this.hi = new Uint32Array(this.cap)
    this.lo = new Uint32Array(this.cap)
    this.types = new Uint8Array(this.cap)
    this.files = new Uint8Array(this.cap)
    this.lines = new Uint32Array(this.cap)
  }

  /** Number of ids held. */
  get size(): number {
    return this.count
  }

  /** Number of slots. */
  get capacity(): number {
    return this.cap
  }

  /** Bytes held by the index's arrays. */
  get byteLength(): number {
    return this.cap * 14
  }

  private slot(hi: number, lo: number): number {
    // multiply-high range reduction: maps the mixed 32 bits onto [0, cap) without a power
    // of two or a division (the guard covers float rounding at the top end)
    const mix = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0
    const cap = this.cap
    let i = Math.floor((mix * cap) / TWO_32)
    if (i >= cap) i = cap - 1
    for (;;) {
      const h = this.hi[i]!
      const l = this.lo[i]!
      if ((h === 0 && l === 0) || (h === hi && l === lo)) return i
      if (++i === cap) i = 0
    }
  }

  /**
   * Add a hash. Returns -1 when it was new, or the slot of the earlier entry (read it
   * with {@link IdIndex.entryAt}) when the hash was already there.
   */
  add(h: Hash64, type: number, file: number, line: number): number {
    const i = this.slot(h.hi, h.lo)
    if (this.hi[i] !== 0 || this.lo[i] !== 0) return i
    this.hi[i] = h.hi
    this.lo[i] = h.lo
    this.types[i] = type
    this.files[i] = file
    this.lines[i] = line
    if (++this.count > this.limit) this.grow()
    return -1
  }

  /** Slot holding the hash, or -1. */
  find(h: Hash64): number {
    const i = this.slot(h.hi, h.lo)
    return this.hi[i] === 0 && this.lo[i] === 0 ? -1 : i
  }

  /** The payload stored at a slot returned by add/find. */
  entryAt(slot: number): IdEntry {
    return { type: this.types[slot]!, file: this.files[slot]!, line: this.lines[slot]! }
  }

  /** Entity type stored at a slot. */
  typeAt(slot: number): number {
    return this.types[slot]!
  }

  private grow(): void {
    const { hi, lo, types, files, lines } = this
    const cap = Math.ceil(this.cap * GROWTH)
    this.cap = cap
    this.limit = Math.floor(cap * MAX_LOAD)
    this.hi = new Uint32Array(cap)
    this.lo = new Uint32Array(cap)
    this.types = new Uint8Array(cap)
    this.files = new Uint8Array(cap)
    this.lines = new Uint32Array(cap)
    for (let j = 0; j < hi.length; j++) {
      if (hi[j] === 0 && lo[j] === 0) continue
      const i = this.slot(hi[j]!, lo[j]!)
      this.hi[i] = hi[j]!
      this.lo[i] = lo[j]!
      this.types[i] = types[j]!
      this.files[i] = files[j]!
      this.lines[i] = lines[j]!
    }
  }
}

/**
 * A growable list of references not yet resolvable (the id they name had not been seen
 * when they were read), kept as hashes plus what is needed to report them: 20 bytes each.
 */
export class PendingRefs {
  private data: Uint32Array = new Uint32Array(5 * 1024)
  private n = 0

  get size(): number {
    return this.n
  }

  /** Remember a reference: hash, allowed-type mask, kind (0 parent, 1 lineage), file, line. */
  push(h: Hash64, typeMask: number, kind: number, file: number, line: number, record: number): void {
    if ((this.n + 1) * 5 > this.data.length) {
      const next = new Uint32Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    const o = this.n * 5
    this.data[o] = h.hi
    this.data[o + 1] = h.lo
    this.data[o + 2] = (typeMask & 0xffff) | (kind << 16) | (file << 24)
    this.data[o + 3] = line
    this.data[o + 4] = record
    this.n++
  }

  /** Visit every reference. */
  forEach(fn: (h: Hash64, typeMask: number, kind: number, file: number, line: number, record: number) => void): void {
    const h: Hash64 = { hi: 0, lo: 0 }
    for (let i = 0; i < this.n; i++) {
      const o = i * 5
      h.hi = this.data[o]!
      h.lo = this.data[o + 1]!
      const packed = this.data[o + 2]!
      fn(h, packed & 0xffff, (packed >>> 16) & 0xff, packed >>> 24, this.data[o + 3]!, this.data[o + 4]!)
    }
  }
}
