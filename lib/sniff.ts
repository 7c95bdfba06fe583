// What an input is, from its first bytes: compression, archives, encodings and the text
// formats the commands read. A command given something it does not read fails with
// INPUT_FORMAT naming what the input looks like and the command or pipe that reads it,
// instead of parsing it into nothing (docs/inputs.md).

import { SecodaError } from './errors.js'

/** What the first bytes of an input look like. */
export type InputKind =
  | 'empty'
  | 'gzip'
  | 'zstd'
  | 'xz'
  | 'bzip2'
  | 'zip'
  | 'pg-custom'
  | 'pg-tar'
  | 'tar'
  | 'pg-directory'
  | 'utf16le'
  | 'utf16be'
  | 'binary'
  | 'dbt-manifest'
  | 'dbt-catalog'
  | 'dbt-run-results'
  | 'dbt-other'
  | 'json'
  | 'json-array'
  | 'secoda-jsonl'
  | 'secoda-csv'
  | 'info-schema-csv'
  | 'csv'
  | 'mysqldump-xml'
  | 'xml'
  | 'sql-postgres'
  | 'sql-mysql'
  | 'sql'
  | 'text'

/** What a command reads, for {@link checkInputKind}. */
export type InputReader = 'pg-dump' | 'mysql-dump' | 'dbt-manifest' | 'dbt-catalog' | 'secoda' | 'columns'

/** How many leading bytes {@link sniff} looks at. */
export const SNIFF_BYTES = 64 * 1024

const DESCRIPTIONS: Record<InputKind, string> = {
  empty: 'empty',
  gzip: 'gzip-compressed',
  zstd: 'zstd-compressed',
  xz: 'xz-compressed',
  bzip2: 'bzip2-compressed',
  zip: 'a zip archive',
  'pg-custom': 'a pg_dump custom-format archive (pg_dump -Fc)',
  'pg-tar': 'a pg_dump tar-format archive (pg_dump -Ft)',
  tar: 'a tar archive',
  'pg-directory': 'a pg_dump directory-format archive (pg_dump -Fd)',
  utf16le: 'UTF-16 text',
  utf16be: 'UTF-16 text',
  binary: 'binary data (it holds NUL bytes)',
  'dbt-manifest': 'a dbt manifest.json',
  'dbt-catalog': 'a dbt catalog.json',
  'dbt-run-results': 'a dbt run_results.json',
  'dbt-other': 'a dbt artifact',
  json: 'JSON',
  'json-array': 'a JSON array',
  'secoda-jsonl': 'Secoda JSONL',
  'secoda-csv': 'a Secoda columns CSV',
  'info-schema-csv': 'an information_schema CSV export',
  csv: 'CSV',
  'mysqldump-xml': 'a mysqldump --xml file',
  xml: 'XML',
  'sql-postgres': 'a PostgreSQL dump',
  'sql-mysql': 'a MySQL/MariaDB dump',
  sql: 'SQL',
  text: 'text that is neither SQL, JSON nor CSV',
}

/** Words for a kind in messages ("a pg_dump custom-format archive"). */
export function describeKind(kind: InputKind): string {
  return DESCRIPTIONS[kind]
}

