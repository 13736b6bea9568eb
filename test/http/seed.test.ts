/** Seeding happens once per store, never again after deletions, and SEED=false skips it. */
import { afterEach, expect, it } from 'bun:test'
import { join } from 'node:path'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop()
})
const start = async (options: Parameters<typeof startServer>[0]) => {
  const server = await startServer(options)
  servers.push(server)
  return server
}
const names = async (server: RunningServer) =>
  ((await (await fetch(`${server.url}/configs`)).json()) as { dcname: string }[]).map((c) => c.dcname)

it('when a new store starts, then datacenter-1 and -2 are loaded as the spec describes', async () => {
  const server = await start({})
  const seeded = await (await fetch(`${server.url}/configs`)).json()
  const metadata = { monitoring: { enabled: true }, limits: { cpu: { enabled: true, value: '500m' } } }
  expect(seeded).toEqual([
    { dcname: 'datacenter-1', metadata },
    { dcname: 'datacenter-2', metadata },
  ])
})

it('when the seeded configs are deleted, then a restart does not bring them back', async () => {
  const databaseUrl = `sqlite:${join(tempDir(), 'configs.db')}`
  const first = await start({ databaseUrl })
  for (const dcname of ['datacenter-1', 'datacenter-2']) {
    expect((await fetch(`${first.url}/configs/${dcname}`, { method: 'DELETE' })).status).toBe(204)
  }
  expect(await first.stop()).toBe(0)
  const second = await start({ databaseUrl })
  expect(await names(second)).toEqual([])
})

it('when SEED=false, then a new store starts empty', async () => {
  const server = await start({ env: { SEED: 'false' } })
  expect(await names(server)).toEqual([])
})
