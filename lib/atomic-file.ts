// Output files are written under a temporary name beside the target and renamed over it
// only when the whole run succeeded: a failed or interrupted run never leaves a truncated
// file that looks complete (nor clobbers the previous good output). A target that is not a
// regular file (a FIFO, a socket, a character device such as /dev/stdout or /dev/null) is
// written to as a stream instead: renaming over it would replace the node itself.

import { constants, type Stats, createWriteStream } from 'node:fs'
import { type FileHandle, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { SecodaError } from './errors.js'

/** The temporary name used while `target` is written: unpredictable, in the target's directory. */
export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`)
}

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large (a file size limit, ulimit -f)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of a directory',
  EEXIST: 'a file is in the way',
  EIO: 'I/O error',
}

function writeError(err: unknown, target: string): SecodaError {
  if (err instanceof SecodaError) return err
  const code = (err as NodeJS.ErrnoException).code
  const why = code !== undefined && WHY[code] !== undefined ? `${WHY[code]} (${code})` : (err as Error).message
  return new SecodaError('OUTPUT_WRITE', `cannot write ${target}: ${why}`, { file: target, cause: err })
}

/**
 * Write all of `buf`: a write can take fewer bytes than asked (a file size limit, a full disk
 * part-way), and FileHandle.write reports that as success; the write after it fails.
 */
async function writeFully(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off)
    if (bytesWritten === 0) throw Object.assign(new Error('nothing written'), { code: 'EIO' })
    off += bytesWritten
  }
}

/** Open flags of temporary files: created, never an existing file or a symlink planted under the name. */
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

/**
 * Where to write `target`: a symlink is followed (the link stays and names the new file);
 * `stream` when the final node exists and is not a regular file.
 */
async function resolveTarget(target: string): Promise<{ path: string; stream: boolean; fd?: number }> {
  // the process's own descriptors: opening /proc/self/fd/N again fails for a socket (ENXIO)
  const own = /^\/(?:dev\/(?:fd\/(\d+)|(stdout)|(stderr))|proc\/self\/fd\/(\d+))$/.exec(target)
  if (own) return { path: target, stream: true, fd: own[2] ? 1 : own[3] ? 2 : Number(own[1] ?? own[4]) }
  let s: Stats | undefined
  try {
    s = await stat(target)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { path: target, stream: false }
    throw err
  }
  if (s.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
  if (!s.isFile()) return { path: target, stream: true }
  return { path: await realpath(target), stream: false }
}

/**
 * A Writable of bytes/strings into `target`, atomically: data goes to a temporary file
 * (created exclusively, mode 0666 less the umask); `end()` (after all data) syncs, closes and
 * renames it into place; an error or destroy() removes it. Every failure is OUTPUT_WRITE.
 * A target that exists and is not a regular file is written as a stream, never replaced.
 */
export function createAtomicWriteStream(target: string, options: { mode?: number } = {}): Writable & { readonly target: string } {
  let temp: string | undefined
  let final = target
  let fh: FileHandle | undefined
  let direct: Writable | undefined
  let renamed = false
  const w = new Writable({
    highWaterMark: 256 * 1024,
    construct(cb) {
      mkdir(dirname(target), { recursive: true })
        .then(() => resolveTarget(target))
        .then(async (t) => {
          if (t.stream) {
            if (t.fd !== undefined) direct = createWriteStream('', { fd: t.fd, autoClose: false })
            else {
              direct = createWriteStream(t.path, { flags: 'w' })
              await new Promise<void>((resolve, reject) => {
                direct!.once('open', () => resolve())
                direct!.once('error', reject)
              })
            }
            direct.on('error', (err) => w.destroy(writeError(err, target)))
            return
          }
          final = t.path
          temp = tempNameFor(final)
          fh = await open(temp, EXCLUSIVE, options.mode ?? 0o666)
        })
        .then(
          () => cb(),
          (err) => cb(writeError(err, target)),
        )
    },
    write(chunk: Buffer, _enc, cb) {
      if (direct !== undefined) {
        direct.write(chunk, (err) => cb(err ? writeError(err, target) : null))
        return
      }
      writeFully(fh!, chunk).then(
        () => cb(),
        (err) => cb(writeError(err, target)),
      )
    },
    writev(chunks, cb) {
      if (direct !== undefined) {
        for (let i = 0; i < chunks.length - 1; i++) direct.write(chunks[i]!.chunk)
        direct.write(chunks[chunks.length - 1]!.chunk, (err) => cb(err ? writeError(err, target) : null))
        return
      }
      writeFully(fh!, Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(
        () => cb(),
        (err) => cb(writeError(err, target)),
      )
    },
    final(cb) {
      if (direct !== undefined) {
        direct.end((err?: Error | null) => cb(err ? writeError(err, target) : null))
        return
      }
      const h = fh!
      fh = undefined
      // a full disk can surface only at sync or close: neither may be ignored
      h.sync()
        .then(
          () => h.close(),
          (err) => h.close().then(() => Promise.reject(err)),
        )
        .then(() => rename(temp!, final))
        .then(
          () => {
            renamed = true
            cb()
          },
          (err) => cb(writeError(err, target)),
        )
    },
    destroy(err, cb) {
      if (direct !== undefined) {
        if (!direct.destroyed) direct.destroy()
        return cb(err)
      }
      const h = fh
      fh = undefined
      const closed = h === undefined ? Promise.resolve() : h.close().catch(() => undefined)
      // remove the temp file unless final() already renamed it
      closed
        .then(() => (renamed || temp === undefined ? undefined : rm(temp, { force: true })))
        .then(
          () => cb(err),
          () => cb(err),
        )
    },
  }) as Writable & { target: string }
  Object.defineProperty(w, 'target', { value: target })
  return w
}
