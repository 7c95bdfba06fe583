// One measured run for bench/validate.ts, in its own process so peak RSS is its own:
//   node dist-bench/bench/validate-child.js ours|split2 FILE
// Prints {wall, cpu, maxRssMB, extra} as JSON.

import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import split2 from 'split2'
import { Report } from '../lib/report.js'
import { runConversion } from '../lib/run/pipeline.js'
import { estimateIds, readSecodaFiles } from '../lib/run/read-records.js'
import { createValidator } from '../transforms/validate.js'

const [mode, file] = process.argv.slice(2) as [string, string]
const t0 = performance.now()
const c0 = process.cpuUsage()
const extra: Record<string, number> = {}
if (mode === 'ours') {
  const report = new Report()
  let n = 0
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(_r, _e, cb) {
      n++
      cb()
    },
  })
  // the same stages as `secoda-convert validate FILE`; the validator is made here to read
  // its index size afterwards
  const validator = createValidator({ report, expectedIds: await estimateIds([file]) })
  const summary = await runConversion(readSecodaFiles([file], { report }), { report, sink, validator })
  extra.ids = Object.values(summary.resources).reduce((a, b) => a + b, 0)
  extra.records = n
  extra.indexBytes = validator.core.indexBytes
} else {
  const ids = new Set<string>()
  await pipeline(
    createReadStream(file, { highWaterMark: 256 * 1024 }),
    split2(JSON.parse),
    new Writable({
      objectMode: true,
      highWaterMark: 1024,
      write(r: { databuilder_id: string }, _e, cb) {
        ids.add(r.databuilder_id)
        cb()
      },
    }),
  )
  extra.ids = ids.size
}
const cpu = process.cpuUsage(c0)
console.log(
  JSON.stringify({
    wall: (performance.now() - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    extra,
  }),
)
