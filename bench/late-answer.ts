/**
 * How Bun sends an answer completed after a later turn of the event loop (as every consistent
 * read on PostgreSQL is: it waits for the revision query), against the same answer returned at
 * once: a bare Bun.serve, pinned like `make bench`, the same bytes both ways, alternating rounds.
 * `bun bench/late-answer.ts` (about 40 s; LATE_ROUNDS rounds, default 3). bench/README.md,
 * "Where the missed targets stand", cites it; `strace -c -f -p <pid>` on either server counts
 * the send calls per answer.
 */
import { join } from 'node:path'
import { freePort, startPinned } from './processes.ts'
import { median } from './report.ts'
import { wrk } from './wrk.ts'

const [mode, size] = process.argv.slice(2)
if (mode === 'now' || mode === 'later') {
  // The server itself: the answer at once, or after setImmediate.
  const body = new Uint8Array(Number(size)).fill(0x61)
  const answer = () => new Response(body, { headers: { 'content-type': 'application/json' } })
  const server = Bun.serve({
    port: Number(process.env.PORT),
    hostname: '127.0.0.1',
    fetch: () =>
      mode === 'now' ? answer() : new Promise<Response>((resolve) => setImmediate(() => resolve(answer()))),
  })
  console.log(`serving ${size}-byte answers ${mode} on ${server.port}`)
} else {
  const rounds = Number(process.env.LATE_ROUNDS ?? 3)
  console.log('| body | answered at once, req/s | after a later turn, req/s | later / at once, per round |')
  console.log('| --- | --- | --- | --- |')
  for (const bytes of [300, 24_000]) {
    const rps: Record<'now' | 'later', number[]> = { now: [], later: [] }
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 === 0 ? (['now', 'later'] as const) : (['later', 'now'] as const)) {
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
    const ratios = rps.later.map((later, i) => later / (rps.now[i] as number))
    console.log(
      `| ${bytes} bytes | ${Math.round(median(rps.now)).toLocaleString('en')} | ${Math.round(median(rps.later)).toLocaleString('en')} | ` +
        `${ratios.map((r) => r.toFixed(2)).join(' ')} |`,
    )
  }
  process.exit(0)
}
