/**
 * A watch load generator for bench/replica-fanout.ts: opens `count` watch streams spread evenly
 * over the given servers (plain sockets, so one process holds thousands cheaply), and notes when
 * each event reaches each of them. The time a write was sent is in the event itself (the config's
 * `metadata.sentAt`, wall-clock ms with sub-ms precision, the same clock in every process).
 *
 * Usage: bun bench/fanout-client.ts <path> <count> <url> [url...]
 * Prints `ready` once every stream has its response headers. Then reads lines on stdin:
 * `end <revision>` waits until every stream has that revision (at most 15 s more) and prints one
 * JSON object with the delays (ms, rounded to 0.01) and counts, then exits.
 */
import type { Socket } from 'bun'

const [path = '', countArg = '0', ...urls] = process.argv.slice(2)
const count = Number(countArg)
const now = () => performance.timeOrigin + performance.now()

interface Stream {
  url: string
  socket: Socket<undefined> | undefined
  tail: string
  last: number
  open: boolean
}

/** Per revision: the write's time (from the event), and when each stream had it. */
const sentAt = new Map<number, number>()
const arrivals = new Map<number, number[]>()
let headersSeen = 0
let refused = 0
let events = 0
const ID = /\nid: (\d+)\n/g
const SENT_AT = /"sentAt":([\d.]+)/

function received(stream: Stream, text: string): void {
  const at = now()
  const scanned = stream.tail + text
  if (!stream.open && scanned.includes('\r\n\r\n')) {
    if (!scanned.startsWith('HTTP/1.1 200')) {
      // An overloaded replica refuses the start (503): try again later, as a client would.
      refused++
      stream.socket?.end()
      setTimeout(() => void connect(stream), 500)
      return
    }
    stream.open = true
    headersSeen++
  }
  for (const match of scanned.matchAll(ID)) {
    const revision = Number(match[1])
    if (revision <= stream.last) continue
    stream.last = revision
    events++
    let list = arrivals.get(revision)
    if (list === undefined) {
      list = []
      arrivals.set(revision, list)
    }
    list.push(at)
    // Every stream gets the same frame: read the write's time from the first that holds it whole.
    if (!sentAt.has(revision)) {
      const end = scanned.indexOf('\n\n', match.index)
      const sent = end < 0 ? undefined : SENT_AT.exec(scanned.slice(match.index, end))?.[1]
      if (sent !== undefined) sentAt.set(revision, Number(sent))
    }
  }
  stream.tail = scanned.slice(-80)
}

const decoder = new TextDecoder('latin1')
const START_WINDOW = 100

async function connect(stream: Stream): Promise<void> {
  const { hostname, port } = new URL(stream.url)
  stream.tail = ''
  stream.socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_socket, data) => received(stream, decoder.decode(data)),
      error: () => {},
    },
  })
  stream.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`)
}

const streams: Stream[] = []
for (let i = 0; i < count; i++) {
  const stream: Stream = { url: urls[i % urls.length] as string, socket: undefined, tail: '', last: 0, open: false }
  streams.push(stream)
  await connect(stream)
  // At most START_WINDOW starts at a time: all at once, the replicas' database pools would queue
  // them past their timeouts (503) on a busy machine, and the retries make it worse.
  while (i + 1 - headersSeen >= START_WINDOW) await Bun.sleep(5)
}
const deadline = performance.now() + 120_000
while (headersSeen < count && performance.now() < deadline) await Bun.sleep(20)
if (headersSeen < count) throw new Error(`only ${headersSeen} of ${count} watches started (${refused} refusals)`)
console.log(`ready ${refused}`)

for await (const line of console) {
  const [command, revisionArg] = line.trim().split(' ')
  if (command !== 'end') continue
  const cpuFrom = process.cpuUsage()
  const last = Number(revisionArg)
  const until = performance.now() + 15_000
  while (streams.some((s) => s.last < last) && performance.now() < until) await Bun.sleep(5)
  const delays: number[] = []
  let unknown = 0
  for (const [revision, times] of arrivals) {
    const sent = sentAt.get(revision)
    if (sent === undefined) unknown += times.length
    else for (const at of times) delays.push(Math.round((at - sent) * 100) / 100)
  }
  const cpu = process.cpuUsage(cpuFrom)
  for (const stream of streams) stream.socket?.end()
  const behind = streams.filter((s) => s.last < last).length
  console.log(
    JSON.stringify({
      streams: count,
      refused,
      cpuUs: cpu.user + cpu.system,
      events,
      behind,
      unknown,
      revisions: [...arrivals.keys()],
      delays,
    }),
  )
  process.exit(0)
}
