// The upload flags (shared by `upload` and every conversion command's `--upload`), and
// turning them into a ready upload sink: settings and key resolved, integration found or
// created, stale guard configured. Printing of the outcome lives here too.

import type { Argv } from 'yargs'
import { SecodaError } from '../errors.js'
import type { SecodaClient } from '../upload/http.js'
import { runConversion } from '../run/pipeline.js'
import type { Report, Summary } from '../report.js'
import type { SecodaRecord } from '../records.js'
import type { Readable } from 'node:stream'
import type { UploadProgress, UploadResult, UploadSink } from '../upload/sink.js'
import type { GlobalArgs } from './io.js'

/** The upload flags. */
export interface UploadArgs extends GlobalArgs {
  integration?: string
  'integration-name'?: string
  create?: boolean
  team?: string[]
  'api-url'?: string
  region?: 'us' | 'eu' | 'apac'
  'api-key-file'?: string
  'api-key'?: string
  spool?: boolean
  chunked?: boolean
  'allow-empty'?: boolean
  'max-wait': number
  'rate-window-ms'?: number
  'empty-lineage-part'?: boolean
  'sort-order-header'?: 'col_sort_order' | 'sort_order'
  'dry-run'?: boolean
  'state-dir'?: string
  'max-stale': string
  'allow-stale'?: boolean
  'resources-part': string
  'lineage-part': string
  'csv-part': string
  timeout: number
  retries: number
}

/** Add the upload flags to a command. */
export function uploadOptions<T>(y: Argv<T>): Argv<T & UploadArgs> {
  return y
    .option('integration', { type: 'string', describe: 'Id of the custom integration to upload to', group: 'Upload:' })
    .option('integration-name', { type: 'string', describe: 'Find the integration by name instead (paged lookup)', group: 'Upload:' })
    .conflicts('integration', 'integration-name')
    .option('create', {
      type: 'boolean',
      describe: 'With --integration-name: create the custom integration when missing',
      group: 'Upload:',
    })
    .option('team', { type: 'string', array: true, describe: 'With --create: team id(s) for the new integration', group: 'Upload:' })
    .option('api-url', {
      type: 'string',
      describe: 'API base URL, e.g. https://secoda.example.com/api/v1 (default: SECODA_API_URL, else the US region)',
      group: 'Upload:',
    })
    .option('region', { choices: ['us', 'eu', 'apac'] as const, describe: 'Secoda region (api / eapi / aapi.secoda.co)', group: 'Upload:' })
    .conflicts('api-url', 'region')
    .option('api-key-file', { type: 'string', describe: 'File holding the API key (default: SECODA_API_KEY)', group: 'Upload:' })
    .option('api-key', {
      type: 'string',
      describe: 'API key (discouraged: visible in shell history and process lists)',
      group: 'Upload:',
      hidden: true,
    })
    .option('chunked', {
      type: 'boolean',
      describe:
        'Stream the upload live with chunked transfer encoding instead of spooling it to temporary files and sending it with Content-Length (not retryable; only for servers known to accept chunked bodies)',
      group: 'Upload:',
    })
    .option('spool', {
      type: 'boolean',
      describe: 'Spool to temporary files and send with Content-Length (the default; kept for old scripts)',
      group: 'Upload:',
      hidden: true,
    })
    .conflicts('chunked', 'spool')
    .option('allow-empty', {
      type: 'boolean',
      describe: 'Send an upload without resources (a sync that archives everything in the integration); refused otherwise',
      group: 'Upload:',
    })
    .option('empty-lineage-part', {
      type: 'boolean',
      describe: 'JSONL: send the lineage part even when there are no lineage edges (left out by default: servers reject empty file parts)',
      group: 'Upload:',
    })
    .option('dry-run', {
      type: 'boolean',
      describe: 'Do everything but send: validate, encode, run the stale check, report',
      group: 'Upload:',
    })
    .option('state-dir', {
      type: 'string',
      describe:
        'Where the stale guard keeps what each integration last received (default: $XDG_CACHE_HOME/secoda-convert or ~/.cache/secoda-convert)',
      group: 'Upload:',
    })
    .option('max-stale', {
      type: 'string',
      default: '10%',
      describe:
        "Refuse an upload carrying fewer than (1 - this) x the resources the integration holds on the server, or missing more than this share of the ids this machine's previous upload sent (e.g. 10% or 0.1)",
      group: 'Upload:',
    })
    .option('allow-stale', {
      type: 'boolean',
      describe: 'Upload even when a stale guard objects (server count and local state), or when the server count cannot be read',
      group: 'Upload:',
    })
    .option('resources-part', {
      type: 'string',
      default: 'resources_file',
      describe: 'Multipart field name of resources.jsonl',
      group: 'Upload:',
    })
    .option('lineage-part', {
      type: 'string',
      default: 'lineages_file',
      describe: 'Multipart field name of lineage.jsonl',
      group: 'Upload:',
    })
    .option('csv-part', { type: 'string', default: 'file', describe: 'Multipart field name of the CSV', group: 'Upload:' })
    .option('timeout', {
      type: 'number',
      default: 300,
      describe: 'Seconds to wait for the server (answer headers, and between answer chunks)',
      group: 'Upload:',
    })
    .option('retries', {
      type: 'number',
      default: 4,
      describe: 'Retries of 429/502/503/504 and connection resets (not for --chunked live bodies)',
      group: 'Upload:',
    })
    .option('max-wait', {
      type: 'number',
      default: 120,
      describe: 'Seconds one request may spend waiting between retries in total (a 429 waits for the 60 s rate window)',
      group: 'Upload:',
    })
    .option('rate-window-ms', {
      type: 'number',
      describe: "Length of the server's rate window in ms (tests; Secoda's is 60000)",
      group: 'Upload:',
      hidden: true,
    }) as unknown as Argv<T & UploadArgs>
}

