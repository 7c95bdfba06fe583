// Help and the command line's manners: help snapshots (own options first, upload and
// general options under their headings), -h, "did you mean", numeric flags that say what
// they accept, a hint instead of waiting on a terminal, no abort marker on a terminal, and
// shell completion.
import t from 'tap'
import { join } from 'node:path'
import { fixture, golden, runCli } from './helpers.js'

const snapshots = fixture('help')

for (const args of [[], ['dbt'], ['validate'], ['upload'], ['columns']]) {
  t.test(`help snapshot: ${['secoda-convert', ...args, '--help'].join(' ')}`, async (t) => {
    const r = await runCli([...args, '--help'])
    t.equal(r.code, 0)
    const name = `${args[0] ?? 'main'}.txt`
    t.equal(r.stdout, golden(join(snapshots, name), r.stdout), `fixtures/help/${name} (UPDATE_GOLDEN=1 rewrites it)`)
  })
}

t.test("a command's own options come first, upload options under their own heading", async (t) => {
  const r = await runCli(['dbt', '--help'])
  const heads = r.stdout.split('\n').filter((l) => /^[A-Z][A-Za-z ]+:$/.test(l))
  t.same(heads, ['Positionals:', 'Options:', 'Output:', 'Upload:', 'General options:', 'Examples:'])
  const lines = r.stdout.split('\n')
  t.ok(lines.findIndex((l) => l.includes('--catalog')) < 10, '--catalog is within the first lines')
})

t.test('-h works like --help', async (t) => {
  const h = await runCli(['dbt', '-h'])
  const help = await runCli(['dbt', '--help'])
  t.equal(h.code, 0)
  t.equal(h.stdout, help.stdout)
})

t.test('a mistyped flag gets a suggestion', async (t) => {
  const r = await runCli(['dbt', 'manifest.json', '--catalgo', 'catalog.json'])
  t.equal(r.code, 2)
  t.match(r.stderr, /^error USAGE Unknown argument: catalgo; --catalgo: did you mean --catalog\? \(see secoda-convert dbt --help\)$/m)
  const far = await runCli(['validate', '--zzzzzz'])
  t.notMatch(far.stderr, /did you mean/, 'no suggestion when nothing is close')
})

t.test('numeric flags say what they accept and quote what was given', async (t) => {
  const r = await runCli(['validate', '--max-errors', 'abc'])
  t.equal(r.code, 2)
  t.match(r.stderr, /--max-errors takes a whole number ≥ 1 \(e\.g\. --max-errors 1\), got "abc"/)
  t.notMatch(r.stderr, /NaN/)
  const zero = await runCli(['convert', '--max-errors=0'])
  t.match(zero.stderr, /--max-errors takes a whole number ≥ 1 .*got "0"/)
  const line = await runCli(['validate', '--max-line-length', '1.5'])
  t.match(line.stderr, /--max-line-length takes a whole number ≥ 1 .*got "1.5"/)
})

t.test('a source command with a terminal on stdin prints a usage hint instead of waiting', async (t) => {
  for (const args of [['dbt'], ['pg-dump'], ['mysql-dump'], ['columns'], ['convert'], ['validate'], ['validate', '-']]) {
    const r = await runCli(args, { tty: { stdin: true } })
    t.equal(r.code, 2, args.join(' '))
    t.match(
      r.stderr,
      new RegExp(`error USAGE no input: name a file, or pipe one in \\(stdin is a terminal\\); see secoda-convert ${args[0]} --help`),
    )
  }
  const file = await runCli(['validate', fixture('jsonl', 'mixed', 'input.jsonl')], { tty: { stdin: true } })
  t.equal(file.code, 0, 'a named file does not need stdin')
})

t.test('the abort marker goes down a pipe, not onto a terminal', async (t) => {
  const bad = '{"entity_type":"table","title":"no id"}\n'
  const piped = await runCli(['convert', '--format', 'jsonl'], { stdin: bad })
  t.equal(piped.code, 1)
  t.match(piped.stdout, /"__secoda_convert_aborted__"|aborted/)
  const tty = await runCli(['convert', '--format', 'jsonl'], { stdin: bad, tty: { stdout: true } })
  t.equal(tty.code, 1)
  t.equal(tty.stdout, '', 'nothing on the terminal but the error on stderr')
  t.match(tty.stderr, /error FIELD_REQUIRED/)
})

t.test('shell completion', async (t) => {
  const r = await runCli(['completion'])
  t.equal(r.code, 0)
  t.match(r.stdout, /secoda-convert/)
  t.match(r.stdout, /complete -o bashdefault -o default -F _secoda-convert_yargs_completions secoda-convert/)
})
