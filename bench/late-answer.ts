/**
 * How Bun sends an answer completed after a later turn of the event loop (as every consistent
 * read on PostgreSQL is: it waits for the revision query), against the same answer returned at
 * once, each with its body as bytes or as a ReadableStream of one chunk: a bare Bun.serve,
 * pinned like `make bench`, the same bytes every way, alternating rounds.
 * `bun bench/late-answer.ts` (about 40 s per size; LATE_ROUNDS rounds, default 3; LATE_SIZES,
 * body sizes in bytes separated by commas, default 300,24000). bench/README.md ("Bun's late
 * answers") cites it; `strace -c -f -p <pid>` on one server (`PORT=<port> bun
 * bench/late-answer.ts later 24000`) counts the send calls per answer.
 */
import { join } from 'node:path'
import { freePort, startPinned } from './processes.ts'
import { median } from './report.ts'
import { wrk } from './wrk.ts'

const MODES = ['now', 'later', 'now-stream', 'later-stream'] as const
type Mode = (typeof MODES)[number]

const [mode, size] = process.argv.slice(2)
if (MODES.includes(mode as Mode)) {
  // The server itself: the answer at once or after setImmediate, its body bytes or one chunk.
  const body = new Uint8Array(Number(size)).fill(0x61)
  const headers = { 'content-type': 'application/json' }
  const oneChunk = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body)
        controller.close()
      },
    })
  const answer = () => new Response(mode?.endsWith('-stream') ? oneChunk() : body, { headers })
  const server = Bun.serve({
    port: Number(process.env.PORT),
    hostname: '127.0.0.1',
    fetch: () =>
      mode?.startsWith('now') ? answer() : new Promise<Response>((resolve) => setImmediate(() => resolve(answer()))),
  })
  console.log(`serving ${size}-byte answers ${mode} on ${server.port}`)
} else {
  const rounds = Number(process.env.LATE_ROUNDS ?? 3)
  const sizes = (process.env.LATE_SIZES ?? '300,24000').split(',').map(Number)
  console.log(
    '| body | at once, req/s | later, req/s | at once, one chunk | later, one chunk | per round: later, at once one chunk, later one chunk / at once |',
  )
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const bytes of sizes) {
    const rps: Record<Mode, number[]> = { now: [], later: [], 'now-stream': [], 'later-stream': [] }
    for (let round = 0; round < rounds; round++) {
      // Each round starts with another mode, so no mode always runs first or last.
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode)
      for (const which of order) {
        const port = freePort()
        const server = await startPinned({
          command: [process.execPath, import.meta.path, which, String(bytes)],
          env: { PORT: String(port) },
          port,
          readyPaths: ['/'],
          logFile: join(process.env.TMPDIR ?? '/tmp', 'late-answer.log'),
        })
        try {
          await wrk({ url: server.url, connections: 32, durationSec: 1 })
          rps[which].push((await wrk({ url: server.url, connections: 32, durationSec: 3 })).rps)
        } finally {
          await server.stop()
        }
      }
    }
    const perRound = rps.now.map((now, i) =>
      (['later', 'now-stream', 'later-stream'] as const)
        .map((m) => ((rps[m][i] as number) / now).toFixed(2))
        .join(' / '),
    )
    const cell = (m: Mode) => Math.round(median(rps[m])).toLocaleString('en')
    console.log(
      `| ${bytes} bytes | ${cell('now')} | ${cell('later')} | ${cell('now-stream')} | ${cell('later-stream')} | ${perRound.join('; ')} |`,
    )
  }
  process.exit(0)
}
