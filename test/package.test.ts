// The package as a user gets it: `npm pack` → install the tarball into an empty project (offline,
// from the npm cache `npm ci` filled) → run the installed binary → compile a strict TypeScript
// ESM consumer of all three entries under nodenext, bundler and node10 resolution and run it →
// require() it → publint and arethetypeswrong on the tarball. Uses the dist/ that `npm test`
// builds first (pretest); the heavy part (pack, install) runs once.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publint } from 'publint'
import ts from 'typescript'
import { root } from './helpers.js'

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
  dependencies: Record<string, string>
  bin: Record<string, string>
  engines: Record<string, string>
  license: string
}
const tools = join(root, 'node_modules')
// ~30 s of CPU (pack, install, three compiles, attw); on a shared, loaded machine that can
// take minutes of wall time, more than the suite's per-file timeout
t.setTimeout(600_000)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does) first')

const dir = mkdtempSync(join(tmpdir(), 'sc-package-'))
// --ignore-scripts: dist/ is fresh (pretest built it); prepack would build it again
const packed = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root)
if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`)
const info = (JSON.parse(packed.stdout) as { filename: string; integrity: string; files: { path: string }[] }[])[0]!
const tarball = join(dir, info.filename)
const files = info.files.map((f) => f.path)

t.test('the tarball: dist without benchmarks or source maps, docs, LICENSE', async (t) => {
  for (const f of [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/internals.js',
    'dist/internals.d.ts',
    'dist/lib/testing/server.js',
    'dist/lib/testing/server.d.ts',
    'dist/bin/secoda-convert.js',
    'docs/dbt.md',
    'fixtures/samples/warehouse-columns.csv',
  ])
    t.ok(files.includes(f), f)
  t.same(
    files.filter((f) => f.startsWith('dist/bench/') || f.startsWith('bench/') || f.startsWith('test/')),
    [],
    'no benchmarks or tests (a stale dist/? npm run build starts from an empty one)',
  )
  t.same(
    files.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    [],
    'no source maps and no TypeScript sources (a stale dist/? npm run build starts from an empty one)',
  )
  t.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} secoda-convert contributors\n/)
  // the public declarations need no package the user does not get (yargs' types are a dev dependency)
  const dts = files.filter((f) => f.endsWith('.d.ts') && !f.startsWith('dist/lib/cli/'))
  const foreign = dts.flatMap((f) =>
    [...readFileSync(join(root, f), 'utf8').matchAll(/from '([^'.][^']*)'/g)]
      .map((m) => m[1]!)
      .filter((spec) => !spec.startsWith('node:') && !(spec in pkg.dependencies))
      .map((spec) => `${f}: ${spec}`),
  )
  t.same(foreign, [], 'declarations import only Node and runtime dependencies')
})

// An empty project that depends on the tarball, with a lockfile made of the repository's
// runtime entries: `npm ci --offline` then needs nothing the npm cache lacks.
const project = join(dir, 'consumer')
const installed = (() => {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>
  }
  const spec = `file:../${info.filename}`
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { 'secoda-convert': spec } },
    'node_modules/secoda-convert': {
      version: pkg.version,
      resolved: spec,
      integrity: info.integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  }
  for (const [k, v] of Object.entries(lock.packages)) if (k !== '' && !v.dev && !v.link) packages[k] = v
  spawnSync('mkdir', ['-p', project])
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'secoda-convert': spec } }),
  )
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }))
  const offline = run(npm, ['ci', '--offline', '--no-audit', '--no-fund'], project)
  if (offline.status === 0) return { how: 'offline', ...offline }
  // a cache without some runtime package: the registry (reachable where the tests run) fills it
  return { how: 'registry', ...run(npm, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], project) }
})()

t.test('the tarball installs, and its binary runs', async (t) => {
  t.equal(installed.status, 0, `npm ci (${installed.how}): ${installed.stderr}`)
  if (installed.how !== 'offline') t.comment('installed with the registry: the npm cache lacked a runtime package')
  const bin = join(project, 'node_modules', '.bin', 'secoda-convert')
  const version = run(bin, ['--version'], project)
  t.equal(version.status, 0, version.stderr)
  t.equal(version.stdout.trim(), pkg.version)
  const sample = join(project, 'node_modules', 'secoda-convert', 'fixtures', 'samples', 'warehouse-columns.csv')
  const converted = run(bin, ['convert', sample, '--out-dir', 'out'], project)
  t.equal(converted.status, 0, converted.stderr)
  t.ok(existsSync(join(project, 'out', 'resources.jsonl')))
  const validated = run(bin, ['validate', 'out'], project)
  t.equal(validated.status, 0, validated.stderr)
})

t.test('a strict TypeScript ESM consumer compiles under nodenext, bundler and node10, and runs', async (t) => {
  writeFileSync(
    join(project, 'consumer.ts'),
    `import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CODES, Report, createJsonlWriter, createSecodaCsvReader, createValidator, type SecodaRecord, type Summary } from 'secoda-convert'
import { IdIndex } from 'secoda-convert/internals'
import { startTestServer, type TestServer } from 'secoda-convert/testing'