/** Records to upload: a stream, or an async iterable. */
export type RecordSource = Readable | AsyncIterable<SecodaRecord>

/** For conversion commands: `--upload` plus the upload flags. */
export function conversionUploadOptions<T>(y: Argv<T>): Argv<T & UploadArgs & { upload?: boolean }> {
  return uploadOptions(y).option('upload', {
    type: 'boolean',
    describe: 'Upload the validated output to Secoda instead of writing it (needs --integration or --integration-name)',
    group: 'Upload:',
  }) as unknown as Argv<T & UploadArgs & { upload?: boolean }>
}

/**
 * Validate `source` and upload it: the `--upload` path of a conversion command and the body
 * of `upload`. Prints the result (or that nothing was synced) on stderr; rethrows failures
 * for the caller's reportFailure.
 */
export async function runUpload(
  argv: UploadArgs,
  source: RecordSource | (() => RecordSource | Promise<RecordSource>),
  report: Report,
  format: 'jsonl' | 'csv',
): Promise<Summary> {
  argv.run.uploading = true
  const prepared = await prepareUpload(argv, format, report)
  try {
    // A factory is called only now: inputs are opened once the target is known to exist.
    const records = typeof source === 'function' ? await source() : source
    const summary = await runConversion(records, { report, sink: prepared.sink, signal: argv.io.signal, output: { to: format } })
    prepared.printResult()
    return summary
  } catch (err) {
    // Accepted by the server but the stale-guard state failed: say what was uploaded.
    if (prepared.sink.result) prepared.printResult()
    else if (!argv.quiet && !argv['dry-run']) argv.io.stderr.write(failureOutcome(prepared.sink.progress, err))
    throw err
  } finally {
    if (prepared.sink.result) argv.run.upload = prepared.sink.result
    await prepared.close()
  }
}

/**
 * What a failed upload means for the integration, told truthfully: "nothing was synced"
 * only when the closing boundary never went out; otherwise what the server said to the
 * complete body and whether it was retried.
 */
