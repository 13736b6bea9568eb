/**
 * The typed client's rollout watch (RolloutClient.watch) against real service processes: across
 * a restart on the same SQLite file and port it resumes with `since` by itself, with no event
 * lost or repeated; from before the kept rollout events it yields one RELIST and goes on.
 */
import { afterEach, expect, it } from 'bun:test'
import { join } from 'node:path'
import { createClient, RolloutClient, type RolloutRequest } from '../../src/client/index.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.stop()
})

const PENDING: RolloutRequest = {
  change: { merge: { replicas: 2 } },
  target: { prefix: 'web-' },
  waves: [{ percent: 100 }],
  bake: '1h',
  approval: { required: 1 },
}

it('when the server restarts on the same store and port, then the rollout watch resumes with no lost or repeated event', async () => {
  const databaseUrl = `sqlite:${join(tempDir(), 'configs.db')}`
  const env = { SEED: 'false', ROLLOUT_POLL_MS: '20' }
  server = await startServer({ databaseUrl, env })
  const port = server.port
  const client = createClient({ url: server.url })
  await client.create({ dcname: 'web-1', metadata: { replicas: 1 } })
  const rollouts = new RolloutClient(client)

  const reconnects: unknown[] = []
  // A new store has logged no rollout event yet: from 0 is from the start, whenever it connects.
  const iterator = rollouts.watch({ since: 0, retryDelayMs: 50, onReconnect: (cause) => reconnects.push(cause) })
  const items: unknown[][] = []
  const take = async () => {
    const next = await iterator.next()
    if (next.done) throw new Error('the watch ended')
    const item = next.value
    items.push('id' in item ? [item.id, item.type, item.revision] : [item.type])
  }
  const first = take()
  const a = await rollouts.start(PENDING)
  await first

  expect(await server.stop('SIGTERM')).toBe(0)
  const resumed = take() // reconnecting while nothing listens
  server = await startServer({ databaseUrl, env: { ...env, SERVE_PORT: String(port) } })
  // Logged while the iterator is away or just back: from the replay after `since`, or live.
  await rollouts.steer('abort', a.id)
  await resumed
  const b = await rollouts.start(PENDING)
  await take()
  await iterator.return()

  expect(items).toEqual([
    [a.id, 'created', 1],
    [a.id, 'abort', 2],
    [b.id, 'created', 3],
  ])
  expect(reconnects.length).toBeGreaterThan(0)
}, 60_000)

it('when it resumes from before the rollout events kept, then it yields one RELIST and goes on after it', async () => {
  server = await startServer({ env: { SEED: 'false', ROLLOUT_POLL_MS: '20', ROLLOUT_EVENTS_KEPT: '10' } })
  const client = createClient({ url: server.url })
  await client.create({ dcname: 'web-1', metadata: { replicas: 1 } })
  const rollouts = new RolloutClient(client)
  for (let i = 0; i < 12; i++) await rollouts.start(PENDING)
  const iterator = rollouts.watch({ since: 0, retryDelayMs: 50 })
  const relist = await iterator.next()
  expect(relist.value).toEqual({ type: 'RELIST', revision: 12 })
  const next = iterator.next()
  const sentinel = await rollouts.start(PENDING)
  expect((await next).value).toMatchObject({ type: 'created', id: sentinel.id, revision: 13 })
  await iterator.return()
}, 60_000)