const SQL_START =
  /^(?:--|\/\*|#|\\|;|\(|mysqldump: |(?:set|create|drop|alter|comment|begin|start|commit|rollback|select|insert|replace|copy|grant|revoke|use|lock|unlock|delimiter|with|update|delete|truncate|call|do|values|savepoint|release|prompt|connect|source|show|analyze|vacuum|reindex|cluster|refresh|security|declare|rename|load|flush|optimize|repair|check|handler|explain|describe|prepare|execute|deallocate|reset|discard|notify|listen|abort|end|checkpoint|import)\b)/i

const PG_HEADER = /^-- PostgreSQL database (?:cluster )?dump\b/m
const MYSQL_HEADER = /^(?:\/\*M?!999999\\- enable the sandbox mode \*\/|-- (?:MySQL|MariaDB) dump\b|mysqldump: )/m

/** Count of matches of a global regex in `text`, stopping at `cap`. */
function count(re: RegExp, text: string, cap = 50): number {
  let n = 0
  re.lastIndex = 0
  while (re.exec(text) !== null && ++n < cap) {}
  return n
}

/** PostgreSQL vs MySQL from the text of a dump without a recognised header. */
function dialectOf(text: string): 'sql-postgres' | 'sql-mysql' | 'sql' {
  if (PG_HEADER.test(text)) return 'sql-postgres'
  if (MYSQL_HEADER.test(text)) return 'sql-mysql'
  const my =
    count(/`[^`\n]{1,64}`/g, text) +
    3 * count(/\/\*!\d{5}/g, text) +
    3 * count(/\bENGINE\s*=/gi, text) +
    3 * count(/\bAUTO_INCREMENT\b/gi, text) +
    3 * count(/^LOCK TABLES\b/gim, text) +
    3 * count(/^SET NAMES\b/gim, text)
  const pg =
    3 * count(/::[a-z]/gi, text) +
    3 * count(/\bpg_catalog\./g, text) +
    3 * count(/\bOWNER TO\b/g, text) +
    3 * count(/\bFROM stdin;/g, text) +
    3 * count(/^\\connect\b/gm, text) +
    3 * count(/^SET search_path\b/gm, text) +
    count(/\$\$/g, text)
  if (my >= 3 && pg === 0) return 'sql-mysql'
  if (pg >= 3 && my === 0) return 'sql-postgres'
  if (my >= 6 && my >= 4 * pg) return 'sql-mysql'
  if (pg >= 6 && pg >= 4 * my) return 'sql-postgres'
  return 'sql'
}

/** The names of a CSV header line, lower-cased and unquoted (a rough split: enough to classify). */
function headerNames(line: string): string[] {
  const sep = line.includes(',') ? ',' : line.includes('\t') ? '\t' : ';'
  return line.split(sep).map((f) => f.trim().replace(/^"|"$/g, '').replace(/""/g, '"').toLowerCase())
}

/** The kind of JSON whose first bytes are `text` (starting at `{`). */
function jsonKind(text: string, complete: boolean): InputKind {
  const version = /"dbt_schema_version"\s*:\s*"[^"]*\/(manifest|catalog|run-results)\/v\d+/.exec(text.slice(0, 16384))
  if (version) return version[1] === 'manifest' ? 'dbt-manifest' : version[1] === 'catalog' ? 'dbt-catalog' : 'dbt-run-results'
  if (/"dbt_schema_version"\s*:/.test(text.slice(0, 16384))) return 'dbt-other'
  const nl = text.indexOf('\n')
  const first = nl === -1 ? (complete ? text : undefined) : text.slice(0, nl)
  if (first !== undefined) {
    try {
      const v = JSON.parse(first) as unknown
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const o = v as Record<string, unknown>
        if (
          'entity_type' in o ||
          'from_identifier' in o ||
          'to_identifier' in o ||
          'from_databuilder_id' in o ||
          Object.keys(o).some((k) => k.startsWith('__secoda_convert'))
        )
          return 'secoda-jsonl'
      }
    } catch {
      // not one object per line (or a line the reader will report)
    }
  }
  return 'json'
}

/**
 * Classify an input from its first bytes (up to {@link SNIFF_BYTES}); `complete` when they
 * are the whole input. Compressed inputs are classified by their signature alone.
 */
export function sniff(head: Buffer, complete = false): InputKind {
  const b = head
  if (b.length === 0) return 'empty'
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip'
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd'
  if (b.length >= 6 && b[0] === 0xfd && b.toString('latin1', 1, 6) === '7zXZ\0') return 'xz'
  if (
    b.length >= 10 &&
    b.toString('latin1', 0, 3) === 'BZh' &&
    b[3]! >= 0x31 &&
    b[3]! <= 0x39 &&
    b.toString('hex', 4, 10) === '314159265359'
  )
    return 'bzip2'
  if (b.length >= 4 && b.toString('latin1', 0, 4) === 'PK\x03\x04') return 'zip'
  if (b.length >= 5 && b.toString('latin1', 0, 5) === 'PGDMP') return 'pg-custom'
  if (b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar') {
    return b.toString('latin1', 0, 100).replace(/\0.*$/s, '') === 'toc.dat' ? 'pg-tar' : 'tar'
  }
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf16le'
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf16be'
  // UTF-16 without a byte order mark: ASCII text with every other byte NUL
  if (b.length >= 4 && b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return 'utf16le'
  if (b.length >= 4 && b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return 'utf16be'
  if (b.subarray(0, 4096).includes(0)) return 'binary'
  let text = b.toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  const start = text.search(/\S/)
  if (start === -1) return complete ? 'empty' : 'text'
  text = text.slice(start)
  const c = text[0]
  if (c === '{') return jsonKind(text, complete)
  if (c === '[') return 'json-array'
  if (c === '<') return /<mysqldump\b/.test(text.slice(0, 4096)) ? 'mysqldump-xml' : 'xml'
  if (SQL_START.test(text)) {
    // a CSV whose first header name is a SQL word ("comment,...") is still CSV
    const line = text.slice(0, text.search(/\r|\n|$/))
    if (!/[,\t]/.test(line) || /\s/.test(line.replace(/"[^"]*"/g, ''))) return dialectOf(text)
  }
  const nl = text.search(/\r\n|\n|\r/)
  const line = nl === -1 ? text : text.slice(0, nl)
  if (/[,\t;]/.test(line)) {
    const names = headerNames(line)
    if (names.includes('col_name') && names.includes('name') && names.includes('database')) return 'secoda-csv'
    if (names.includes('table_name') && (names.includes('column_name') || names.includes('table_type'))) return 'info-schema-csv'
    return 'csv'
  }
  return 'text'
}

/** What reads a kind: a command, or a pipe into one, with FILE for the input's name. */
function readerOf(kind: InputKind): string | undefined {
  switch (kind) {
    case 'zstd':
      return 'zstd -dc FILE | secoda-convert COMMAND -'
    case 'xz':
      return 'xz -dc FILE | secoda-convert COMMAND -'
    case 'bzip2':
      return 'bzip2 -dc FILE | secoda-convert COMMAND -'
    case 'zip':
      return 'unzip -p FILE | secoda-convert COMMAND -'
    case 'pg-custom':
    case 'pg-tar':
    case 'pg-directory':
      return 'pg_restore --schema-only -f - FILE | secoda-convert pg-dump -'
    case 'tar':
      return 'tar -xOf FILE MEMBER | secoda-convert COMMAND -'
    case 'utf16le':
    case 'utf16be':
      return 'iconv -f UTF-16 -t UTF-8 FILE | secoda-convert COMMAND -'
    case 'dbt-manifest':
      return 'secoda-convert dbt FILE'
    case 'dbt-catalog':
      return 'secoda-convert dbt manifest.json --catalog FILE'
    case 'secoda-jsonl':
    case 'secoda-csv':
      return 'secoda-convert validate FILE (or convert, upload)'
    case 'info-schema-csv':
      return 'secoda-convert columns FILE'
    case 'mysqldump-xml':
      return 'mysqldump without --xml, then secoda-convert mysql-dump FILE'
    case 'sql-postgres':
      return 'secoda-convert pg-dump FILE'
    case 'sql-mysql':
      return 'secoda-convert mysql-dump FILE'
    default:
      return undefined
  }
}

const ACCEPTS: Record<InputReader, readonly InputKind[]> = {
  'pg-dump': ['sql-postgres', 'sql', 'empty'],
  'mysql-dump': ['sql-mysql', 'sql', 'empty'],
  // the dbt readers say themselves which artifact they got (DBT_WRONG_ARTIFACT)
  'dbt-manifest': ['dbt-manifest', 'dbt-catalog', 'dbt-run-results', 'dbt-other', 'json', 'secoda-jsonl', 'empty'],
  'dbt-catalog': ['dbt-manifest', 'dbt-catalog', 'dbt-run-results', 'dbt-other', 'json', 'secoda-jsonl', 'empty'],
  // JSON that is not one record per line, and CSV without Secoda's header, are reported by the readers
  secoda: ['secoda-jsonl', 'secoda-csv', 'json', 'json-array', 'csv', 'text', 'empty'],
  columns: ['info-schema-csv', 'csv', 'text', 'empty'],
}

const COMMAND_OF: Record<InputReader, string> = {
  'pg-dump': 'pg-dump',
  'mysql-dump': 'mysql-dump',
  'dbt-manifest': 'dbt',
  'dbt-catalog': 'dbt',
  secoda: 'validate',
  columns: 'columns',
}

const READS: Record<InputReader, string> = {
  'pg-dump': 'plain SQL dumps of PostgreSQL',
  'mysql-dump': 'plain SQL dumps of MySQL/MariaDB',
  'dbt-manifest': 'a dbt manifest.json',
  'dbt-catalog': 'a dbt catalog.json as --catalog',
  secoda: 'Secoda JSONL or the Secoda columns CSV',
  columns: 'information_schema CSV or mysql --batch exports',
}

/**
 * Throw INPUT_FORMAT unless `reader` reads inputs of `kind`; the message names what the
 * input looks like and what reads it.
 */
export function checkInputKind(kind: InputKind, reader: InputReader, file: string): void {
  if (ACCEPTS[reader].includes(kind)) return
  const how = readerOf(kind)
  const name = file === '<stdin>' ? '-' : file
  const command = COMMAND_OF[reader]
  const reads = READS[reader]
  const hint = how === undefined ? '' : `; read it with: ${how.replace(/FILE/g, shellWord(name)).replace('COMMAND', command)}`
  throw new SecodaError('INPUT_FORMAT', `${file} is ${describeKind(kind)}; \`${command}\` reads ${reads}${hint}`, { file })
}

function shellWord(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}
