// `secoda-convert test-server`: run the bundled Secoda-compatible server on loopback until
// Ctrl-C, printing the settings to upload to it — for trying uploads offline, with the
// documented API's edges (catalog counts, "None" links, rate limit, 411 for chunked bodies).

import type { Argv, CommandModule } from 'yargs'
import { SecodaError } from '../../errors.js'
import { type GlobalArgs, reportFailure } from '../common.js'

interface TestServerArgs extends GlobalArgs {
  integration: string[]
  dir?: string
  catalog: boolean
  'none-links'?: boolean
  'write-limit': number
  'rate-window-ms': number
  'reject-chunked'?: boolean
  'reject-empty-parts': boolean
}

/** `NAME[:RESOURCES[:TYPE]]` → an integration holding RESOURCES, of TYPE (default custom). */
export function parseIntegration(spec: string): { name: string; resources?: number; type?: string } {
  const [name, count, type] = spec.split(':')
  if (!name || (count !== undefined && count !== '' && !/^\d+$/.test(count)))
    throw new SecodaError('USAGE', `--integration takes NAME[:RESOURCES[:TYPE]], e.g. shop:48 or snow:10:snowflake: got "${spec}"`)
  return { name, resources: count ? Number(count) : undefined, type: type || undefined }
}

export const testServerCommand: CommandModule<GlobalArgs, TestServerArgs> = {
  command: 'test-server',
  describe: "Run the bundled test server on 127.0.0.1 until Ctrl-C: Secoda's documented upload API and its edges (bodies go to --dir)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('integration', {
        type: 'string',
        array: true,
        default: ['demo'],
        describe:
          'Integrations that exist from the start: NAME[:RESOURCES[:TYPE]] (RESOURCES: what its catalog holds; TYPE default custom)',
      })
      .option('dir', {
        type: 'string',
        describe: 'Existing directory where received parts are written (default: a temporary directory, removed on exit)',
      })
      .option('catalog', {
        type: 'boolean',
        default: true,
        describe: 'Serve resource/catalog counts (--no-catalog answers 404, like an older self-hosted version)',
      })
      .option('none-links', {
        type: 'boolean',
        describe: 'Write missing paging links as the string "None", as Secoda\'s documented example does',
      })
      .option('write-limit', {
        type: 'number',
        default: 30,
        describe: 'Write calls allowed per rate window, then 429 without Retry-After (0: no limit)',
      })
      .option('rate-window-ms', { type: 'number', default: 60_000, describe: 'The rate window', hidden: true })
      .option('reject-chunked', {
        type: 'boolean',
        describe: 'Answer 411 to chunked upload bodies (a server without chunked-request support)',
      })
      .option('reject-empty-parts', {
        type: 'boolean',
        default: true,
        describe: 'Answer 400 to a 0-byte file part, as Python form handling does',
      }) as unknown as Argv<TestServerArgs>,
  handler: async (argv) => {
    const { stdout, stderr, signal } = argv.io
    try {
      const { describeUpload, startTestServer } = await import('../../testing/server.js')
      const server = await startTestServer({
        integrations: argv.integration.map(parseIntegration),
        dir: argv.dir,
        catalog: argv.catalog,
        noneLinks: argv['none-links'],
        writeLimit: argv['write-limit'] > 0 ? argv['write-limit'] : false,
        rateWindowMs: argv['rate-window-ms'],
        rejectChunked: argv['reject-chunked'],
        rejectEmptyParts: argv['reject-empty-parts'],
      })
      // The test server's own, freshly generated key: printing it is the point of this command.
      stdout.write(`export SECODA_API_URL=${server.url}\nexport SECODA_API_KEY=${server.apiKey}\n`)
      for (const i of server.integrations)
        stderr.write(`integration "${i.name}": ${i.id}${i.type === 'custom' ? '' : ` (${i.type})`}, ${i.resources} resources\n`)
      stderr.write(`receiving into ${server.dir}; Ctrl-C to stop\n`)
      let seen = 0
      const timer = setInterval(() => {
        for (; seen < server.uploads.length && server.uploads[seen]!.ended; seen++) {
          stderr.write(describeUpload(server.uploads[seen]!) + '\n')
        }
      }, 200)
      await new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve()
        signal?.addEventListener('abort', () => resolve(), { once: true })
      })
      clearInterval(timer)
      await server.close()
      argv.run.exitCode = 0
    } catch (err) {
      argv.run.exitCode = reportFailure(argv, err)
    }
  },
}
