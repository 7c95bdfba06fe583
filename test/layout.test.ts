// The layout rule of README "Layout": which folder may import which, no import cycles, and
// the README's map naming every source folder there is. Reads import lines as text (static
// `import`/`export ... from` and dynamic `import('...')`, type-only ones included: a type
// import still ties one layer's source to another's).

import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name)
    if (statSync(join(root, rel)).isDirectory()) out.push(...walk(rel))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

const sources = [...walk('lib'), ...walk('transforms'), ...walk('bin'), 'index.ts', 'internals.ts']

/** The layer a source file belongs to (README "Layout"). */
export function layerOf(file: string): string {
  const parts = file.split('/')
  if (parts[0] === 'lib') {
    if (parts.length === 2 || parts[1] === 'scan') return 'foundation'
    return parts[1]! // run, upload, testing, cli
  }
  if (parts[0] === 'transforms') return parts.length === 2 ? 'stages' : `family:${parts[1]}`
  return 'entry' // index.ts, internals.ts, bin/
}

/** What each layer may import (besides itself). */
function allowed(from: string, to: string): boolean {
  if (from === to) return true
  if (to === 'entry') return false
  switch (from) {
    case 'foundation':
      return false
    case 'stages':
      return to === 'foundation'
    case 'run':
      return to === 'foundation' || to === 'stages' || to.startsWith('family:')
    case 'upload':
      return to === 'foundation' || to === 'stages'
    case 'testing':
      return to === 'foundation'
    case 'cli':
      return true
    case 'entry':
      return true
    default: // a source family: the foundation and the Secoda-format stages
      return to === 'foundation' || to === 'stages'
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*'([^']+)'|(?:^|\n)\s*import\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g

function importsOf(file: string): { spec: string; target?: string }[] {
  const text = readFileSync(join(root, file), 'utf8')
  const out: { spec: string; target?: string }[] = []
  for (const m of text.matchAll(IMPORT)) {
    const spec = (m[1] ?? m[2] ?? m[3])!
    if (!spec.startsWith('.')) {
      out.push({ spec })
      continue
    }
    const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts')
    out.push({ spec, target })
  }
  return out
}

const graph = new Map(sources.map((f) => [f, importsOf(f)]))

t.test('every relative import names a source file', async (t) => {
  const missing = [...graph].flatMap(([f, list]) =>
    list.filter((i) => i.target !== undefined && !graph.has(i.target)).map((i) => `${f} → ${i.spec}`),
  )
  t.same(missing, [])
})

t.test('imports run down the layers only', async (t) => {
  const wrong: string[] = []
  for (const [f, list] of graph) {
    for (const i of list) {
      if (i.target === undefined) continue
      const a = layerOf(f)
      const b = layerOf(i.target)
      if (!allowed(a, b)) wrong.push(`${f} (${a}) imports ${i.target} (${b})`)
    }
  }
  t.same(wrong, [])
})

t.test('the foundation imports only Node built-ins and itself', async (t) => {
  const outside = [...graph]
    .filter(([f]) => layerOf(f) === 'foundation')
    .flatMap(([f, list]) => list.filter((i) => i.target === undefined && !i.spec.startsWith('node:')).map((i) => `${f} → ${i.spec}`))
  t.same(outside, [])
})

t.test('no import cycles', async (t) => {
  // Tarjan's strongly connected components over the file graph
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    on.add(v)
    for (const i of graph.get(v) ?? []) {
      const w = i.target
      if (w === undefined || !graph.has(w)) continue
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).some((i) => i.target === v)) cycles.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v)
  t.same(cycles, [])
})

t.test("the README's Layout section names every source folder, and only those", async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Layout'), readme.indexOf('\n## ', readme.indexOf('### Layout')))
  t.ok(section.length > 0, 'README has a Layout section')
  const named = new Set([...section.matchAll(/`((?:lib|transforms|bin)(?:\/[a-z-]+)*\/)`/g)].map((m) => m[1]!))
  const folders = new Set(sources.filter((f) => f.includes('/')).map((f) => dirname(f) + '/'))
  t.same([...folders].filter((d) => !named.has(d)).sort(), [], 'folders missing from the map')
  t.same([...named].filter((d) => !folders.has(d)).sort(), [], 'folders in the map that do not exist')
})

t.test('the rule itself: a few known placements', async (t) => {
  t.equal(layerOf('lib/records.ts'), 'foundation')
  t.equal(layerOf('lib/scan/csv.ts'), 'foundation')
  t.equal(layerOf('transforms/validate.ts'), 'stages')
  t.equal(layerOf('transforms/sql/pg-dump.ts'), 'family:sql')
  t.notOk(allowed('foundation', 'stages'))
  t.notOk(allowed('family:sql', 'family:dbt'))
  t.notOk(allowed('stages', 'family:dbt'))
  t.notOk(allowed('upload', 'cli'))
  t.ok(allowed('family:sql', 'stages'))
  t.equal(layerOf('internals.ts'), 'entry')
  t.notOk(allowed('cli', 'entry'))
})
