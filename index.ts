// secoda-convert's library API: the record model, one stream factory per source, the
// readers, validator and writers, and the functions behind the CLI commands, for scripts
// that compose the stages with pipeline(). Everything else (stage classes, scanners, CLI
// plumbing) is behind `secoda-convert/internals`, which follows the source files and may
// change in any release. The README's "Library" table lists exactly these names.

// the record model
export { isLineage, serializeRecord, type LineageEdge, type LineageId, type Resource, type SecodaRecord } from './lib/records.js'
export { createIdBuilder, type IdBuilder } from './lib/ids.js'
// errors, diagnostics and the error policy
export { CODES, SecodaError, isSecodaError, type Diagnostic, type ErrorCode } from './lib/errors.js'
export { Report, type Summary } from './lib/report.js'
// input: files or stdin, gzip detected
export { openInput } from './lib/input.js'
// sources: bytes → records (or, for the direct columns path, → Secoda CSV bytes)
export { createDbtManifestStream } from './transforms/dbt/manifest.js'
export { readDbtCatalog } from './transforms/dbt/catalog.js'
export { createPgDumpTransform } from './transforms/sql/pg-dump.js'
export { createMysqlDumpTransform } from './transforms/sql/mysql-dump.js'
export { createInfoSchemaColumnsReader, readTablesExport } from './transforms/info-schema/columns.js'
export { createInfoSchemaCsvConverter } from './transforms/info-schema/direct-csv.js'
// the Secoda-format stages: readers, validator, writers
export { createJsonlReader } from './transforms/from-jsonl.js'
export { createSecodaCsvReader } from './transforms/from-secoda-csv.js'
export { createValidator } from './transforms/validate.js'
export { createJsonlWriter, createSplitJsonlWriter } from './transforms/to-jsonl.js'
export { createCsvWriter } from './transforms/to-csv.js'
export { createAtomicWriteStream } from './lib/atomic-file.js'
// the stage protocol: a stream-free core → a Transform, two cores → one, a core → an async generator
export { asStream, chain, iterateStage, stageInfo, type StageCore, type StageInfo } from './lib/stream.js'
// what the commands run
export { csvBytesSource, runConversion } from './lib/run/pipeline.js'
export { readSecodaFiles } from './lib/run/read-records.js'
export { main } from './lib/cli/main.js'
// the uploader
export { createUploadSink, uploadRecords, type UploadOptions, type UploadResult } from './lib/upload/sink.js'
export { SecodaClient, resolveApiSettings } from './lib/upload/http.js'
export { findOrCreateIntegration } from './lib/upload/integrations.js'
