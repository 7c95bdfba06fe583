// golden() of test/helpers.ts: a missing golden file fails the test unless UPDATE_GOLDEN=1
// asks for it to be written.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { golden } from './helpers.js'

function withUpdate<T>(value: string | undefined, f: () => T): T {
  const saved = process.env.UPDATE_GOLDEN
  if (value === undefined) delete process.env.UPDATE_GOLDEN
  else process.env.UPDATE_GOLDEN = value
  try {
    return f()
  } finally {
    if (saved === undefined) delete process.env.UPDATE_GOLDEN
    else process.env.UPDATE_GOLDEN = saved
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sc-golden-'))

t.test('a missing golden file fails, and is not created', async (t) => {
  const path = join(dir, 'missing.txt')
  withUpdate(undefined, () =>
    t.throws(() => golden(path, 'actual\n'), /golden file .*missing\.txt is missing: run the test with UPDATE_GOLDEN=1/),
  )
  t.notOk(existsSync(path))
  withUpdate('0', () => t.throws(() => golden(path, 'actual\n')))
  t.notOk(existsSync(path))
})

t.test('an existing golden file is returned as it is, not rewritten', async (t) => {
  const path = join(dir, 'existing.txt')
  writeFileSync(path, 'expected\n')
  t.equal(
    withUpdate(undefined, () => golden(path, 'actual\n')),
    'expected\n',
  )
  t.equal(readFileSync(path, 'utf8'), 'expected\n')
})

t.test('UPDATE_GOLDEN=1 writes the golden file from the actual text', async (t) => {
  const path = join(dir, 'new.txt')
  t.equal(
    withUpdate('1', () => golden(path, 'actual\n')),
    'actual\n',
  )
  t.equal(readFileSync(path, 'utf8'), 'actual\n')
  writeFileSync(path, 'stale\n')
  t.equal(
    withUpdate('1', () => golden(path, 'fresh\n')),
    'fresh\n',
  )
})
