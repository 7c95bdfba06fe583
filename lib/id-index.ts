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

/**
 * Hash a string to 64 bits (two multiply-xorshift lanes over pairs of UTF-16 code units, in
 * the style of cyrb53 but keeping both 32-bit lanes; the length is mixed in first). Writes into `out` to avoid allocation.
 */
export function hash64(s: string, out: Hash64): Hash64 {
  let h1 = 0xdeadbeef ^ s.length
  let h2 = 0x41c6ce57 ^ s.length
  const n = s.length
  let i = 0
  // two UTF-16 units per step: half the multiplies of a unit-at-a-time loop
  for (; i + 1 < n; i += 2) {
    const c = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  if (i < n) {
    const c = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  out.hi = h1 >>> 0
  out.lo = h2 >>> 0
  // (0,0) marks an empty slot
  if (out.hi === 0 && out.lo === 0) out.lo = 1
  return out
}

/** Result of a lookup: the slot's stored type and position, or -1 when absent. */
export interface IdEntry {
  type: number
  file: number
  line: number
}

const MAX_LOAD = 0.7

/** Open-addressing hash set of 64-bit id hashes with a small payload per entry. */
export class IdIndex {
  private hi: Uint32Array
  private lo: Uint32Array
  private types: Uint8Array
  private files: Uint8Array
  private lines: Uint32Array
  private mask: number
  private count = 0

  constructor(initialCapacity = 1 << 16) {
    let cap = 1 << 4
    while (cap < initialCapacity) cap <<= 1
    this.mask = cap - 1
    this.hi = new Uint32Array(cap)
    this.lo = new Uint32Array(cap)
    this.types = new Uint8Array(cap)
    this.files = new Uint8Array(cap)
    this.lines = new Uint32Array(cap)
  }

  /** Number of ids held. */
  get size(): number {
    return this.count
  }

  /** Bytes held by the index's arrays. */
  get byteLength(): number {
    return (this.mask + 1) * 14
  }

  private slot(hi: number, lo: number): number {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask
    for (;;) {
      const h = this.hi[i]!
      const l = this.lo[i]!
      if ((h === 0 && l === 0) || (h === hi && l === lo)) return i
      i = (i + 1) & this.mask
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
    if (++this.count > (this.mask + 1) * MAX_LOAD) this.grow()
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
    const cap = (this.mask + 1) * 2
    this.mask = cap - 1
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
