// Benchmark: why the dbt source does not use stream-json. On one generated manifest, each in
// its own child process and in the same run: JSON.parse of the whole file (the baseline),
// stream-json's token stream alone, stream-json building each node's object (pick `nodes` →
// streamObject, what a converter on top of it would need), and this repository's dbt source
// (bytes → Secoda records). Prints MB per wall-second and per CPU-second (steadier on a
// shared machine), best of the rounds, and each as a ratio to JSON.parse.
//
// Run:   npm run build:bench && npm install --no-save stream-json@1 && node dist-bench/bench/dbt-stream-json.js [sizeMB=100] [rounds=2]
// stream-json is not a dependency: the two stream-json rows are reported as absent without it.

import { spawnSync } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { Report } from '../lib/report.js'
import { createDbtManifestStream } from '../transforms/dbt/manifest.js'
import { generateManifest } from './dbt-manifest-data.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const dataDir = path.resolve(here, '..', '..', 'bench', 'data')

type StreamJson = {
  parser: () => NodeJS.ReadWriteStream
  chain: (fns: unknown[]) => NodeJS.ReadWriteStream
  pick: (o: { filter: string }) => NodeJS.ReadWriteStream
  streamObject: () => NodeJS.ReadWriteStream
}

async function loadStreamJson(): Promise<StreamJson> {
  // not a dependency: imported by name at run time (see the Run line)
  const sj = (await import('stream-json' as string)) as { parser: StreamJson['parser'] }
  const { chain } = (await import('stream-chain' as string)) as { chain: StreamJson['chain'] }
  const { pick } = (await import('stream-json/filters/Pick.js' as string)) as { pick: StreamJson['pick'] }
  const { streamObject } = (await import('stream-json/streamers/StreamObject.js' as string)) as { streamObject: StreamJson['streamObject'] }
  return { parser: sj.parser, chain, pick, streamObject }
}

/** Count what flows out of a stream-json pipeline. */
function drain(stream: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0
    stream.on('data', () => n++)
    stream.on('end', () => resolve(n))
    stream.on('error', reject)
  })
}

const variants: Record<string, (file: string) => Promise<number>> = {
  async 'JSON.parse(readFileSync)'(file) {
    return Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { nodes: object }).nodes).length
  },
  async 'stream-json tokens'(file) {
    const sj = await loadStreamJson()
    return drain(createReadStream(file).pipe(sj.parser()))
  },
  async 'stream-json node objects'(file) {
    const sj = await loadStreamJson()
    return drain(sj.chain([createReadStream(file), sj.parser(), sj.pick({ filter: 'nodes' }), sj.streamObject()]))
  },
  async 'secoda-convert dbt source (records)'(file) {
    let n = 0
    const sink = new Writable({
      objectMode: true,
      write(_r, _e, cb) {
        n++
        cb()
      },
    })
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createDbtManifestStream({ report: new Report(), file }), sink)
    return n
  },
}

if (process.argv[2] === '--child') {
  const [name, file] = process.argv.slice(3) as [string, string]
  const t0 = process.hrtime.bigint()
  const count = await variants[name]!(file).catch((e: Error) =>
    e.message.includes('stream-json') || e.message.includes('stream-chain') ? -1 : Promise.reject(e),
  )
  const u = process.cpuUsage()
  console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (u.user + u.system) / 1e6, count }))
} else {
  const sizeMB = Number(process.argv[2] ?? 100)
  const rounds = Number(process.argv[3] ?? 2)
  mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, `manifest-${sizeMB}mb.json`)
  if (!existsSync(file)) generateManifest(file, sizeMB * 1e6)
  const mb = statSync(file).size / 1e6
  const best: Record<string, { wall: number; cpu: number; count: number }> = {}
  for (let r = 1; r <= rounds; r++) {
    for (const name of Object.keys(variants)) {
      const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, file], { encoding: 'utf8' })
      if (res.status !== 0) throw new Error(`${name}: ${res.stderr}`)
      const { seconds, cpu, count } = JSON.parse(res.stdout) as { seconds: number; cpu: number; count: number }
      const b = (best[name] ??= { wall: 0, cpu: 0, count })
      b.wall = Math.max(b.wall, mb / seconds)
      b.cpu = Math.max(b.cpu, mb / cpu)
      console.log(`round ${r}: ${name}: ${(mb / seconds).toFixed(1)} MB/s, ${(mb / cpu).toFixed(1)} MB/CPU-s`)
    }
  }
  const base = best['JSON.parse(readFileSync)']!
  console.log(`\n${mb.toFixed(0)} MB manifest, ${process.version}, best of ${rounds}:`)
  console.log('| run | MB/s wall | × JSON.parse | MB per CPU-s | × JSON.parse |\n|---|---|---|---|---|')
  for (const [name, b] of Object.entries(best)) {
    if (b.count === -1) console.log(`| ${name} | absent (npm install --no-save stream-json@1) | | | |`)
    else
      console.log(
        `| ${name} | ${b.wall.toFixed(1)} | ${(b.wall / base.wall).toFixed(2)} | ${b.cpu.toFixed(1)} | ${(b.cpu / base.cpu).toFixed(2)} |`,
      )
  }
}
