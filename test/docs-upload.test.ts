// The newcomer's walk-through in docs/upload.md runs as written (minus npm ci / tsc, which
// the test run has done), so it cannot rot.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { root } from './helpers.js'

t.test('docs/upload.md walk-through: test server, demo, JSONL and CSV upload, dry run', async (t) => {
  const doc = readFileSync(join(root, 'docs', 'upload.md'), 'utf8')
  const block = doc.split('<!-- walkthrough:start -->')[1]!.split('<!-- walkthrough:end -->')[0]!
  const script = block
    .replace(/```sh\n|```/g, '')
    .split('\n')
    .filter((l) => l.trim() && !/^(npm ci|npx tsc)/.test(l))
    .map((l) =>
      l.replace(/\s+#.*$/, '').replaceAll('node dist/bin/secoda-convert.js', `node ${join(root, 'dist', 'bin', 'secoda-convert.js')}`),
    )
    .join('\n')
  // If a step fails, bash -e exits before the walk-through's own `kill`: stop the server anyway.
  const guarded = `trap 'kill -INT $(jobs -p) 2>/dev/null || true' EXIT\n${script}`
  const dir = mkdtempSync(join(tmpdir(), 'sc-walkthrough-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const r = spawnSync('bash', ['-e', '-c', guarded], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000, // a hang guard only: seven CLI starts take long on a loaded machine
    env: { ...process.env, SECODA_API_KEY: '', SECODA_API_URL: '' },
  })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /uploaded 14 resources and 7 lineage edges \(\d+ bytes, content-length\)/)
  t.match(r.stderr, /uploaded 12 resources \(\d+ bytes, content-length\)/)
  t.match(r.stderr, /dry run: would upload 14 resources/)
  t.match(r.stderr, /stale guard: 0 added, 14 kept, 0 would be archived/)
  t.match(r.stderr, /server-side guard: the integration held 14 resources; this upload carries 14/)
  t.notMatch(doc, /--state-dir \.state-/, 'one state directory: the guard is not sidestepped')
  const log = r.stdout
  t.match(
    log,
    /upload #1 to [\w-]+\/import_jsonl_metadata\/: 200 complete, synced; resources_file=resources\.jsonl \d+ bytes, lineages_file=lineage\.jsonl [1-9]\d* bytes/,
  )
  t.match(log, /upload #2 to [\w-]+\/import_metadata\/: 200 complete, synced; file=columns\.csv \d+ bytes/)
  t.notMatch(log, /upload #3/, 'the dry run sent nothing')
})
