/**
 * watchers_dropped_total, the series behind the ConfigServiceWatchersDropped alert: a real
 * process, a watcher that stops reading, and writes until the service drops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { StalledWatch } from '../support/stalled-watch.ts'

let server: RunningServer

beforeAll(async () => {
  server = await startServer({
    env: { WATCH_BUFFER_EVENTS: '10', WATCH_BUFFER_BYTES: String(1 << 20), MAX_BODY_BYTES: String(2 << 20) },
  })
}, 60_000)
afterAll(async () => {
  await server?.stop()
})

async function dropped(): Promise<number | undefined> {
  const families = parseExposition(await (await fetch(`${server.url}/metrics`)).text())
  return sampleValue(families, 'watchers_dropped_total', {})
}

describe('watchers_dropped_total', () => {
  it('when no watcher has fallen behind, then it is exported as 0', async () => {
    expect(await dropped()).toBe(0)
  })

  it('when a watcher stops reading and falls behind, then it counts the one the service dropped', async () => {
    // The client stops reading at its socket: big events fill the kernel's buffers (bounded),
    // then the watcher's own 1 MiB budget.
    const stream = await StalledWatch.open(server.url, '')
    const blob = 'x'.repeat(256 * 1024)
    const fellBehind = () => server.lines.some((line) => (line as { msg?: string }).msg === 'watcher fell behind')
    for (let i = 0; i < 200 && !fellBehind(); i++) {
      const response = await fetch(`${server.url}/configs/big-${i}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata: { blob } }),
      })
      expect(response.status).toBeLessThan(300)
    }
    expect(fellBehind()).toBe(true)
    expect(await dropped()).toBe(1)
    stream.close()
  }, 60_000)
})
