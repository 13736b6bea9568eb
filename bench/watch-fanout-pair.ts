/**
 * Watch fan-out of two source trees side by side (bench/watch-fanout.ts, paired): a service of
 * each tree on the server core at once, N idle watchers on each (plain sockets of this process),
 * then writes alternating A, B, B, A, ...; each service's CPU time (from /proc) over its own
 * write's window, until every one of its watchers had the event. A write of A and one of B follow
 * each other, so the machine's other load weighs on both alike, where runs one after the other
 * differ by more than a change costs on a busy machine. Run it on the client core:
 * `taskset -c 1 bun bench/watch-fanout-pair.ts <tree A> <tree B> [watchers=3000] [writes=60]`
 * (a tree is a directory with src/ and a node_modules link, e.g. from `git archive <commit>`).
 * The tree started second came out a few percent ahead in every run here: run both orders.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Socket } from 'bun'
import { cpuMs, freePort, type Started, startPinned } from './processes.ts'

const [treeA, treeB, watchersArg = '3000', writesArg = '60'] = process.argv.slice(2)
if (!treeA || !treeB) throw new Error('usage: bun bench/watch-fanout-pair.ts <tree A> <tree B> [watchers] [writes]')
const watcherCount = Number(watchersArg)
const writeCount = Number(writesArg)
const ID = /\nid: (\d+)\n/g
const decoder = new TextDecoder('latin1')

interface Side {
  tree: string
  work: string
  service: Started
  /** Per revision, how many watchers have it. */
  arrived: Map<number, number>
  cpuMs: number
}

async function start(tree: string): Promise<Side> {
  const work = mkdtempSync(join(tmpdir(), 'fanout-pair-'))
  const port = freePort()
  const service = await startPinned({
    command: [process.execPath, join(resolve(tree), 'src/main.ts')],
    cwd: work,
    env: {
      SERVE_PORT: String(port),
      DATABASE_URL: `sqlite:${join(work, 'watch.db')}`,
      SEED: 'false',
      LOG_LEVEL: 'info',
      WATCH_HEARTBEAT_MS: '600000',
    },
    port,
    readyPaths: ['/readyz'],
    logFile: join(work, 'service.log'),
  })
  return { tree, work, service, arrived: new Map(), cpuMs: 0 }
}

async function connectWatchers(side: Side): Promise<void> {
  const { hostname, port } = new URL(side.service.url)
  let open = 0
  for (let i = 0; i < watcherCount; i++) {
    let tail = ''
    let last = 0
    let headers = false
    const socket: Socket<undefined> = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data: (_socket, data) => {
          const text = tail + decoder.decode(data)
          if (!headers && text.includes('\r\n\r\n')) {
            headers = true
            open++
          }
          for (const match of text.matchAll(ID)) {
            const revision = Number(match[1])
            if (revision <= last) continue
            last = revision
            side.arrived.set(revision, (side.arrived.get(revision) ?? 0) + 1)
          }
          tail = text.slice(-64)
        },
        error: () => {},
      },
    })
    socket.write(`GET /configs?watch=true HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`)
    if (i % 200 === 199) await Bun.sleep(20)
  }
  const deadline = performance.now() + 60_000
  while (open < watcherCount && performance.now() < deadline) await Bun.sleep(20)
  if (open < watcherCount) throw new Error(`only ${open} of ${watcherCount} watches started on ${side.tree}`)
}

async function write(side: Side, n: number): Promise<void> {
  const pid = side.service.process.pid
  const before = cpuMs(pid)
  const response = await fetch(`${side.service.url}/configs/fanout-${n % 4}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metadata: { n, team: 'fanout' } }),
  })
  await response.arrayBuffer()
  if (response.status >= 300) throw new Error(`PUT answered ${response.status}`)
  const revision = Number(response.headers.get('etag')?.replace(/"/g, ''))
  while ((side.arrived.get(revision) ?? 0) < watcherCount) await Bun.sleep(1)
  // The service's last socket writes of this event are counted in its own window.
  await Bun.sleep(30)
  side.cpuMs += cpuMs(pid) - before
}

const sides = [await start(treeA), await start(treeB)] as const
try {
  for (const side of sides) await connectWatchers(side)
  await Bun.sleep(1000)
  for (let n = 0; n < writeCount; n++) {
    for (const side of n % 2 === 0 ? sides : [sides[1], sides[0]]) await write(side, n)
  }
  const perEvent = sides.map((side) => (side.cpuMs * 1000) / (watcherCount * writeCount))
  console.log(
    JSON.stringify({
      watchers: watcherCount,
      writes: writeCount,
      a: { tree: treeA, cpuUsPerDeliveredEvent: Number(perEvent[0]?.toFixed(2)) },
      b: { tree: treeB, cpuUsPerDeliveredEvent: Number(perEvent[1]?.toFixed(2)) },
      bOverA: Number((sides[1].cpuMs / sides[0].cpuMs).toFixed(3)),
    }),
  )
} finally {
  for (const side of sides) {
    await side.service.stop()
    rmSync(side.work, { recursive: true, force: true })
  }
}
process.exit(0)
