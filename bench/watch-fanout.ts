/**
 * Watch fan-out: N idle watchers on one service process, then W writes one after another; each
 * write's event must reach every watcher. Measures the service's CPU time per delivered event
 * (from /proc, so the load of the machine does not blur it) and how long after a write was sent
 * its event arrived at the watchers (every delivery, and the last watcher of each write).
 * The watchers are plain sockets of this process (run it on the client core; run.ts does).
 * Usage: bun bench/watch-fanout.ts <service url> <service pid> [watchers=5000] [writes=20] [burst=1]
 * (`burst` writes sent at once: they commit together, and the watchers get them together).
 * Prints one JSON object.
 */
import { readFileSync } from 'node:fs'
import type { Socket } from 'bun'

const [url = '', pidArg = '', watchersArg = '5000', writesArg = '20', burstArg = '1'] = process.argv.slice(2)
const burst = Math.max(1, Number(burstArg))
const pid = Number(pidArg)
const watcherCount = Number(watchersArg)
const writeCount = Number(writesArg)
const { hostname, port } = new URL(url)
const TICK_MS = 1000 / 100 // USER_HZ: /proc reports CPU time in 10 ms ticks

/** CPU time of the service process so far, in ms: user, system. */
function cpuTimes(): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return [Number(fields[11]) * TICK_MS, Number(fields[12]) * TICK_MS]
}

function cpuMs(): number {
  const [user, system] = cpuTimes()
  return user + system
}

/** Per revision: when its write was sent, and each arrival's delay. */
const sentAt = new Map<number, number>()
const arrivals = new Map<number, number[]>()
let headersSeen = 0

interface Watcher {
  socket: Socket<undefined> | undefined
  tail: string
  last: number
  open: boolean
}

const ID = /\nid: (\d+)\n/g

function received(watcher: Watcher, text: string): void {
  const now = performance.now()
  const scanned = watcher.tail + text
  if (!watcher.open && scanned.includes('\r\n\r\n')) {
    watcher.open = true
    headersSeen++
  }
  for (const match of scanned.matchAll(ID)) {
    const revision = Number(match[1])
    if (revision <= watcher.last) continue
    watcher.last = revision
    let list = arrivals.get(revision)
    if (!list) {
      list = []
      arrivals.set(revision, list)
    }
    list.push(now)
  }
  watcher.tail = scanned.slice(-64)
}

const decoder = new TextDecoder('latin1')
const watchers: Watcher[] = []
for (let i = 0; i < watcherCount; i++) {
  const watcher: Watcher = { socket: undefined, tail: '', last: 0, open: false }
  watchers.push(watcher)
  watcher.socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_socket, data) => received(watcher, decoder.decode(data)),
      error: () => {},
    },
  })
  watcher.socket.write(`GET /configs?watch=true HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`)
  // Connections arrive in small groups, as clients do; the server's accept queue stays short.
  if (i % 200 === 199) await Bun.sleep(20)
}
const deadline = performance.now() + 60_000
while (headersSeen < watcherCount && performance.now() < deadline) await Bun.sleep(20)
if (headersSeen < watcherCount) throw new Error(`only ${headersSeen} of ${watcherCount} watches started`)
await Bun.sleep(500)

const idleStart = cpuMs()
await Bun.sleep(1000)
const idleMsPerSecond = cpuMs() - idleStart

const lastArrival: number[] = []
const cpuBefore = cpuMs()
const [userBefore, systemBefore] = cpuTimes()
const started = performance.now()
const put = async (n: number) => {
  const sent = performance.now()
  const response = await fetch(`${url}/configs/fanout-${n % Math.max(4, burst)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metadata: { n, team: 'fanout' } }),
  })
  await response.arrayBuffer()
  if (response.status >= 300) throw new Error(`PUT answered ${response.status}`)
  const revision = Number(response.headers.get('etag')?.replace(/"/g, ''))
  sentAt.set(revision, sent)
  return revision
}
for (let n = 0; n < writeCount; n += burst) {
  // A burst's writes commit together, and reach the watchers together.
  const revisions = await Promise.all(Array.from({ length: Math.min(burst, writeCount - n) }, (_, j) => put(n + j)))
  for (const revision of revisions) {
    const waitUntil = performance.now() + 10_000
    while ((arrivals.get(revision)?.length ?? 0) < watcherCount && performance.now() < waitUntil) await Bun.sleep(1)
    const times = arrivals.get(revision) ?? []
    if (times.length < watcherCount) throw new Error(`revision ${revision} reached ${times.length} of ${watcherCount}`)
    lastArrival.push(Math.max(...times) - (sentAt.get(revision) as number))
  }
  await Bun.sleep(50)
}
const elapsedMs = performance.now() - started
// The idle cost (heart-beats, timers) over the same time is not the fan-out's.
const cpuSpentMs = cpuMs() - cpuBefore - (idleMsPerSecond * elapsedMs) / 1000
const [userAfter, systemAfter] = cpuTimes()

const delays: number[] = []
for (const [revision, sent] of sentAt) for (const at of arrivals.get(revision) ?? []) delays.push(at - sent)
delays.sort((a, b) => a - b)
lastArrival.sort((a, b) => a - b)
const quantile = (values: number[], q: number) =>
  values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0
const delivered = delays.length
for (const watcher of watchers) watcher.socket?.end()

console.log(
  JSON.stringify({
    watchers: watcherCount,
    writes: writeCount,
    burst,
    delivered,
    cpuMs: Math.round(cpuSpentMs),
    cpuUsPerDeliveredEvent: Math.round((cpuSpentMs * 1000 * 100) / delivered) / 100,
    idleCpuMsPerSecond: idleMsPerSecond,
    /** Of all CPU time in the writes' window: in the service's own code, and in the kernel (sockets). */
    userMs: userAfter - userBefore,
    systemMs: systemAfter - systemBefore,
    deliveryMs: { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), max: delays.at(-1) ?? 0 },
    lastWatcherMs: { median: quantile(lastArrival, 0.5), max: lastArrival.at(-1) ?? 0 },
  }),
)
