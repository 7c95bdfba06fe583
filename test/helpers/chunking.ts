// Feed bytes to a push/end core in different chunkings (one byte at a time, random sizes)
// so tests can require identical output whatever the chunk boundaries.

import { rng } from '../helpers.js'

/** Anything with push(chunk) → T[] and end() → T[]. */
export interface PushCore<T> {
  push(chunk: Buffer): T[]
  end(): T[]
}

/** Split `buf` into chunks: 'one' = single bytes, a number = random sizes 1..n from that seed. */
export function chunks(buf: Buffer, how: 'one' | 'whole' | { seed: number; max: number }): Buffer[] {
  if (how === 'whole') return [buf]
  const out: Buffer[] = []
  if (how === 'one') {
    for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1))
    return out
  }
  const r = rng(how.seed)
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(r() * how.max)
    out.push(buf.subarray(i, i + n))
    i += n
  }
  return out
}

/** Run a fresh core over `buf` in the given chunking. */
export function feed<T>(make: () => PushCore<T>, buf: Buffer, how: Parameters<typeof chunks>[1]): T[] {
  const core = make()
  const out: T[] = []
  for (const c of chunks(buf, how)) out.push(...core.push(Buffer.from(c)))
  out.push(...core.end())
  return out
}

/** The chunkings every byte-level test uses. */
export const CHUNKINGS: Parameters<typeof chunks>[1][] = [
  'whole',
  'one',
  { seed: 1, max: 3 },
  { seed: 2, max: 17 },
  { seed: 3, max: 200 },
  { seed: 4, max: 4096 },
]
