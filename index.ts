// secoda-convert's library API: the record model, the stream transforms, and the functions
// behind each CLI command, for scripts that compose them with pipeline().

export * from './lib/records.js'
export * from './lib/errors.js'
export { createIdBuilder, defaultIds, type IdBuilder, type IdOptions } from './lib/ids.js'
export { Report, type ReportOptions, type Summary } from './lib/report.js'
export { IdIndex, hash64 } from './lib/id-index.js'
export { openInput, gunzipIfNeeded, displayName, inputSize, isGzip, type InputOptions } from './lib/input.js'
export { Utf8Checker, createUtf8Guard } from './lib/utf8.js'
export { createAtomicWriteStream } from './lib/atomic-file.js'
export { runConversion, stdoutWriter, abortMarker, BrokenPipeError, CSV_FILE_NAME, type OutputOptions, type RunOptions } from './lib/pipeline.js'
export { readSecodaFiles, readSecodaFile, expandInputs, detectFormat, type ReadOptions, type SecodaFormat } from './lib/read-records.js'
export { main } from './lib/cli/main.js'
export { createJsonlReader, JsonlParser, ABORT_MARKER_KEY, type JsonlReaderOptions, type JsonlCounters } from './transforms/from-jsonl.js'
export { createSecodaCsvReader, SecodaCsvMapper, type SecodaCsvReaderOptions } from './transforms/from-secoda-csv.js'
export { createValidator, Validator, type ValidatorOptions } from './transforms/validate.js'
export { createJsonlWriter, createSplitJsonlWriter, SPLIT_FILES, type JsonlKind, type JsonlWriterOptions } from './transforms/to-jsonl.js'
export { createCsvWriter, CsvWriter, csvHeader, csvField, isViewType, type CsvWriterOptions, type SortOrderHeader, type CsvDropped } from './transforms/to-csv.js'
