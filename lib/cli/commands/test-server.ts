// `secoda-convert test-server`: run the bundled Secoda-compatible server on loopback until
// Ctrl-C, printing the settings to upload to it — for trying uploads offline.

import type { Argv, CommandModule } from 'yargs'
import type { GlobalArgs } from '../common.js'

interface TestServerArgs extends GlobalArgs {
  integration: string[]
  dir?: string
}

export const testServerCommand: CommandModule<GlobalArgs, TestServerArgs> = {
  command: 'test-server',
  describe: 'Run the bundled Secoda-compatible test server on 127.0.0.1 until Ctrl-C (bodies go to --dir)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('integration', {
        type: 'string',
        array: true,
        default: ['demo'],
        describe: 'Names of integrations that exist from the start',
      })
      .option('dir', {
        type: 'string',
        describe: 'Where received parts are written (default: a temporary directory, removed on exit)',
      }) as unknown as Argv<TestServerArgs>,
  handler: async (argv) => {
    const { stdout, stderr, signal } = argv.io
    const { describeUpload, startTestServer } = await import('../../testing/server.js')
    const server = await startTestServer({ integrations: argv.integration.map((name) => ({ name })), dir: argv.dir })
    // The test server's own, freshly generated key: printing it is the point of this command.
    stdout.write(`export SECODA_API_URL=${server.url}\nexport SECODA_API_KEY=${server.apiKey}\n`)
    for (const i of server.integrations) stderr.write(`integration "${i.name}": ${i.id}\n`)
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
  },
}
