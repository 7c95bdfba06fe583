// The README's error table and its runnable examples are checked here, so they cannot rot.
import t from 'tap'
import { readFileSync, mkdtempSync, copyFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { CODES } from '../lib/errors.js'
import { fixture, root } from './helpers.js'

const readme = readFileSync(join(root, 'README.md'), 'utf8')

t.test('the README error table lists exactly the codes, with their exit status and meaning', async (t) => {
  const table = readme.split('<!-- codes:start -->')[1]!.split('<!-- codes:end -->')[0]!
  const rows = [...table.matchAll(/^\| `([A-Z_0-9]+)` \| (\d) \| (.+) \|$/gm)].map((m) => [
    m[1],
    Number(m[2]),
    m[3]!.replaceAll('\\|', '|'),
  ])
  t.same(rows.map((r) => r[0]).sort(), Object.keys(CODES).sort())
  for (const [code, exit, summary] of rows)
    t.same([exit, summary], [CODES[code as keyof typeof CODES].exit, CODES[code as keyof typeof CODES].summary], code as string)
})

t.test('the README starts with the install and test commands', async (t) => {
  const first = readme.split('\n').slice(0, 8).join('\n')
  t.match(first, /^npm ci\b/m)
  t.match(first, /^npm test\b/m)
  t.match(first, /^npm start\b/m)
})

t.test('README shell examples of the validate and convert commands run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sc-readme-'))
  copyFileSync(fixture('samples', 'warehouse-columns.csv'), join(dir, 'columns.csv'))
  writeFileSync(join(dir, 'export.jsonl.gz'), gzipSync(readFileSync(fixture('jsonl', 'mixed', 'input.jsonl'))))
  const bin = join(root, 'dist', 'bin', 'secoda-convert.js')
  const commands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^secoda-convert (convert|validate) /.test(l))
  t.ok(commands.length >= 6, `found ${commands.length} examples`)
  // run in the order a reader would: conversions first, then the checks of their output
  commands.sort((a, b) => Number(a.includes('validate')) - Number(b.includes('validate')))
  for (const cmd of commands) {
    const r = spawnSync('bash', ['-c', cmd.replaceAll('secoda-convert', `node ${bin}`)], { cwd: dir, encoding: 'utf8' })
    t.equal(r.status, 0, `${cmd}\n${r.stderr}`)
  }
})
