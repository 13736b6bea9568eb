/**
 * The client's watch iterator across a server restart: the process is stopped, a new one starts
 * on the same SQLite file and port, and the iterator goes on with `since` by itself, with no
 * event lost or repeated.
 */
import { afterEach, expect, it } from 'bun:test'
import { join } from 'node:path'
import { createClient, type WatchItem } from '../../src/client/index.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.stop()
})

it('when the server restarts on the same store and port, then the watch iterator resumes with no lost or repeated event', async () => {
  const databaseUrl = `sqlite:${join(tempDir(), 'configs.db')}`
  server = await startServer({ databaseUrl, env: { SEED: 'false' } })
  const port = server.port
  const client = createClient({ url: server.url })
  await client.create({ dcname: 'restart-a', metadata: { step: 0 } })

  const reconnects: unknown[] = []
  const { revision: since } = await client.list()
  const iterator = client.watch({ since, retryDelayMs: 50, onReconnect: (cause) => reconnects.push(cause) })
  const items: WatchItem[] = []
  const take = async () => {
    const next = await iterator.next()
    if (next.done) throw new Error('the watch ended')
    items.push(next.value)
  }
  const first = take()
  const before = await client.patch('restart-a', { metadata: { step: 1 } })
  await first

  const stopping = server.stop('SIGTERM')
  expect(await stopping).toBe(0)
  const resumed = take() // waits, reconnecting, while nothing listens
  await Bun.sleep(300)
  server = await startServer({ databaseUrl, env: { SEED: 'false', SERVE_PORT: String(port) } })
  expect(server.port).toBe(port)
  // Written before the iterator is back, so it comes from the replay after `since`.
  await client.patch('restart-a', { metadata: { step: 2 } })
  await client.create({ dcname: 'restart-b', metadata: {} })
  await resumed
  await take()
  await iterator.return()

  expect(items.map((item) => [item.type, item.revision])).toEqual([
    ['MODIFIED', before.revision],
    ['MODIFIED', before.revision + 1],
    ['ADDED', before.revision + 2],
  ])
  expect(reconnects.length).toBeGreaterThan(0)
}, 60_000)
