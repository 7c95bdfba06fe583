// Benchmark and correctness check of PostgreSQL parsers on real pg_dump statements: which
// statements each can read, and parse time per statement. It backs the choice of
// libpg-query recorded in docs/sql.md.
//
// Run:  npm run build:bench && node dist-bench/bench/pg-parsers.js [dump.sql ...]
// libpg-query is a dependency; the alternatives are measured when installed next to it
// (`npm install --no-save pgsql-ast-parser@12 node-sql-parser@5`), else reported as absent.
// Default inputs: the repository's pg-dump fixtures, plus the PostgreSQL dumps of a samples
// folder beside the clone (samples/postgres under a sibling `shared/`), when one is there.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadPgParser } from '../transforms/sql/pg-dump.js'
import { parseSync } from 'libpg-query'
import { splitSql } from '../lib/scan/sql-splitter.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..')

function inputs(): string[] {
  if (process.argv.length > 2) return process.argv.slice(2)
  const out: string[] = []
  const fx = path.join(repo, 'fixtures', 'pg-dump')
  for (const d of readdirSync(fx, { withFileTypes: true })) if (d.isDirectory()) out.push(path.join(fx, d.name, 'input.sql'))
  for (const s of [
    path.resolve(repo, '..', 'shared', 'samples', 'postgres'),
    path.resolve(repo, '..', '..', 'shared', 'samples', 'postgres'),
  ]) {
    if (existsSync(s)) {
      for (const f of readdirSync(s)) out.push(path.join(s, f))
      break
    }
  }
  return out
}

type Parse = (sql: string) => unknown

async function candidates(): Promise<[string, Parse | string][]> {
  await loadPgParser()
  const out: [string, Parse | string][] = [['libpg-query', (s) => parseSync(s)]]
  try {
    const m = (await import('pgsql-ast-parser' as string)) as { parse: (s: string) => unknown }
    out.push(['pgsql-ast-parser', (s) => m.parse(s)])
  } catch {
    out.push(['pgsql-ast-parser', 'not installed'])
  }
  try {
    const m = (await import('node-sql-parser' as string)) as { default: { Parser: new () => { astify(s: string, o: object): unknown } } }
    const p = new m.default.Parser()
    out.push(['node-sql-parser', (s) => p.astify(s, { database: 'PostgresQL' })])
  } catch {
    out.push(['node-sql-parser', 'not installed'])
  }
  return out
}

// the statements the pg-dump source reads (the others it skips unparsed)
const WANTED =
  /^(?:create\s+(?:or\s+replace\s+)?(?:unlogged\s+)?(?:schema|table|view|materialized\s+view|foreign\s+table|database)\b|comment\s+on\b|alter\s+table\b[\s\S]*\bprimary\s+key\b|set\s+search_path\b)/i

const stmts: string[] = []
for (const f of inputs()) {
  for (const s of splitSql(readFileSync(f), { dialect: 'postgres' })) if (s.kind === 'sql' && WANTED.test(s.text)) stmts.push(s.text)
}
console.log(`${stmts.length} DDL statements from ${inputs().length} dumps`)
for (const [name, parse] of await candidates()) {
  if (typeof parse === 'string') {
    console.log(`${name}: ${parse}`)
    continue
  }
  let ok = 0
  const fails = new Map<string, number>()
  const t0 = performance.now()
  for (let round = 0; round < 5; round++) {
    for (const s of stmts) {
      try {
        parse(s)
        if (round === 0) ok++
      } catch {
        if (round === 0) {
          const k = s.replace(/\s+/g, ' ').split(' ').slice(0, 3).join(' ')
          fails.set(k, (fails.get(k) ?? 0) + 1)
        }
      }
    }
  }
  const us = ((performance.now() - t0) * 1000) / (stmts.length * 5)
  console.log(
    `${name}: reads ${ok}/${stmts.length} (${((100 * ok) / stmts.length).toFixed(1)}%), ${us.toFixed(0)} µs/statement; fails on: ${
      [...fails]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ') || 'none'
    }`,
  )
}
