// Finding the real PostgreSQL and MariaDB servers that .ci/setup-databases.sh starts, and
// the skip-locally / fail-in-CI rule of the real-server tests (docs/sql.md).

import { spawnSync, type SpawnSyncOptions } from 'node:child_process'

/** True when CI is set (any non-empty value except "false"/"0"). */
export const inCI = (): boolean => {
  const v = process.env.CI
  return v !== undefined && v !== '' && v !== 'false' && v !== '0'
}

/** Run a client program synchronously; returns stdout or throws with its stderr. */
export function run(cmd: string, args: string[], input?: string, opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr).slice(0, 2000)}`)
  return String(r.stdout)
}

function probe(cmd: string, args: string[]): string | undefined {
  try {
    run(cmd, args, undefined, { timeout: 10_000 })
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

let pgState: string | undefined | null = null
let myState: string | undefined | null = null

/** undefined when PostgreSQL answers `psql -d postgres`, else why not. */
export function pgUnavailable(): string | undefined {
  if (pgState === null) pgState = probe('psql', ['-X', '-d', 'postgres', '-Atc', 'SELECT 1'])
  return pgState
}

/** undefined when MariaDB/MySQL answers `mysql -e 'SELECT 1'`, else why not. */
export function mysqlUnavailable(): string | undefined {
  if (myState === null) myState = probe('mysql', ['-e', 'SELECT 1'])
  return myState
}

/** The slice of a tap Test used here. */
interface TestLike {
  test(name: string, extra: { skip?: string | boolean }, fn: (t: never) => unknown): unknown
}

/**
 * Declare a real-server subtest: it runs when the server answers; when it does not, the
 * subtest is SKIPPED with the reason — or FAILS when CI is set, so CI cannot pass without
 * the servers (.ci/setup-databases.sh must have run).
 */
export function serverTest<T>(
  t: TestLike & { test(name: string, extra: object, fn: (t: T) => unknown): unknown },
  name: string,
  server: string,
  why: string | undefined,
  fn: (t: T) => unknown,
): void {
  if (why === undefined) {
    t.test(name, {}, fn)
  } else if (inCI()) {
    t.test(name, {}, (tt: T) => {
      ;(tt as unknown as { fail(m: string): void }).fail(`${server} server unavailable in CI (did .ci/setup-databases.sh run?): ${why}`)
    })
  } else {
    t.test(name, { skip: `${server} server unavailable (run .ci/setup-databases.sh as root): ${why.split('\n')[0]}` }, fn)
  }
}
