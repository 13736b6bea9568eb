/**
 * Consumer reports across replicas: two service processes (Bun and Deno) on one real PostgreSQL
 * database. A report answered by one is listed by the other at once, both export the same
 * config_consumers counts, and the bound per config holds across them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { sharedPostgres } from '../support/postgres.ts'
import { type RunningServer, startServer } from '../support/server.ts'

const replicas: RunningServer[] = []

beforeAll(async () => {
  const databaseUrl = await (await sharedPostgres()).createDatabase('consumers_replicas')
  const env = { SEED: 'false', CONSUMERS_FLUSH_MS: '5', CONSUMERS_MAX_PER_CONFIG: '2' }
  // One first, so that the other finds the tables made.
  replicas.push(await startServer({ runtime: 'bun', databaseUrl, env }))
  replicas.push(await startServer({ runtime: 'deno', databaseUrl, env }))
}, 90_000)
afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => {})))
}, 30_000)

const json = { 'content-type': 'application/json' }
const base = (i: number) => (replicas[i] as RunningServer).url

async function report(i: number, dcname: string, consumer: string, revision: number) {
  return fetch(`${base(i)}/configs/${dcname}/consumers/${consumer}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ revision, state: 'applied' }),
  })
}

async function gauge(i: number): Promise<string[]> {
  const text = await (await fetch(`${base(i)}/metrics`)).text()
  return text.split('\n').filter((line) => line.startsWith('config_consumers{'))
}

describe('consumer reports on two replicas', () => {
  it('when a report is answered by one replica, then the other lists it, counts it, and keeps the bound with it', async () => {
    const put = await fetch(`${base(0)}/configs/shared-1`, { method: 'PUT', headers: json, body: '{"metadata":{}}' })
    const revision = Number(put.headers.get('etag')?.replaceAll('"', ''))
    expect((await report(0, 'shared-1', 'pod-a', revision)).status).toBe(200)
    const listed = await (await fetch(`${base(1)}/configs/shared-1/consumers`)).json()
    expect(listed.map((c: { consumer: string; revision: number }) => [c.consumer, c.revision])).toEqual([
      ['pod-a', revision],
    ])
    expect((await report(1, 'shared-1', 'pod-b', revision)).status).toBe(200)
    expect((await report(0, 'shared-1', 'pod-c', revision)).status).toBe(409)
    expect(await gauge(0)).toEqual(await gauge(1))
    expect(await gauge(1)).toContain('config_consumers{state="applied"} 2')
  })
})
