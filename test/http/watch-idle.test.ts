/**
 * An idle watch outlives the server's idle timeout, on Bun and on Deno, while a plain idle
 * keep-alive connection is still closed by it on Bun. Bun.serve closes a connection after 10 s
 * without traffic (checked every few seconds, so it happens 10 to 14 s in, later on a busy
 * machine: the wait goes on until it did); the heart-beat is set far longer here, so nothing
 * but the first chunk crosses the stream while it waits.
 *
 * Every connection idles through the same wait, so the file waits once. The Bun pass runs both
 * runtimes; the Deno pass (TEST_RUNTIME=deno) runs Deno alone, since Bun was covered already.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { client, revisionOf, type Target } from '../support/http.ts'
import type { Runtime } from '../support/server.ts'
import type { SseStream } from '../support/sse.ts'
import { watch } from '../support/sse.ts'
import { waitFor } from '../support/wait.ts'
import { serve } from './watch-suite.ts'

const IDLE_MS = 15_000
const runtimes: Runtime[] = process.env.TEST_RUNTIME === 'deno' ? ['deno'] : ['bun', 'deno']

interface Idler {
  runtime: Runtime
  target: Target
  stream: SseStream
}

/** A keep-alive connection that asked one plain request and then says nothing. */
interface KeepAlive {
  socket: Socket
  answered: Promise<string>
  /** Milliseconds from the answer to the server closing the connection; undefined while open. */
  closedAfterMs?: number
}

let idlers: Idler[] = []
let keepAlive: KeepAlive | undefined

beforeAll(async () => {
  idlers = await Promise.all(
    runtimes.map(async (runtime) => {
      const target = await serve({ runtime, env: { WATCH_HEARTBEAT_MS: '600000' } })
      return { runtime, target, stream: await watch(target.base) }
    }),
  )
  const bun = idlers.find((idler) => idler.runtime === 'bun')
  if (bun?.target.server) keepAlive = openKeepAlive(bun.target.server.port)
  await keepAlive?.answered
  // Idling is what is tested: every connection idles at least this long (a lower bound only).
  await Bun.sleep(IDLE_MS)
  // And on Bun until the server did close the idle keep-alive, opened after the watch: however
  // late a busy machine's sweep comes, the watch has idled through it.
  const closing = keepAlive
  if (closing) await waitFor(() => closing.closedAfterMs !== undefined, 45_000, 'the idle keep-alive to be closed')
}, 120_000)

afterAll(async () => {
  keepAlive?.socket.destroy()
  for (const { stream, target } of idlers) {
    stream.close()
    await target.close()
  }
})

describe.each(runtimes)('an idle watch on %s', (runtime) => {
  it(`when a watch is idle for ${IDLE_MS / 1000} s, longer than the server's idle timeout, then it stays open and gets the next change`, async () => {
    const idler = idlers.find((candidate) => candidate.runtime === runtime)
    if (!idler) throw new Error(`no ${runtime} server`)
    const { stream, target } = idler
    expect(stream.ended).toBe(false)
    expect(stream.comments).toEqual(['heartbeat']) // the first chunk only: the stream was idle
    const reply = await client(target)('POST', '/configs', { body: { dcname: `after-idle-${runtime}`, metadata: {} } })
    expect(reply.status).toBe(201)
    const [event] = await stream.events(1)
    expect([event?.type, event?.revision]).toEqual(['ADDED', revisionOf(reply)])
  })
})

if (runtimes.includes('bun')) {
  describe('a plain keep-alive connection on bun', () => {
    it('when it is idle, then the server still closes it after its idle timeout', async () => {
      expect(await keepAlive?.answered).toStartWith('HTTP/1.1 200')
      const closedAfterMs = keepAlive?.closedAfterMs
      expect(closedAfterMs).toBeGreaterThanOrEqual(8_000)
    })
  })
}

function openKeepAlive(port: number): KeepAlive {
  let answeredAt = 0
  let received = ''
  const socket = connect(port, '127.0.0.1', () => {
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')
  })
  const answered = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      if (answeredAt === 0 && received.includes('\r\n\r\n')) {
        answeredAt = Date.now()
        resolve(received)
      }
    })
    socket.on('error', reject)
  })
  const keepAlive: KeepAlive = { socket, answered }
  socket.on('close', () => {
    keepAlive.closedAfterMs = answeredAt === 0 ? -1 : Date.now() - answeredAt
  })
  return keepAlive
}
