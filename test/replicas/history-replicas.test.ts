/**
 * History on PostgreSQL is the database's, not a replica's: two real service processes (one on
 * Bun, one on Deno) share one real PostgreSQL database. A write through one is in the history
 * read through the other, and rollbacks racing plain writes through both, each with `If-Match`,
 * lose no update: every acknowledged write directly follows the revision it was based on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { type RunningServer, startServer } from '../support/server.ts'

let postgres: SharedPostgres
let replicas: RunningServer[] = []

beforeAll(async () => {
  postgres = await sharedPostgres()
  const databaseUrl = await postgres.createDatabase('history_replicas')
  replicas = await Promise.all([
    startServer({ databaseUrl, env: { SEED: 'false' } }),
    startServer({ runtime: 'deno', databaseUrl, env: { SEED: 'false' } }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => {})))
}, 30_000)

interface Answer {
  status: number
  revision: number
  // biome-ignore lint/suspicious/noExplicitAny: tests look into arbitrary JSON
  json: any
}

async function send(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  const revision = Number(response.headers.get('etag')?.replace(/"/g, '') ?? Number.NaN)
  return { status: response.status, revision, json: text === '' ? undefined : JSON.parse(text) } satisfies Answer
}

const [a, b] = [() => replicas[0]?.url as string, () => replicas[1]?.url as string]

describe('history shared by replicas on one PostgreSQL database', () => {
  it('when written through one replica, then the other reads its history, its past states and its rollback', async () => {
    const created = await send(a(), 'PUT', '/configs/shared', { metadata: { step: 1 } }, { 'x-request-id': 'from-a-1' })
    const patched = await send(
      a(),
      'PATCH',
      '/configs/shared',
      { metadata: { step: 2 } },
      { 'x-request-id': 'from-a-2' },
    )
    expect([created.status, patched.status]).toEqual([201, 200])

    const history = await send(b(), 'GET', '/configs/shared/history')
    expect(history.status).toBe(200)
    expect(history.json.map((e: Record<string, unknown>) => [e.revision, e.type, e.requestId, e.actor])).toEqual([
      [patched.revision, 'MODIFIED', 'from-a-2', 'anonymous'],
      [created.revision, 'ADDED', 'from-a-1', 'anonymous'],
    ])
    const past = await send(b(), 'GET', `/configs/shared?revision=${created.revision}`)
    expect([past.status, past.revision, past.json]).toEqual([
      200,
      created.revision,
      { dcname: 'shared', metadata: { step: 1 } },
    ])

    const rolledBack = await send(b(), 'POST', '/configs/shared/rollback', { revision: created.revision })
    expect(rolledBack.status).toBe(200)
    const seenByA = await send(a(), 'GET', '/configs/shared/history?limit=1')
    expect(seenByA.json[0]).toMatchObject({ revision: rolledBack.revision, config: { metadata: { step: 1 } } })
  })

  it('when rollbacks and writes race through both replicas with If-Match, then every acknowledged one follows the revision it read', async () => {
    const first = await send(a(), 'PUT', '/configs/contended', { metadata: { n: 0 } })
    expect(first.status).toBe(201)
    /** Each acknowledged write: the revision it was based on (If-Match) and the one it made. */
    const acknowledged: { based: number; made: number }[] = []
    let refused = 0

    const worker = async (base: () => string, index: number) => {
      for (let round = 0; round < 15; round++) {
        const current = await send(base(), 'GET', '/configs/contended')
        const ifMatch = { 'if-match': `"${current.revision}"` }
        const written =
          (index + round) % 3 === 0
            ? await send(base(), 'POST', '/configs/contended/rollback', { revision: first.revision }, ifMatch)
            : await send(base(), 'PUT', '/configs/contended', { metadata: { n: index * 100 + round } }, ifMatch)
        if (written.status === 200) acknowledged.push({ based: current.revision, made: written.revision })
        else if (written.status === 412) refused++
        else throw new Error(`unexpected ${written.status}: ${JSON.stringify(written.json)}`)
      }
    }
    await Promise.all([0, 1, 2, 3].map((index) => worker(index % 2 === 0 ? a : b, index)))

    const history = await send(b(), 'GET', '/configs/contended/history')
    const revisions: number[] = history.json.map((e: { revision: number }) => e.revision).reverse()
    // Every write that was acknowledged is there, and nothing else happened between it and the state it read.
    expect(revisions).toEqual([first.revision, ...acknowledged.map((w) => w.made).sort((x, y) => x - y)])
    for (const { based, made } of acknowledged) {
      expect({ made, before: revisions[revisions.indexOf(made) - 1] }).toEqual({ made, before: based })
    }
    // The race was real: some writes were refused, and rollbacks were among the acknowledged ones.
    expect(refused).toBeGreaterThan(0)
    const rollbacks = history.json.filter(
      (e: { revision: number; config: { metadata: { n: number } } }) =>
        e.revision !== first.revision && e.config.metadata.n === 0,
    )
    expect(rollbacks.length).toBeGreaterThan(0)
  }, 60_000)
})
