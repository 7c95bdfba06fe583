// secoda-convert's library API: the record model, the stream transforms, and the functions
// behind each CLI command, for scripts that compose them with pipeline().

export * from './lib/records.js'
export * from './lib/errors.js'
export { createIdBuilder, defaultIds, type IdBuilder, type IdOptions } from './lib/ids.js'
export { Report, type ReportOptions, type Summary } from './lib/report.js'
export { IdIndex, hash64 } from './lib/id-index.js'
export {
  openInput,
  gunzipIfNeeded,
  peekUntil,
  displayName,
  inputSize,
  isGzip,
  estimateIdsFromSize,
  type InputOptions,
} from './lib/input.js'
export { Utf8Checker, createUtf8Guard } from './lib/utf8.js'
export { createAtomicWriteStream } from './lib/atomic-file.js'
export {
  asStream,
  chain,
  iterateStage,
  stageInfo,
  type StageCore,
  type StageInfo,
  type StageMode,
  type StageStream,
  type Emit,
} from './lib/stream.js'
export {
  runConversion,
  csvBytesSource,
  stdoutWriter,
  abortMarker,
  BrokenPipeError,
  CSV_FILE_NAME,
  type OutputOptions,
  type RunOptions,
} from './lib/run/pipeline.js'
export { readSecodaFiles, readSecodaFile, expandInputs, detectFormat, type ReadOptions, type SecodaFormat } from './lib/run/read-records.js'
export { main } from './lib/cli/main.js'
export { createJsonlReader, JsonlParser, ABORT_MARKER_KEY, type JsonlReaderOptions, type JsonlInfo } from './transforms/from-jsonl.js'
export { createSecodaCsvReader, SecodaCsvMapper, type SecodaCsvReaderOptions } from './transforms/from-secoda-csv.js'
export { createValidator, Validator, type ValidatorOptions } from './transforms/validate.js'
export { createJsonlWriter, createSplitJsonlWriter, SPLIT_FILES, type JsonlKind, type JsonlWriterOptions } from './transforms/to-jsonl.js'
export {
  createCsvWriter,
  CsvWriter,
  csvHeader,
  isViewType,
  type CsvWriterOptions,
  type SortOrderHeader,
  type CsvDropped,
} from './transforms/to-csv.js'
export {
  SqlSplitter,
  splitSql,
  type SqlSplitterOptions,
  type SqlStatement,
  type SqlDialect,
  type StatementKind,
} from './lib/scan/sql-splitter.js'
export { PgDumpConverter, createPgDumpTransform, pgDumpRecords, loadPgParser, type PgDumpOptions } from './transforms/sql/pg-dump.js'
export {
  MysqlDumpConverter,
  createMysqlDumpTransform,
  mysqlDumpRecords,
  tokenizeMysql,
  type MysqlDumpOptions,
} from './transforms/sql/mysql-dump.js'
export { SqlCatalog, sqlDefinition, type RelationState, type ColumnState, type RelationKind } from './transforms/sql/catalog.js'
export {
  DbtManifestConverter,
  createDbtManifestStream,
  convertDbtManifest,
  DBT_MANIFEST_MAX_VERSION,
  type DbtManifestOptions,
} from './transforms/dbt/manifest.js'
export {
  DbtCatalog,
  DbtCatalogReader,
  readDbtCatalog,
  compactCatalogEntry,
  type CatalogTable,
  type DbtCatalogOptions,
} from './transforms/dbt/catalog.js'
export { LINEAGE_COUNTERS, type ColumnLineageOptions } from './transforms/dbt/column-lineage.js'
export {
  loadSqlParser,
  resolveQueryLineage,
  dialectOf,
  LineageFailure,
  type QueryLineage,
  type QueryLineageOptions,
  type OutputColumn,
  type ColumnSource,
  type KnownRelation,
  type RelationLookup,
} from './transforms/dbt/sql-lineage.js'
export {
  JsonSectionScanner,
  jsonErrorPosition,
  findJsonError,
  type SectionMode,
  type ScanPosition,
  type JsonSectionHandler,
  type JsonSectionScannerOptions,
  type EntryFields,
  type LazyMembers,
} from './lib/scan/json-sections.js'
export { InfoSchemaCsv, createInfoSchemaCsvConverter, type InfoSchemaCsvOptions } from './transforms/info-schema/direct-csv.js'
export {
  InfoSchemaColumns,
  createInfoSchemaColumnsReader,
  readTablesExport,
  type InfoSchemaOptions,
  type ExportFormat,
} from './transforms/info-schema/columns.js'
export { formatColumnType, nativeTableType, type TableInfo, type TablesInfo } from './transforms/info-schema/rules.js'
export { CsvScanner, parseCsv, type CsvRow, type CsvScannerOptions } from './lib/scan/csv.js'
export { quoteCsvField } from './lib/csv-quote.js'
export { MysqlBatchScanner, unescapeMysqlBatch, type MysqlBatchOptions } from './lib/scan/mysql-batch.js'
export { createUploadSink, uploadRecords, UploadSink, type UploadOptions, type UploadResult, type PartNames } from './lib/upload/sink.js'
export {
  SecodaClient,
  ApiKey,
  resolveApiSettings,
  isLoopbackHost,
  parseRetryAfter,
  REGION_URLS,
  type ApiSettings,
  type ApiSettingsInput,
  type ClientOptions,
  type Region,
  type ReplayableBody,
  type LiveBody,
  type SendRequest,
  type SendResult,
} from './lib/upload/http.js'
export {
  findOrCreateIntegration,
  listIntegrations,
  type Integration,
  type FindIntegrationOptions,
  type FoundIntegration,
} from './lib/upload/integrations.js'
export {
  StaleGuard,
  IdHashSet,
  compareSorted,
  defaultStateDir,
  type StaleCounts,
  type StaleGuardOptions,
} from './lib/upload/stale-guard.js'
export { runUpload, prepareUpload, uploadOptions, conversionUploadOptions, type UploadArgs } from './lib/cli/upload-options.js'
