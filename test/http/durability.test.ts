/**
 * Acknowledged writes survive kill -9: the real server process takes N writes, is killed with
 * SIGKILL, restarts on the same database, and must hold every acknowledged write. On PostgreSQL
 * the database crashes too (an immediate stop: no checkpoint), as a power cut would.
 */
import { afterAll, afterEach, expect, it } from 'bun:test'
import { type PostgresServer, startPostgres } from '../support/postgres.ts'
import { type RunningServer, startServer } from '../support/server.ts'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop('SIGKILL')
})
let postgresServer: PostgresServer | undefined
afterAll(async () => {
  await postgresServer?.dispose()
}, 30_000)

it('when the process is killed with SIGKILL after acknowledging writes, then a restart finds every one', async () => {
  await killAfterWrites(undefined)
}, 120_000)

it('when the process is killed with SIGKILL and PostgreSQL crashes after acknowledged writes, then a restart finds every one', async () => {
  // A cluster of its own, not the run's shared one: this test crashes it.
  postgresServer = await startPostgres()
  const database = postgresServer
  await killAfterWrites(await database.createDatabase('durability'), () => {
    database.stop('immediate')
    database.start()
  })
}, 120_000)

async function killAfterWrites(databaseUrl: string | undefined, crashDatabase?: () => void): Promise<void> {
  const first = await startServer({ databaseUrl, env: { SEED: 'false' } })
  servers.push(first)
  const post = (dcname: string, metadata: unknown) =>
    fetch(`${first.url}/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dcname, metadata }),
    })
  const acknowledged = new Map<string, { metadata: unknown; etag: string }>()
  const N = 300
  const batch = 25
  for (let start = 0; start < N; start += batch) {
    await Promise.all(
      Array.from({ length: batch }, async (_, i) => {
        const dcname = `durable-${start + i}`
        const metadata = { index: start + i, payload: 'p'.repeat((start + i) % 50) }
        const reply = await post(dcname, metadata)
        expect(reply.status).toBe(201)
        acknowledged.set(dcname, { metadata, etag: reply.headers.get('etag') as string })
      }),
    )
  }
  // An update and a delete must survive too.
  const patched = await fetch(`${first.url}/configs/durable-0`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata: { patched: true } }),
  })
  expect(patched.status).toBe(200)
  acknowledged.set('durable-0', {
    metadata: { index: 0, payload: '', patched: true },
    etag: patched.headers.get('etag') as string,
  })
  expect((await fetch(`${first.url}/configs/durable-1`, { method: 'DELETE' })).status).toBe(204)
  acknowledged.delete('durable-1')

  first.process.kill('SIGKILL')
  expect(await first.process.exited).not.toBe(0)
  crashDatabase?.()

  const second = await startServer({ databaseUrl: first.databaseUrl, env: { SEED: 'false' } })
  servers.push(second)
  const list = await (await fetch(`${second.url}/configs?limit=10000`)).json()
  expect(list).toHaveLength(N - 1)
  for (const [dcname, { metadata, etag }] of acknowledged) {
    const reply = await fetch(`${second.url}/configs/${dcname}`)
    expect(reply.status).toBe(200)
    expect(await reply.json()).toEqual({ dcname, metadata })
    expect(reply.headers.get('etag')).toBe(etag)
  }
  expect((await fetch(`${second.url}/configs/durable-1`)).status).toBe(404)
}
