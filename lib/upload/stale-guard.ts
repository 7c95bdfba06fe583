// The stale guard: remembers which databuilder_ids the last successful upload to an
// integration carried (as sorted 64-bit hashes in a small binary file), and refuses an
// upload that would archive more than a set share of them. A Secoda sync replaces the
// integration's catalog, so a truncated or filtered input would silently hide good data.

import { createHash } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { homedir, endianness } from 'node:os'
import path from 'node:path'
import { SecodaError } from '../errors.js'
import { hash64, type Hash64 } from '../id-index.js'

/** Magic bytes at the start of a state file (format version 1). */
const MAGIC = Buffer.from('SCIDSv1\n', 'latin1')
const LE = endianness() === 'LE'

/**
 * Collects id hashes (the validator's 64-bit {@link hash64}) in a growable typed array:
 * 8 bytes per id, no strings kept. A collision (about n²/2⁶⁵) could only make the guard
 * count one missing id as kept.
 */
export class IdHashSet {
  #words = new Uint32Array(2048)
  #n = 0
  readonly #h: Hash64 = { hi: 0, lo: 0 }

  /** Number of ids added (duplicates included). */
  get size(): number {
    return this.#n
  }

  add(id: string): void {
    if ((this.#n + 1) * 2 > this.#words.length) {
      const bigger = new Uint32Array(this.#words.length * 2)
      bigger.set(this.#words)
      this.#words = bigger
    }
    const { lo, hi } = hash64(id, this.#h)
    const i = this.#n++ * 2
    // Word order chosen so the BigUint64Array view reads hi:lo on a little-endian host.
    if (LE) {
      this.#words[i] = lo
      this.#words[i + 1] = hi
    } else {
      this.#words[i] = hi
      this.#words[i + 1] = lo
    }
  }

  /** The hashes, sorted ascending, duplicates removed (sorted in place: no second copy). */
  sorted(): BigUint64Array {
    const all = new BigUint64Array(this.#words.buffer, 0, this.#n).sort()
    return dedupeSorted(all)
  }
}

function dedupeSorted(a: BigUint64Array): BigUint64Array {
  let w = 0
  for (let r = 0; r < a.length; r++) if (r === 0 || a[r] !== a[w - 1]) a[w++] = a[r]!
  return a.subarray(0, w)
}

/** What an upload adds, keeps and would archive compared with the previous one. */
export interface StaleCounts {
  /** Ids in this upload that the previous one did not have. */
  added: number
  /** Ids in both. */
  kept: number
  /** Ids of the previous upload missing from this one (Secoda would archive them). */
  archived: number
  /** Ids the previous upload carried (0 when there is no state: first upload). */
  previous: number
}

/** Count added / kept / archived between two sorted hash arrays. */
export function compareSorted(prev: BigUint64Array, cur: BigUint64Array): StaleCounts {
  let i = 0
  let j = 0
  let kept = 0
  while (i < prev.length && j < cur.length) {
    if (prev[i]! === cur[j]!) {
      kept++
      i++
      j++
    } else if (prev[i]! < cur[j]!) i++
    else j++
  }
  return { added: cur.length - kept, kept, archived: prev.length - kept, previous: prev.length }
}

/** The default state directory: `$XDG_CACHE_HOME/secoda-convert` or `~/.cache/secoda-convert`. */
export function defaultStateDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache')
  return path.join(base, 'secoda-convert')
}

/** Options of a {@link StaleGuard}. */
export interface StaleGuardOptions {
  /** API base URL (part of the state key: the same integration id on two servers is two integrations). */
  baseUrl: string
  integrationId: string
  /** Default {@link defaultStateDir}. */
  stateDir?: string
  /** Largest share (0..1) of previously uploaded ids that may go missing. Default 0.1. */
  maxStale?: number
  /** Report but do not refuse. Default false. */
  allowStale?: boolean
}

/**
 * Per-upload stale check. Feed every uploaded resource id to {@link add}; call {@link check}
 * before the request's closing boundary (it throws UPLOAD_STALE to abort), and
 * {@link commit} after the server accepted the upload.
 */
export class StaleGuard {
  readonly file: string
  readonly options: Readonly<Required<StaleGuardOptions>>
  readonly ids = new IdHashSet()
  #current: BigUint64Array | undefined
  #counts: StaleCounts | undefined

  constructor(options: StaleGuardOptions) {
    const maxStale = options.maxStale ?? 0.1
    if (!(maxStale >= 0 && maxStale <= 1))
      throw new SecodaError('USAGE', `--max-stale must be between 0 and 1 (or 0% and 100%): got ${options.maxStale}`)
    this.options = Object.freeze({
      stateDir: options.stateDir ?? defaultStateDir(),
      maxStale,
      allowStale: options.allowStale ?? false,
      baseUrl: options.baseUrl,
      integrationId: options.integrationId,
    })
    // Hash the key so the file name carries no URL (which could hold a tenant name) and is filesystem-safe.
    const key = createHash('sha256').update(`${options.baseUrl}\n${options.integrationId}`).digest('hex').slice(0, 32)
    this.file = path.join(this.options.stateDir, `${key}.ids`)
  }

  /** Add one uploaded id. */
  add(id: string): void {
    this.ids.add(id)
  }

  /** Counts from the last {@link check}. */
  get counts(): StaleCounts | undefined {
    return this.#counts
  }

  /** The previous upload's hashes (empty when there is none). */
  loadPrevious(): BigUint64Array {
    let buf: Buffer
    try {
      buf = readFileSync(this.file)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new BigUint64Array(0)
      throw new SecodaError(
        'UPLOAD_STATE',
        `cannot read stale-guard state ${this.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { file: this.file },
      )
    }
    if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC) || (buf.length - MAGIC.length) % 8 !== 0) {
      throw new SecodaError('UPLOAD_STATE', `stale-guard state ${this.file} is not a secoda-convert state file (delete it to start over)`, {
        file: this.file,
      })
    }
    // A large file is read into its own ArrayBuffer, so the hashes after the 8-byte magic
    // are 8-aligned and can be viewed in place; copy only when they are not (small pooled buffers).
    const body = (buf.byteOffset + MAGIC.length) % 8 === 0 ? buf.subarray(MAGIC.length) : Buffer.from(buf.subarray(MAGIC.length))
    if (!LE) body.swap64()
    return new BigUint64Array(body.buffer, body.byteOffset, body.length / 8)
  }

  /**
   * Compare this upload with the previous one. Throws UPLOAD_STALE when more than
   * maxStale of the previous ids are missing, unless allowStale.
   */
  check(): StaleCounts {
    this.#current = this.ids.sorted()
    const counts = compareSorted(this.loadPrevious(), this.#current)
    this.#counts = counts
    if (counts.previous > 0 && counts.archived / counts.previous > this.options.maxStale && !this.options.allowStale) {
      const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`
      throw new SecodaError(
        'UPLOAD_STALE',
        `this upload would archive ${counts.archived} of the ${counts.previous} resources the previous upload sent (${pct(counts.archived / counts.previous)}, more than --max-stale ${pct(this.options.maxStale)}); nothing was synced. If the removals are intended, rerun with --allow-stale`,
      )
    }
    return counts
  }

  /** Store this upload's ids as the new state (atomically: temp file + rename). */
  commit(): void {
    const cur = this.#current ?? this.ids.sorted()
    const body = Buffer.from(cur.buffer, cur.byteOffset, cur.byteLength) // a view, not a copy
    if (!LE) body.swap64()
    // an unpredictable name, created exclusively and never through a symlink planted there
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`
    try {
      mkdirSync(this.options.stateDir, { recursive: true, mode: 0o700 })
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600)
      try {
        writeSync(fd, MAGIC)
        for (let off = 0; off < body.length; ) off += writeSync(fd, body, off)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, this.file)
    } catch (e) {
      try {
        rmSync(tmp, { force: true })
      } catch {
        /* the directory itself is the problem */
      }
      throw new SecodaError(
        'UPLOAD_STATE',
        `cannot write stale-guard state ${this.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { file: this.file },
      )
    }
  }
}
