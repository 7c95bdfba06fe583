// `secoda-convert dbt <manifest.json> [--catalog catalog.json]`: dbt artifacts → Secoda
// tables, columns, exposure dashboards and lineage (transforms/dbt/manifest.ts).

import { pipeline } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import type { Argv, CommandModule } from 'yargs'
import { SecodaError } from '../../errors.js'
import { displayName, estimateIdsFromSize, openSource } from '../../input.js'
import { readDbtCatalog } from '../../../transforms/dbt/catalog.js'
import { createDbtManifestStream } from '../../../transforms/dbt/manifest.js'
import { loadSqlParser } from '../../../transforms/dbt/sql-lineage.js'
import { type ConversionArgs, type GlobalArgs, conversionOptions, openCommandInput, runSourceCommand } from '../common.js'

interface DbtArgs extends ConversionArgs {
  manifest: string
  catalog?: string
  'column-lineage'?: boolean
  'inherit-descriptions'?: boolean
  'lineage-time-limit'?: number
}

/**
 * Bytes of manifest per resource id, a little below what dbt projects with many columns
 * show (the benchmark's generated manifest: ~910; real manifests carry more SQL per node,
 * so fewer ids per byte), so that the validator's id index rarely has to grow.
 */
const MANIFEST_BYTES_PER_ID = 850

export const dbtCommand: CommandModule<GlobalArgs, DbtArgs> = {
  command: 'dbt [manifest]',
  describe: 'Convert a dbt manifest.json (schema v1–v12), joined with catalog.json, into tables, columns, exposure dashboards and lineage',
  builder: (y: Argv<GlobalArgs>) =>
    conversionOptions(y)
      .positional('manifest', { type: 'string', default: '-', describe: 'manifest.json from target/ (- or none: stdin; gzip is detected)' })
      .option('catalog', { type: 'string', describe: 'catalog.json from `dbt docs generate`: column types, order and warehouse comments' })
      .option('column-lineage', {
        type: 'boolean',
        default: false,
        describe: "Column → column lineage from each model's compiled SQL, resolved against the catalog's columns",
      })
      .option('inherit-descriptions', {
        type: 'boolean',
        default: false,
        describe: "With --column-lineage: an undocumented column passed through unchanged takes its upstream column's description",
      })
      .option('lineage-time-limit', {
        type: 'number',
        default: 2000,
        describe: 'With --column-lineage: milliseconds one model may take; beyond it, its columns are reported unresolved',
      })
      .example(
        '$0 dbt target/manifest.json --catalog target/catalog.json --column-lineage --out-dir out/',
        '→ with column → column lineage',
      )
      .example('$0 dbt target/manifest.json --catalog target/catalog.json --out-dir out/', '→ out/resources.jsonl + out/lineage.jsonl')
      .example('$0 dbt target/manifest.json --to csv -o columns.csv', '→ the Secoda columns CSV (no lineage)')
      .example('gzip -dc manifest.json.gz | $0 dbt - > resources.jsonl', 'read stdin') as unknown as Argv<DbtArgs>,
  handler: async (argv) => {
    // yargs hands a positional '-' over as ''.
    const manifest = argv.manifest === '' ? '-' : argv.manifest
    argv.run.exitCode = await runSourceCommand(argv, argv.catalog === undefined ? [manifest] : [manifest, argv.catalog], async (ctx) => {
      if (manifest === '-' && argv.catalog === '-')
        throw new SecodaError('USAGE', 'the manifest and --catalog cannot both be read from stdin')
      const inputOptions = ctx.input
      // The catalog is read whole first (it is the small one): the manifest's nodes join on it as they stream.
      const catalog =
        argv.catalog === undefined
          ? undefined
          : await readDbtCatalog(await openSource(argv.catalog, { ...inputOptions, expect: 'dbt-catalog' }), {
              report: ctx.report,
              file: displayName(argv.catalog),
            })
      if (catalog?.schemaVersion !== undefined) ctx.report.notes['dbt.catalog_schema_version'] = catalog.schemaVersion
      if (argv['inherit-descriptions'] === true && argv['column-lineage'] !== true)
        throw new SecodaError('USAGE', '--inherit-descriptions needs --column-lineage')
      const timeLimit = argv['lineage-time-limit'] ?? 2000
      if (!(timeLimit > 0))
        throw new SecodaError('USAGE', `--lineage-time-limit must be a positive number of milliseconds, got ${String(timeLimit)}`)
      if (argv['column-lineage'] === true) {
        // The SQL parser is a 3.5 MB WebAssembly module. V8's optimizing tier recompiles its
        // hot functions at a cost of ~60 MB of RSS and more CPU than it saves on a project
        // of hundreds of models; the baseline compiler alone is faster here (docs/dbt.md,
        // "Column lineage"). Process-wide, so set by the CLI, which owns the process.
        if (!/--(?:no-)?liftoff/.test(`${process.env['NODE_OPTIONS'] ?? ''} ${process.execArgv.join(' ')}`))
          setFlagsFromString('--liftoff-only')
        await loadSqlParser()
      }
      const input = await openCommandInput(ctx, manifest, 'dbt-manifest')
      const expectedIds = await estimateIdsFromSize([manifest], MANIFEST_BYTES_PER_ID)
      if (expectedIds !== undefined) ctx.expectedIds = expectedIds
      const converter = createDbtManifestStream({
        report: ctx.report,
        ids: ctx.ids,
        file: displayName(manifest),
        ...(catalog !== undefined ? { catalog } : {}),
        ...(argv['column-lineage'] === true
          ? { columnLineage: { inheritDescriptions: argv['inherit-descriptions'] === true, timeLimitMs: timeLimit } }
          : {}),
      })
      // pipeline() destroys the converter with the input's error (missing file, bad gzip).
      return pipeline(input, converter, () => {})
    })
  },
}
