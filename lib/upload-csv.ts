// Secoda records → columns-CSV text, as a stream-free encoder the upload sink calls per
// record. A minimal stand-in for main's transforms/to-csv.ts writer (which it is meant to be
// swapped for): one row per column, table fields taken from the table seen before it.

import { SecodaError } from './errors.js'
import { recordSource, type Resource, type SecodaRecord } from './records.js'

/** Turns records into text, one call per record; `end()` returns what is left. */
export interface RecordEncoder {
  push(record: SecodaRecord): string
  end(): string
}

/** Options of {@link createCsvEncoder}. */
export interface CsvEncoderOptions {
  /** Name of the sort column (the docs disagree: `col_sort_order` or `sort_order`). Default `col_sort_order`. */
  sortOrderHeader?: string
}

interface TableRow {
  database: string
  schema: string
  name: string
  description: string
  isView: string
  updated: string
}

function field(v: string): string {
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

function epochSeconds(iso: string | undefined): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  return Number.isNaN(t) ? '' : String(Math.floor(t / 1000))
}

/**
 * Columns-CSV encoder. Tables must come before their columns (every source emits them in
 * that order); records the CSV cannot carry (lineage, other entity types) give no row.
 */
export function createCsvEncoder(options: CsvEncoderOptions = {}): RecordEncoder {
  const tables = new Map<string, TableRow>()
  let headerDone = false
  const header = `col_name,col_description,col_type,${field(options.sortOrderHeader ?? 'col_sort_order')},database,schema,name,description,is_view,last_updated_time\n`
  return {
    push(r: SecodaRecord): string {
      let out = ''
      if (!headerDone) {
        headerDone = true
        out = header
      }
      const res = r as Resource
      if (res.entity_type === 'table') {
        tables.set(res.databuilder_id, {
          database: res.database ?? '', schema: res.schema ?? '', name: res.title ?? res.databuilder_id.split('.').pop()!,
          description: res.description ?? '', isView: /view/i.test(res.native_type ?? '') ? 'true' : 'false', updated: epochSeconds(res.external_updated_at),
        })
      } else if (res.entity_type === 'column') {
        const t = res.parent_databuilder_id === undefined ? undefined : tables.get(res.parent_databuilder_id)
        if (!t) {
          const src = recordSource(r)
          throw new SecodaError('CSV_NO_PARENT', `column ${res.databuilder_id} cannot be written to CSV: its table ${res.parent_databuilder_id ?? '(none)'} did not come before it`, { file: src?.file, line: src?.line, databuilderId: res.databuilder_id })
        }
        const name = res.title ?? res.databuilder_id.split('.').pop()!
        out += [name, res.description ?? '', res.type ?? '', String(res.sort_order ?? 0), t.database, t.schema, t.name, t.description, t.isView, t.updated].map(field).join(',') + '\n'
      }
      return out
    },
    end(): string {
      return headerDone ? '' : header
    },
  }
}
