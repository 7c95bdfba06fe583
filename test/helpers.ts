// Shared test helpers: chunkings for invariance tests, stream collection, in-process CLI runs.

import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PassThrough, Readable, Writable } from 'node:stream'
import { main } from '../lib/cli/main.js'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const fixture = (...p: string[]): string => join(root, 'fixtures', ...p)

/** A deterministic PRNG (mulberry32) so random chunkings are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Ways to cut `buf` into chunks: whole, one byte at a time, and several random cuttings. */
export function chunkings(buf: Buffer, randomRuns = 5): [string, Buffer[]][] {
  const out: [string, Buffer[]][] = [['whole', [buf]]]
  const bytes: Buffer[] = []
  for (let i = 0; i < buf.length; i++) bytes.push(buf.subarray(i, i + 1))
  out.push(['one byte at a time', bytes])
  for (let s = 1; s <= randomRuns; s++) {
    const r = rng(s)
    const parts: Buffer[] = []
    let i = 0
    while (i < buf.length) {
      const n = 1 + Math.floor(r() * 17)
      parts.push(buf.subarray(i, i + n))
      i += n
    }
    out.push([`random chunks (seed ${s})`, parts])
  }
  return out
}

/** A byte Readable that yields exactly the given chunks. */
export function chunksReadable(chunks: Buffer[]): Readable {
  return Readable.from(
    chunks.map((c) => Buffer.from(c)),
    { objectMode: false },
  )
}

/** Collect everything a stream emits. */
export async function collect<T = unknown>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of stream) out.push(x)
  return out
}

/**
 * The expected text of a golden file, to compare `actual` with. UPDATE_GOLDEN=1 (re)writes
 * it from `actual` instead. A missing golden file is an error otherwise: a test that wrote
 * its own expectation would pass whatever the code produced.
 */
export function golden(path: string, actual: string): string {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual)
  else if (!existsSync(path))
    throw new Error(`golden file ${path} is missing: run the test with UPDATE_GOLDEN=1 to create it, then review it`)
  return readFileSync(path, 'utf8')
}

/** Run the CLI in-process. */
export async function runCli(
  args: string[],
  options: {
    stdin?: string | Buffer
    env?: NodeJS.ProcessEnv
    tty?: { stdin?: boolean; stdout?: boolean; stderr?: boolean }
    stdoutIsPipe?: boolean
  } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdin = new PassThrough()
  // a terminal on stdin: nothing arrives until someone types (the CLI must not wait for it)
  if (options.tty?.stdin) Object.assign(stdin, { isTTY: true })
  else stdin.end(options.stdin ?? '')
  let stdout = ''
  let stderr = ''
  const out = new Writable({
    write(c, _e, cb) {
      stdout += c.toString()
      cb()
    },
  })
  const err = new Writable({
    write(c, _e, cb) {
      stderr += c.toString()
      cb()
    },
  })
  if (options.tty?.stdout) Object.assign(out, { isTTY: true, columns: 100 })
  if (options.tty?.stderr) Object.assign(err, { isTTY: true, columns: 100 })
  const code = await main(args, { stdin, stdout: out, stderr: err, env: options.env ?? {}, stdoutIsPipe: options.stdoutIsPipe })
  return { code, stdout, stderr }
}

/** A stage core's push (lib/stream.ts protocol) as a function returning what it emitted. */
export function pushed<In, Out>(core: { push(chunk: In, emit: (out: Out) => void): void }, chunk: In): Out[] {
  const out: Out[] = []
  core.push(chunk, (x) => out.push(x))
  return out
}

/** A stage core's end (lib/stream.ts protocol) as a function returning what it emitted. */
export function ended<Out>(core: { end(emit: (out: Out) => void): Iterable<Out> | undefined }): Out[] {
  const out: Out[] = []
  const rest = core.end((x) => out.push(x))
  if (rest !== undefined) for (const x of rest) out.push(x)
  return out
}
