// The upload step of `npm start` (the demo): start the bundled server, upload a directory
// of converted files to it through the real upload path, and print what it received.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readSecodaFiles } from '../run/read-records.js'
import { createReport, type GlobalArgs } from './common.js'
import { runUpload, type UploadArgs } from './upload-options.js'

/**
 * Upload `dir` (resources.jsonl + lineage.jsonl) to a fresh bundled server and print what
 * the server received on stderr. For the demo command: `await demoUpload(argv, 'out')`.
 */
export async function demoUpload(argv: GlobalArgs, dir: string): Promise<void> {
  const { describeUpload, startTestServer } = await import('../testing/server.js')
  const server = await startTestServer({ integrations: [{ name: 'demo' }] })
  const stateDir = mkdtempSync(path.join(tmpdir(), 'secoda-demo-state-'))
  try {
    const report = createReport(argv)
    const args: UploadArgs = {
      ...argv,
      io: { ...argv.io, env: { SECODA_API_URL: server.url, SECODA_API_KEY: server.apiKey } },
      'integration-name': 'demo',
      'state-dir': stateDir,
      'max-stale': '10%',
      'resources-part': 'resources_file',
      'lineage-part': 'lineages_file',
      'csv-part': 'file',
      timeout: 30,
      retries: 0,
      'max-wait': 0,
    }
    argv.io.stderr.write(`upload ${dir}/ to the bundled test server at ${server.url}\n`)
    await runUpload(args, () => readSecodaFiles([dir], { report }), report, 'jsonl')
    for (const u of await server.waitForUploads(1)) argv.io.stderr.write(`server received: ${describeUpload(u)}\n`)
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
    await server.close()
  }
}
