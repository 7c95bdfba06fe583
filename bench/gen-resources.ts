// Generates a resources.jsonl shaped like a warehouse catalog: tables with descriptions,
// each followed by its columns (types, descriptions, sort order), ~270 bytes a record.
// Used by bench/validate.ts; deterministic for a given record count.

import { createWriteStream } from 'node:fs'
import { once } from 'node:events'

const WORDS = [
  'customer',
  'order',
  'amount',
  'status',
  'created',
  'updated',
  'region',
  'product',
  'revenue',
  'daily',
  'country',
  'currency',
  'channel',
  'session',
  'event',
  'user',
]
const TYPES = [
  'bigint',
  'integer',
  'text',
  'character varying(255)',
  'numeric(12,2)',
  'timestamp with time zone',
  'boolean',
  'date',
  'jsonb',
]

/** Write `records` resources (1 table per 12 records) to `path`; resolves with bytes written. */
export async function generateResources(path: string, records: number): Promise<number> {
  const out = createWriteStream(path)
  let bytes = 0
  let batch = ''
  let n = 0
  let table = 0
  while (n < records) {
    const schema = `schema_${table % 40}`
    const name = `${WORDS[table % WORDS.length]}_${WORDS[(table >> 4) % WORDS.length]}_${table}`
    const tableId = `warehouse.${schema}.${name}`
    batch +=
      JSON.stringify({
        entity_type: 'table',
        databuilder_id: tableId,
        title: name,
        description: `One row per ${WORDS[table % 7]} and ${WORDS[table % 11]}, loaded nightly.`,
        native_type: table % 9 === 0 ? 'view' : 'table',
        database: 'warehouse',
        schema,
      }) + '\n'
    n++
    for (let c = 0; c < 11 && n < records; c++, n++) {
      const col = `${WORDS[(table + c) % WORDS.length]}_${c}`
      batch +=
        JSON.stringify({
          entity_type: 'column',
          databuilder_id: `${tableId}.${col}`,
          parent_databuilder_id: tableId,
          title: col,
          description: `The ${col} as reported by the ${WORDS[c]} service.`,
          sort_order: c + 1,
          type: TYPES[(table + c) % TYPES.length],
          is_pk: c === 0,
        }) + '\n'
    }
    table++
    if (batch.length > 1 << 20) {
      bytes += Buffer.byteLength(batch)
      if (!out.write(batch)) await once(out, 'drain')
      batch = ''
    }
  }
  bytes += Buffer.byteLength(batch)
  out.end(batch)
  await once(out, 'finish')
  return bytes
}

if (process.argv[1]?.endsWith('gen-resources.js')) {
  const [path, count] = process.argv.slice(2)
  generateResources(path!, Number(count)).then((b) => console.log(`${path}: ${b} bytes`))
}
