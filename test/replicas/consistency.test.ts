/**
 * Reads from memory stay consistent across replicas: three real service processes (two on Bun,
 * one on Deno) on one real PostgreSQL database, each answering reads from its read model.
 * Writers and readers run at once through all of them; every read that starts after a write
 * was acknowledged (by any replica) must see that write or a later one, and once writes stop,
 * every replica's list and searches equal what the database holds, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import postgres from 'postgres'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { type RunningServer, type Runtime, startServer } from '../support/server.ts'

let database: SharedPostgres
let databaseUrl: string
const replicas: RunningServer[] = []
const TEAMS = ['team-a', 'team-b', 'team-c']
const KEYS = 24
/** Six writers of ten writes cover every key (key-(7w+n) mod 24). */
const WRITES_EACH = 10
const READS_EACH = 10

beforeAll(async () => {
  database = await sharedPostgres()
  databaseUrl = await database.createDatabase('consistency')
  const start = (runtime: Runtime) => startServer({ runtime, databaseUrl, env: { SEED: 'false' } })
  replicas.push(...(await Promise.all([start('bun'), start('deno'), start('bun')])))
}, 60_000)

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => {})))
}, 30_000)

interface Ack {
  dcname: string
  revision: number
  /** performance.now() when the acknowledgement arrived. */
  at: number
}

const revisionOf = (response: Response) => Number(response.headers.get('etag')?.replace(/"/g, '') ?? Number.NaN)

/** Every config a replica lists, page by page, as the JSON text of the items. */
async function listAll(base: string, filter = ''): Promise<string[]> {
  const items: string[] = []
  let path: string | null = `/configs?limit=7${filter}`
  while (path) {
    const response: Response = await fetch(`${base}${path}`)
    expect(response.status).toBe(200)
    const body = await response.text()
    items.push(...(JSON.parse(body) as unknown[]).map((item) => JSON.stringify(item)))
    path = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null
  }
  return items
}

describe('consistent reads from memory on three replicas', () => {
  it('when writers and readers go through every replica at once, then no read misses an acknowledged write, and all end equal to the database', async () => {
    const acks: Ack[] = []
    const violations: string[] = []
    let reads = 0
    // Counted, not timed: each writer makes its writes, and the readers read until every writer
    // is done (and at least READS_EACH times each), so reads overlap writes however slow the machine.
    let writing = 0
    /** The newest acknowledged revision of `dcname` (of anything, when undefined) before `time`. */
    const newestBefore = (time: number, dcname?: string) =>
      acks.reduce(
        (newest, ack) =>
          ack.at < time && (!dcname || ack.dcname === dcname) ? Math.max(newest, ack.revision) : newest,
        0,
      )

    const writer = async (w: number) => {
      writing++
      for (let n = 0; n < WRITES_EACH; n++) {
        const dcname = `key-${(w * 7 + n) % KEYS}`
        const replica = replicas[(w + n) % replicas.length] as RunningServer
        const response = await fetch(`${replica.url}/configs/${dcname}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metadata: { team: TEAMS[(w + n) % TEAMS.length], writer: w, n } }),
        })
        await response.arrayBuffer()
        expect(response.status).toBeLessThan(300)
        acks.push({ dcname, revision: revisionOf(response), at: performance.now() })
      }
      writing--
    }

    const reader = async (r: number) => {
      for (let n = 0; writing > 0 || n < READS_EACH; n++) {
        const replica = replicas[(r + n) % replicas.length] as RunningServer
        const dcname = `key-${(r * 5 + n) % KEYS}`
        const started = performance.now()
        if (n % 3 === 2) {
          const response = await fetch(`${replica.url}/search?metadata.team=${TEAMS[n % TEAMS.length]}`)
          const items = (await response.json()) as unknown[]
          expect(response.status).toBe(200)
          expect(Array.isArray(items)).toBe(true)
          const seen = Number(response.headers.get('x-revision'))
          const expected = newestBefore(started)
          if (seen < expected)
            violations.push(`search on ${replica.url} at ${seen}, after ${expected} was acknowledged`)
        } else {
          const response = await fetch(`${replica.url}/configs/${dcname}`)
          await response.arrayBuffer()
          const expected = newestBefore(started, dcname)
          const seen = response.status === 200 ? revisionOf(response) : 0
          if (response.status !== 200 && response.status !== 404) violations.push(`GET answered ${response.status}`)
          if (seen < expected)
            violations.push(`${dcname} on ${replica.url} at ${seen}, after ${expected} was acknowledged`)
        }
        reads++
      }
    }

    await Promise.all([...[0, 1, 2, 3, 4, 5].map(writer), ...[0, 1, 2, 3, 4, 5].map(reader)])
    expect(violations).toEqual([])
    expect(acks.length).toBe(6 * WRITES_EACH)
    expect(reads).toBeGreaterThanOrEqual(6 * READS_EACH)

    // Quiet now: every replica's answers equal the database's rows, byte for byte.
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    try {
      const rows = await sql<{ body: string }[]>`SELECT body::text FROM configs ORDER BY dcname`
      const stored = rows.map((row) => row.body)
      expect(stored.length).toBe(KEYS)
      for (const replica of replicas) {
        expect(await listAll(replica.url)).toEqual(stored)
        for (const team of TEAMS) {
          const matching = stored.filter(
            (body) => (JSON.parse(body) as { metadata: { team: string } }).metadata.team === team,
          )
          expect(await listAll(replica.url, `&metadata.team=${team}`)).toEqual(matching)
        }
      }
    } finally {
      await sql.end()
    }
  }, 60_000)
})