export function failureOutcome(progress: UploadProgress, err: unknown): string {
  if (!progress.closingBoundarySent) return 'nothing was synced: the upload was stopped before its end (no closing boundary was sent)\n'
  // http.ts's httpStatusOf, read directly: importing http.js here would load undici for every command
  const st = (err as { status?: unknown } | undefined)?.status
  const status = typeof st === 'number' ? st : undefined
  const tries = `${progress.attempts} attempt${progress.attempts === 1 ? '' : 's'}${progress.attempts > 1 ? ' (retried)' : ' (not retried)'}`
  if (status !== undefined && status < 500)
    return `Secoda refused the complete upload: HTTP ${status} after ${tries}; a refused upload is not a sync\n`
  return `the complete upload was sent but ${status !== undefined ? `Secoda answered HTTP ${status}` : 'no answer came'} after ${tries}: whether Secoda started a sync is unknown; check the integration in Secoda before retrying\n`
}

/** Parse --max-stale: `10%`, `0.1`, or `10` (read as percent when > 1). */
export function parseMaxStale(v: string | number): number {
  const s = String(v).trim()
  const n = Number(s.endsWith('%') ? s.slice(0, -1) : s)
  if (s === '' || !Number.isFinite(n) || n < 0) throw new SecodaError('USAGE', `--max-stale must be a share like 10% or 0.1: got "${s}"`)
  const share = s.endsWith('%') || n > 1 ? n / 100 : n
  if (share > 1) throw new SecodaError('USAGE', `--max-stale cannot exceed 100%: got "${s}"`)
  return share
}

/** What {@link prepareUpload} returns. */
export interface PreparedUpload {
  sink: UploadSink
  client: SecodaClient
  integrationId: string
  /** Print the result (call after the pipeline resolved). */
  printResult(): void
  /** Close the client's connections. */
  close(): Promise<void>
}

/**
 * Resolve settings, find or create the integration, and build the upload sink. For the
 * `--upload` flag of conversion commands: put `sink` into runConversion's `sink` option.
 */