const file: string = process.argv[2]!
const report = new Report({ maxErrors: 20 })
let jsonl = ''
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    jsonl += chunk.toString()
    done()
  },
})
await pipeline(createReadStream(file), createSecodaCsvReader({ report, file }), createValidator({ report }), createJsonlWriter(), sink)
const summary: Summary = report.summary()
const first = JSON.parse(jsonl.split('\\n')[0]!) as SecodaRecord
const server: TestServer = await startTestServer()
const loopback = server.url.startsWith('http://127.0.0.1:')
await server.close()
console.log(JSON.stringify({ summary, first: 'entity_type' in first ? first.entity_type : 'lineage', loopback, usageExit: CODES.USAGE.exit, index: typeof IdIndex }))
`,
  )
  // three programs in this process, one cache of parsed files (node's types are most of the work)
  const parsed = new Map<string, ts.SourceFile | undefined>()
  const compile = (resolution: 'nodenext' | 'bundler' | 'node10'): string[] => {
    const options: ts.CompilerOptions = {
      strict: true,
      noUncheckedIndexedAccess: true,
      target: ts.ScriptTarget.ES2022,
      module: { nodenext: ts.ModuleKind.NodeNext, bundler: ts.ModuleKind.ESNext, node10: ts.ModuleKind.ES2022 }[resolution],
      moduleResolution: {
        nodenext: ts.ModuleResolutionKind.NodeNext,
        bundler: ts.ModuleResolutionKind.Bundler,
        node10: ts.ModuleResolutionKind.Node10,
      }[resolution],
      // nodenext is the full check, declaration files included (where a package missing from
      // the install would show up as TS7016); the other two check resolution and what the code uses
      skipLibCheck: resolution !== 'nodenext',
      noEmit: resolution !== 'nodenext',
      outDir: join(project, 'built'),
      types: ['node'],
      typeRoots: [join(tools, '@types')],
    }
    const host = ts.createCompilerHost(options)
    const read = host.getSourceFile.bind(host)
    host.getSourceFile = (name, version, ...rest) => {
      const key = `${name}\0${JSON.stringify(version)}`
      if (!parsed.has(key)) parsed.set(key, read(name, version, ...rest))
      return parsed.get(key)
    }
    const program = ts.createProgram([join(project, 'consumer.ts')], options, host)
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics]
    return diagnostics.map((d) => ts.formatDiagnostic(d, host))
  }
  for (const resolution of ['nodenext', 'bundler', 'node10'] as const) t.same(compile(resolution), [], `tsc under ${resolution} resolution`)
  const out = run(
    process.execPath,
    [join('built', 'consumer.js'), join('node_modules', 'secoda-convert', 'fixtures', 'samples', 'warehouse-columns.csv')],
    project,
  )
  t.equal(out.status, 0, out.stderr)
  const printed = JSON.parse(out.stdout) as { summary: Summary; first: string; loopback: boolean; usageExit: number; index: string }
  t.same(
    { ...printed, summary: { errors: printed.summary.errors, tables: printed.summary.resources.table } },
    { summary: { errors: 0, tables: 3 }, first: 'table', loopback: true, usageExit: 2, index: 'function' },
  )
})

t.test('require() of the package works on the Node versions engines names', async (t) => {
  const r = run(
    process.execPath,
    [
      '-e',
      "const m = require('secoda-convert'); const s = require('secoda-convert/testing'); console.log(typeof m.runConversion, typeof s.startTestServer)",
    ],
    project,
  )
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.trim(), 'function function')
  t.equal(pkg.engines.node, '>=20.19.0', 'require(esm) is on by default from Node 20.19')
})

t.test('publint and arethetypeswrong find nothing', async (t) => {
  const lint = await publint({ pack: { tarball: readFileSync(tarball).buffer as ArrayBuffer }, strict: true, level: 'suggestion' })
  t.same(
    lint.messages.map((m) => `${m.type} ${m.code} ${m.path.join('.')}`),
    [],
    'publint messages',
  )
  // cjs-resolves-to-esm: the package is ESM only by design; Node ≥ 20.19 (the engines floor)
  // loads it with require() too (tested above), which attw's resolution table does not model
  const attw = run(
    process.execPath,
    [
      join(tools, '@arethetypeswrong', 'cli', 'dist', 'index.js'),
      tarball,
      '--format',
      'json',
      '--no-definitely-typed',
      '--ignore-rules',
      'cjs-resolves-to-esm',
    ],
    dir,
  )
  t.equal(attw.status, 0, attw.stdout.slice(0, 2000) + attw.stderr)
  const problems = (JSON.parse(attw.stdout) as { analysis: { problems: { kind: string }[] } }).analysis.problems.filter(
    (p) => p.kind !== 'CJSResolvesToESM',
  )
  t.same(problems, [], 'attw problems')
  const entries = Object.keys((JSON.parse(attw.stdout) as { analysis: { entrypoints: Record<string, unknown> } }).analysis.entrypoints)
  t.same(entries.sort(), ['.', './internals', './package.json', './testing'])
})
