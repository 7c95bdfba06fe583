// Benchmark: JSONL → validation → upload to the bundled loopback server, spooled and sent
// with Content-Length (the default) and streamed live with --chunked, against the same
// conversion written to /dev/null, all in the same run (target: spooled ≥ 0.75×), with peak
// RSS sampled along the way, plus uploads to a server that reads slowly (client memory must
// not grow with the input).
//
// Run:   npm run build:bench && node --expose-gc dist-bench/bench/upload.js [sizeMB=200] [slowMBps=20] [rounds=3] [narrow|wide]
//        node --expose-gc dist-bench/bench/upload.js 1024 20 2     # the 1 GB run
// (--expose-gc lets each run start from a collected heap, so runs do not inherit RSS.)
// Input is generated under bench/data/ (git-ignored). The server runs in a child process
// (store: 'count', so it counts instead of writing to disk) so that client and
// server do not share one event loop.

import { fork, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { SecodaClient, resolveApiSettings } from '../lib/upload/http.js'
import { readSecodaFiles } from '../lib/run/read-records.js'
import { Report } from '../lib/report.js'
import { runConversion } from '../lib/run/pipeline.js'
import { createUploadSink } from '../lib/upload/sink.js'
import { startTestServer, type Fault } from '../lib/testing/server.js'
import { createJsonlWriter } from '../transforms/to-jsonl.js'
import { createValidator } from '../transforms/validate.js'

const here = path.dirname(fileURLToPath(import.meta.url))

// ---- child: the server -------------------------------------------------------------
if (process.argv[2] === '--server') {
  const server = await startTestServer({ store: 'count', writeLimit: false, integrations: [{ name: 'bench', id: 'bench' }] })
  process.on('message', (m: { fault?: Fault; stats?: boolean; stop?: boolean }) => {
    if (m.fault) server.fault(m.fault)
    if (m.stats)
      process.send!({
        uploads: server.uploads.map((u) => ({
          complete: u.complete,
          synced: u.synced,
          bytes: u.bytes,
          parts: u.parts.map((p) => p.bytes),
        })),
      })
    if (m.stop) void server.close().then(() => process.exit(0))
  })
  process.send!({ url: server.url, apiKey: server.apiKey })
} else {
  await mainBench()
}

async function mainBench(): Promise<void> {
  const sizeMB = Number(process.argv[2] ?? 200)
  const slowMBps = Number(process.argv[3] ?? 20)
  const rounds = Number(process.argv[4] ?? 3)
  // 'wide': ~8 KB descriptions, so 1 GB holds ~130 000 ids instead of ~1.8 million: shows
  // how RSS behaves with bytes when the id count (which the validator's index and the
  // stale guard keep, 8-20 bytes per id) stays small.
  const shape = process.argv[5] === 'wide' ? 'wide' : 'narrow'
  const dataDir = path.resolve(here, '..', '..', 'bench', 'data')
  mkdirSync(dataDir, { recursive: true })
  const input = path.join(dataDir, `upload-${sizeMB}mb${shape === 'wide' ? '-wide' : ''}.jsonl`)
  if (!existsSync(input)) await generate(input, sizeMB * 1024 * 1024, shape)
  const bytes = statSync(input).size
  console.log(`input ${input}: ${(bytes / 1048576).toFixed(0)} MB`)

  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [info] = (await once(child, 'message')) as [{ url: string; apiKey: string }]
  const stateDir = path.join(dataDir, 'state')
  const client = new SecodaClient(resolveApiSettings({ apiUrl: info.url, env: { SECODA_API_KEY: info.apiKey } }))

  try {
    // Alternate the two runs: the machine is shared and noisy, so each round's ratio compares
    // runs made back to back; the median round ratio is the figure.
    let base: Measured | undefined
    let up: Measured | undefined
    let live: Measured | undefined
    const ratios: number[] = []
    const liveRatios: number[] = []
    for (let round = 1; round <= rounds; round++) {
      const b = await measure(`round ${round}: convert → /dev/null (baseline)`, async () => {
        const report = new Report({ maxErrors: 1 })
        await pipeline(
          readSecodaFiles([input], { report }),
          createValidator({ report }),
          createJsonlWriter(),
          createWriteStream('/dev/null'),
        )
      })
      // Both guards run (the server count is read; allowStale only keeps a refusal from ending the bench).
      const u = await measure(`round ${round}: convert → upload (spooled, Content-Length; guards on)`, async () => {
        const report = new Report({ maxErrors: 1 })
        const sink = createUploadSink({ client, integrationId: 'bench', stale: { stateDir, allowStale: true } })
        await runConversion(readSecodaFiles([input], { report }), { report, sink })
        if (sink.result?.framing !== 'content-length') throw new Error('expected a Content-Length upload')
      })
      const c = await measure(`round ${round}: convert → upload (--chunked; guards on)`, async () => {
        const report = new Report({ maxErrors: 1 })
        const sink = createUploadSink({ client, integrationId: 'bench', chunked: true, stale: { stateDir, allowStale: true } })
        await runConversion(readSecodaFiles([input], { report }), { report, sink })
      })
      ratios.push(b.seconds / u.seconds)
      liveRatios.push(b.seconds / c.seconds)
      if (!base || b.seconds < base.seconds) base = b
      if (!up || u.seconds < up.seconds) up = u
      if (!live || c.seconds < live.seconds) live = c
    }
    const median = (xs: number[]): string =>
      xs
        .slice()
        .sort((a, b) => a - b)
        [Math.floor(xs.length / 2)]!.toFixed(2) + '×'
    console.log(
      `round ratios spooled / baseline: ${ratios.map((r) => r.toFixed(2) + '×').join(', ')}; median ${median(ratios)} (target ≥ 0.75×)`,
    )
    console.log(`round ratios chunked / baseline: ${liveRatios.map((r) => r.toFixed(2) + '×').join(', ')}; median ${median(liveRatios)}`)
    const stats = await ask(child)
    const last = stats.uploads.at(-1)!
    if (!last.synced) throw new Error('the benchmark upload did not arrive complete')
    console.log(`server received ${(last.bytes / 1048576).toFixed(1)} MB, complete=${last.complete}`)
    console.log(
      `best runs: baseline ${(bytes / 1048576 / base!.seconds).toFixed(1)} MB/s, spooled ${(bytes / 1048576 / up!.seconds).toFixed(1)} MB/s (${(base!.seconds / up!.seconds).toFixed(2)}×), chunked ${(bytes / 1048576 / live!.seconds).toFixed(1)} MB/s (${(base!.seconds / live!.seconds).toFixed(2)}×)`,
    )
    console.log(`peak RSS: baseline ${mb(base!.peak)} MB, spooled ${mb(up!.peak)} MB, chunked ${mb(live!.peak)} MB`)
    console.log(
      `RSS at 25/50/75/100% of the run: baseline ${base!.quartiles.map(mb).join(' / ')} MB; spooled ${up!.quartiles.map(mb).join(' / ')} MB; chunked ${live!.quartiles.map(mb).join(' / ')} MB`,
    )

    // Slow server: reads at slowMBps; the client must wait, not buffer.
    const slowBytes = Math.min(bytes, slowMBps * 1048576 * 8) // about 8 s of slow reading
    const slowInput = slowBytes < bytes ? await prefix(input, slowBytes, dataDir) : input
    child.send({ fault: { readBytesPerSecond: slowMBps * 1048576 } })
    const slow = await measure(`convert → upload to a server reading ${slowMBps} MB/s`, async () => {
      const report = new Report({ maxErrors: 1 })
      const sink = createUploadSink({ client, integrationId: 'bench', chunked: true, stale: false, serverGuard: false })
      await runConversion(readSecodaFiles([slowInput], { report }), { report, sink })
    })
    const fastOnSame =
      slowInput === input
        ? live!
        : await measure('convert → upload, same input, fast server', async () => {
            const report = new Report({ maxErrors: 1 })
            const sink = createUploadSink({ client, integrationId: 'bench', chunked: true, stale: false, serverGuard: false })
            await runConversion(readSecodaFiles([slowInput], { report }), { report, sink })
          })
    child.send({ fault: { readBytesPerSecond: slowMBps * 1048576 } })
    const slowSpooled = await measure(`convert → upload (spooled) to a server reading ${slowMBps} MB/s`, async () => {
      const report = new Report({ maxErrors: 1 })
      const sink = createUploadSink({ client, integrationId: 'bench', stale: false, serverGuard: false })
      await runConversion(readSecodaFiles([slowInput], { report }), { report, sink })
    })
    console.log(
      `slow server, spooled: peak RSS ${mb(slowSpooled.peak)} MB; RSS at 25/50/75/100%: ${slowSpooled.quartiles.map(mb).join(' / ')} MB`,
    )
    console.log(
      `slow server, chunked: peak RSS ${mb(slow.peak)} MB vs ${mb(fastOnSame.peak)} MB against the fast server (${(slow.peak / fastOnSame.peak).toFixed(2)}×); RSS at 25/50/75/100%: ${slow.quartiles.map(mb).join(' / ')} MB`,
    )
  } finally {
    await client.close()
    child.send({ stop: true })
  }
}

interface Measured {
  seconds: number
  peak: number
  quartiles: number[]
}

async function measure(label: string, run: () => Promise<void>): Promise<Measured> {
  globalThis.gc?.()
  const samples: number[] = []
  const timer = setInterval(() => samples.push(process.memoryUsage.rss()), 50)
  const t0 = process.hrtime.bigint()
  await run()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  clearInterval(timer)
  samples.push(process.memoryUsage.rss())
  const peak = Math.max(...samples)
  const q = (f: number): number => samples[Math.min(samples.length - 1, Math.floor(samples.length * f))]!
  console.log(`${label}: ${seconds.toFixed(2)} s, peak RSS ${mb(peak)} MB`)
  return { seconds, peak, quartiles: [q(0.25), q(0.5), q(0.75), samples.at(-1)!] }
}

function mb(n: number): string {
  return (n / 1048576).toFixed(0)
}

function ask(child: ChildProcess): Promise<{ uploads: Array<{ complete: boolean; synced: boolean; bytes: number }> }> {
  child.send({ stats: true })
  return once(child, 'message').then(([m]) => m as never)
}

/** Tables of 20 columns with lineage between neighbours; ~600 bytes per resource. */
async function generate(file: string, target: number, shape: 'narrow' | 'wide' = 'narrow'): Promise<void> {
  const out = createWriteStream(file)
  let written = 0
  const desc = 'A column description long enough to look like real documentation, with a few words. '.repeat(shape === 'wide' ? 95 : 4)
  for (let t = 0; written < target; t++) {
    const tid = `warehouse.analytics.table_${t}`
    let chunk =
      JSON.stringify({
        entity_type: 'table',
        databuilder_id: tid,
        title: `table_${t}`,
        description: desc,
        database: 'warehouse',
        schema: 'analytics',
        native_type: 'table',
      }) + '\n'
    for (let c = 0; c < 20; c++) {
      chunk +=
        JSON.stringify({
          entity_type: 'column',
          databuilder_id: `${tid}.col_${c}`,
          parent_databuilder_id: tid,
          title: `col_${c}`,
          description: desc,
          type: 'character varying(255)',
          sort_order: c + 1,
        }) + '\n'
    }
    if (t > 0)
      chunk +=
        JSON.stringify({
          from_identifier: { type: 'internal_resource', databuilder_id: `warehouse.analytics.table_${t - 1}` },
          to_identifier: { type: 'internal_resource', databuilder_id: tid },
        }) + '\n'
    written += Buffer.byteLength(chunk)
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

/** A smaller input of the same shape (generated once). */
async function prefix(file: string, n: number, dir: string): Promise<string> {
  const target = path.join(dir, `${path.basename(file, '.jsonl')}-first${(n / 1048576).toFixed(0)}mb.jsonl`)
  if (!existsSync(target)) await generate(target, n)
  return target
}