export async function prepareUpload(argv: UploadArgs, format: 'jsonl' | 'csv', report?: Report): Promise<PreparedUpload> {
  const { stderr, env, signal } = argv.io
  if (argv.integration === undefined && argv['integration-name'] === undefined) {
    throw new SecodaError('USAGE', 'say where to upload: --integration ID or --integration-name NAME')
  }
  if (argv.create && argv['integration-name'] === undefined) throw new SecodaError('USAGE', '--create needs --integration-name')
  if (!(argv.retries >= 0) || !(argv.timeout > 0)) throw new SecodaError('USAGE', '--retries must be ≥ 0 and --timeout > 0')
  const maxWait = argv['max-wait'] ?? 120
  if (!(maxWait >= 0)) throw new SecodaError('USAGE', `--max-wait must be ≥ 0 seconds: got ${argv['max-wait']}`)
  const maxStale = parseMaxStale(argv['max-stale'])
  // loaded only now: the HTTP client (undici) takes ~0.2 s of CPU to load, which every
  // conversion without --upload would otherwise pay at startup
  const { SecodaClient, resolveApiSettings } = await import('../upload/http.js')
  const { createUploadSink } = await import('../upload/sink.js')
  const settings = resolveApiSettings({
    apiUrl: argv['api-url'],
    region: argv.region,
    apiKeyFile: argv['api-key-file'],
    apiKey: argv['api-key'],
    env,
    // A dry run to a known integration id talks to no server, so it needs no key.
    keyOptional: argv['dry-run'] === true && argv.integration !== undefined,
  })
  for (const w of settings.warnings) stderr.write(`warning UPLOAD_CONFIG ${w}\n`)
  const client = new SecodaClient(settings, {
    maxAttempts: argv.retries + 1,
    headersTimeoutMs: argv.timeout * 1000,
    bodyTimeoutMs: argv.timeout * 1000,
    debug: argv.verbose ? (line) => stderr.write(`debug ${line}\n`) : undefined,
    notice: argv.quiet ? undefined : (line) => stderr.write(`waiting: ${line}\n`),
    maxWaitMs: maxWait * 1000,
    rateWindowMs: argv['rate-window-ms'],
  })
  try {
    let integrationId = argv.integration
    const { checkCustomIntegration, findOrCreateIntegration } = await import('../upload/integrations.js') // on use, like http.js
    if (integrationId === undefined) {
      const name = argv['integration-name']!
      const found = await findOrCreateIntegration(client, name, { create: argv.create, teams: argv.team, dryRun: argv['dry-run'], signal })
      integrationId = found.id
      if (!argv.quiet) stderr.write(`integration "${name}": ${found.id}${found.created ? (argv['dry-run'] ? '' : ' (created)') : ''}\n`)
    } else if (settings.key) {
      // Only custom integrations take uploads: a sync into a native one archives its resources.
      await checkCustomIntegration(client, integrationId, signal)
    }
    // A dry run without a key, or into an integration it would create, has no count to ask for.
    const serverGuard = settings.key !== undefined && !integrationId.startsWith('(dry run')
    if (!serverGuard && !argv.quiet)
      stderr.write(
        settings.key === undefined
          ? 'note: dry run without an API key: the integration type and the server-side stale guard are not checked\n'
          : 'note: dry run for an integration that would be created: it holds nothing, so the server-side stale guard has nothing to check\n',
      )
    const sink = createUploadSink({
      client,
      integrationId,
      format,
      report,
      signal,
      parts: { resources: argv['resources-part'], lineage: argv['lineage-part'], csv: argv['csv-part'] },
      chunked: argv.chunked,
      allowEmpty: argv['allow-empty'],
      emptyLineagePart: argv['empty-lineage-part'],
      serverGuard,
      sortOrderHeader: argv['sort-order-header'],
      dryRun: argv['dry-run'],
      stale: { stateDir: argv['state-dir'], maxStale, allowStale: argv['allow-stale'] },
    })
    const id = integrationId
    return {
      sink,
      client,
      integrationId: id,
      printResult() {
        const r = sink.result
        if (!r) return
        if (!argv.quiet && !argv.json) stderr.write(formatUploadResult(r))
      },
      close: () => client.close(),
    }
  } catch (e) {
    await client.close()
    throw e
  }
}

/** The human summary of an upload, for stderr. */
export function formatUploadResult(r: UploadResult): string {
  const what = `${r.resources} resource${r.resources === 1 ? '' : 's'}${r.endpoint === 'import_jsonl_metadata' ? ` and ${r.lineage} lineage edge${r.lineage === 1 ? '' : 's'}` : ''}`
  let s = r.dryRun
    ? `dry run: would upload ${what} (${r.bytes} bytes) to integration ${r.integrationId} (${r.endpoint}/); nothing was sent\n`
    : `uploaded ${what} (${r.bytes} bytes, ${r.framing}${r.attempts > 1 ? `, ${r.attempts} attempts` : ''}) to integration ${r.integrationId}: HTTP ${r.status}\n`
  if (r.server && 'previous' in r.server) {
    s += `server-side guard: the integration held ${r.server.previous} resources; this upload carries ${r.server.uploading}\n`
  } else if (r.server) s += `server-side guard skipped: ${r.server.skipped}\n`
  if (r.endpoint === 'import_jsonl_metadata' && r.lineagePart === false) s += 'no lineage edges: the lineage part was left out\n'
  if (r.stale) {
    s += `local stale guard: ${r.stale.added} added, ${r.stale.kept} kept, ${r.stale.archived} ${r.dryRun ? 'would be archived' : 'will be archived by Secoda'}${r.stale.previous === 0 ? " (compared with nothing: this machine's state holds no earlier upload to this integration)" : ' (compared with the ids of the previous upload from this state directory)'}\n`
  }
  if (r.response) {
    const text = r.response.replace(/\s+/g, ' ').trim()
    s += `server: ${text.length > 500 ? text.slice(0, 500) + '…' : text}\n`
  }
  return s
}
