// secoda-convert/internals: everything the stage and foundation modules export, for tests
// and power users (stage classes and their counters, the byte scanners, the id index, the
// HTTP client's pieces). No stability promise: these follow the source files and change
// with them. The CLI's modules (lib/cli/) are not here, and the test server has its own
// entry, `secoda-convert/testing`. The stable API is index.ts.

export * from './lib/records.js'
export * from './lib/errors.js'
export * from './lib/ids.js'
export * from './lib/id-index.js'
export * from './lib/report.js'
export * from './lib/input.js'
export * from './lib/utf8.js'
// two modules export a firstInvalidUtf8: the explicit export says which one this is
export { firstInvalidUtf8 } from './lib/utf8.js'
export * from './lib/atomic-file.js'
export * from './lib/stream.js'
export * from './lib/scan/csv.js'
export * from './lib/scan/json-sections.js'
export * from './lib/scan/mysql-batch.js'
export * from './lib/scan/sql-splitter.js'
export * from './transforms/from-jsonl.js'
export * from './transforms/from-secoda-csv.js'
export * from './transforms/validate.js'
export * from './transforms/to-jsonl.js'
export * from './transforms/to-csv.js'
export * from './transforms/dbt/manifest.js'
export * from './transforms/dbt/catalog.js'
export * from './transforms/sql/catalog.js'
export * from './transforms/sql/pg-dump.js'
export * from './transforms/sql/mysql-dump.js'
export * from './transforms/info-schema/columns.js'
export * from './transforms/info-schema/direct-csv.js'
export * from './lib/run/pipeline.js'
export * from './lib/run/read-records.js'
export * from './lib/upload/http.js'
export * from './lib/upload/integrations.js'
export * from './lib/upload/stale-guard.js'
export * from './lib/upload/sink.js'
