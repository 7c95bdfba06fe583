// The library's public surface (index.ts): every export documented (TSDoc), the README's
// "Library" table naming exactly these exports, no CLI builders among them, and the
// `./internals` entry carrying the stage modules' own exports.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { root } from './helpers.js'

/** Every name index.ts exports, with whether it is a value and its TSDoc text. */
function declaredExports(): { name: string; value: boolean; doc: string }[] {
  const program = ts.createProgram([join(root, 'index.ts')], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    noEmit: true,
    skipLibCheck: true,
  })
  const checker = program.getTypeChecker()
  const file = program.getSourceFile(join(root, 'index.ts'))!
  const module = checker.getSymbolAtLocation(file)!
  return checker.getExportsOfModule(module).map((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s
    return {
      name: s.name,
      value: (target.flags & ts.SymbolFlags.Value) !== 0,
      doc: ts.displayPartsToString(target.getDocumentationComment(checker)).trim(),
    }
  })
}

const declared = declaredExports()
const runtime = await import('../index.js')

t.test('index.ts exports about 40 names, each with TSDoc', async (t) => {
  t.ok(declared.length >= 30 && declared.length <= 50, `${declared.length} exports`)
  t.same(
    declared.filter((e) => e.doc.length < 10).map((e) => e.name),
    [],
    'exports without a doc comment',
  )
})

t.test("the runtime exports are exactly index.ts's value exports", async (t) => {
  t.same(
    Object.keys(runtime).sort(),
    declared
      .filter((e) => e.value)
      .map((e) => e.name)
      .sort(),
  )
})

t.test('no yargs builders or CLI plumbing in the public surface', async (t) => {
  for (const name of ['uploadOptions', 'conversionUploadOptions', 'runUpload', 'prepareUpload', 'commands']) t.notOk(name in runtime, name)
})

t.test("the README's Library table names exactly the public exports", async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('## Library')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const rows = section.split('\n').filter((l) => l.startsWith('| `'))
  t.ok(rows.length > 5, `${rows.length} table rows`)
  const named = rows.flatMap((l) => [...l.split(' | ')[0]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!))
  t.same([...named].sort(), declared.map((e) => e.name).sort())
  t.equal(new Set(named).size, named.length, 'each name once')
})

t.test('secoda-convert/internals carries the stage modules, not the CLI', async (t) => {
  const internals = await import('../internals.js')
  // the public values come from the same modules (main, from the CLI, aside)
  for (const [name, value] of Object.entries(runtime)) {
    if (name === 'main') continue
    t.equal((internals as Record<string, unknown>)[name], value, name)
  }
  t.notOk('main' in internals)
  t.notOk('uploadOptions' in internals)
  t.ok(Object.keys(internals).length > Object.keys(runtime).length)
})

t.test('every import from secoda-convert in the README and docs/ names an export of that entry', async (t) => {
  const entries: Record<string, Record<string, unknown>> = {
    'secoda-convert': runtime,
    'secoda-convert/internals': await import('../internals.js'),
    'secoda-convert/testing': await import('../lib/testing/server.js'),
  }
  const types = new Set(declared.filter((e) => !e.value).map((e) => e.name))
  const files = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`)]
  let imports = 0
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8')
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(secoda-convert[^']*)'/g)) {
      const entry = entries[m[2]!]
      t.ok(entry, `${file}: ${m[2]} is an entry point`)
      for (const raw of m[1]!.split(',')) {
        const name = raw.replace(/^\s*type\s+/, '').trim()
        if (name === '' || types.has(name)) continue
        imports++
        t.ok(entry !== undefined && name in entry, `${file}: ${name} from ${m[2]}`)
      }
    }
  }
  t.ok(imports >= 10, `${imports} imported names checked`)
})

t.test('secoda-convert/internals re-exports every module but the CLI and the test server', async (t) => {
  const walk = (d: string): string[] =>
    readdirSync(join(root, d), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${d}/${e.name}`) : e.name.endsWith('.ts') ? [`${d}/${e.name}`] : [],
    )
  const modules = [...walk('lib'), ...walk('transforms')].filter((f) => !f.startsWith('lib/cli/') && !f.startsWith('lib/testing/'))
  const text = readFileSync(join(root, 'internals.ts'), 'utf8')
  const listed = [...text.matchAll(/^export \* from '\.\/(.+)\.js'$/gm)].map((m) => `${m[1]}.ts`)
  t.same(listed.slice().sort(), modules.sort())
})
