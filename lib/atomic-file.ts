// Output files are written under a temporary name beside the target and renamed over it
// only when the whole run succeeded: a failed or interrupted run never leaves a truncated
// file that looks complete (nor clobbers the previous good output).

import { open, rename, rm, mkdir, type FileHandle } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { SecodaError } from './errors.js'

/** The temporary name used while `target` is written. */
export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

function writeError(err: unknown, target: string): SecodaError {
  if (err instanceof SecodaError) return err
  return new SecodaError('OUTPUT_WRITE', `cannot write ${target}: ${(err as Error).message}`, { file: target, cause: err })
}

/**
 * A Writable of bytes/strings into `target`, atomically: data goes to a temporary file;
 * `end()` (after all data) renames it into place; an error or destroy() removes it.
 */
export function createAtomicWriteStream(target: string): Writable & { readonly target: string } {
  const temp = tempNameFor(target)
  let fh: FileHandle | undefined
  const w = new Writable({
    highWaterMark: 256 * 1024,
    construct(cb) {
      mkdir(dirname(target), { recursive: true })
        .then(() => open(temp, 'wx'))
        .then(
          (h) => {
            fh = h
            cb()
          },
          (err) => cb(writeError(err, target)),
        )
    },
    write(chunk: Buffer, _enc, cb) {
      fh!.write(chunk).then(
        () => cb(),
        (err) => cb(writeError(err, target)),
      )
    },
    writev(chunks, cb) {
      fh!.writev(chunks.map((c) => c.chunk as Buffer)).then(
        () => cb(),
        (err) => cb(writeError(err, target)),
      )
    },
    final(cb) {
      const h = fh!
      fh = undefined
      h.close()
        .then(() => rename(temp, target))
        .then(
          () => cb(),
          (err) => cb(writeError(err, target)),
        )
    },
    destroy(err, cb) {
      const h = fh
      fh = undefined
      const closed = h === undefined ? Promise.resolve() : h.close().catch(() => undefined)
      // remove the temp file unless final() already renamed it
      closed
        .then(() => (w.writableFinished ? undefined : rm(temp, { force: true })))
        .then(
          () => cb(err),
          () => cb(err),
        )
    },
  }) as Writable & { target: string }
  Object.defineProperty(w, 'target', { value: target })
  return w
}
