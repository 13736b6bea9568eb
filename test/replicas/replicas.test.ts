/**
 * Three real service processes (two on Bun, one on Deno) on different ports sharing one real
 * PostgreSQL database, as replicas behind a Kubernetes Service. They must behave as one store: reads see every write
 * at once, watchers see every change in order whichever replica made it, conditional writes
 * lose nothing across replicas, and a replica can be stopped under load and come back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { type RunningServer, type Runtime, startServer } from '../support/server.ts'
import { type SseStream, type WatchEvent, watch } from '../support/sse.ts'
import { PROCESS_WAIT_MS, waitFor } from '../support/wait.ts'

let postgres: SharedPostgres
let databaseUrl: string
const replicas: RunningServer[] = []

const startReplica = (runtime: Runtime = 'bun') =>
  startServer({ runtime, databaseUrl, env: { SHUTDOWN_DELAY_MS: '500', WATCH_HEARTBEAT_MS: '1000' } })

beforeAll(async () => {
  postgres = await sharedPostgres()
  databaseUrl = await postgres.createDatabase('replicas')
  // All three start at once on the new database: they race to migrate and to seed it. One runs
  // on Deno: the same source, the same database client, one store.
  replicas.push(...(await Promise.all([startReplica(), startReplica('deno'), startReplica()])))
}, 60_000)

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => {})))
}, 30_000)

interface Written {
  status: number
  revision: number
}

async function put(base: string, dcname: string, metadata: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/configs/${dcname}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ metadata }),
  })
  await response.arrayBuffer()
  return { status: response.status, revision: etagRevision(response) } satisfies Written
}

async function get(base: string, dcname: string) {
  const response = await fetch(`${base}/configs/${dcname}`)
  const body = response.status === 200 ? ((await response.json()) as { metadata: Record<string, unknown> }) : undefined
  if (!body) await response.arrayBuffer()
  return { status: response.status, revision: etagRevision(response), metadata: body?.metadata }
}

function etagRevision(response: Response): number {
  return Number(response.headers.get('etag')?.replace(/"/g, '') ?? Number.NaN)
}

async function storeRevision(base: string): Promise<number> {
  const response = await fetch(`${base}/configs?limit=1`)
  await response.arrayBuffer()
  return Number(response.headers.get('x-revision'))
}

const revisionsOf = (events: WatchEvent[]) => events.map((e) => e.revision)

describe('three replicas on one PostgreSQL database', () => {
  it('when all three start at once on a new database, then it is migrated and seeded exactly once', async () => {
    const response = await fetch(`${replicas[0]?.url}/configs`)
    const names = ((await response.json()) as { dcname: string }[]).map((c) => c.dcname)
    expect(names).toEqual(['datacenter-1', 'datacenter-2'])
    expect(Number(response.headers.get('x-revision'))).toBe(2)
  })

  it('when a config is written through one replica, then the others read it at once', async () => {
    for (const [i, writer] of replicas.entries()) {
      const written = await put(writer.url, `visible-${i}`, { from: i })
      expect(written.status).toBe(201)
      for (const reader of replicas) {
        expect(await get(reader.url, `visible-${i}`)).toEqual({
          status: 200,
          revision: written.revision,
          metadata: { from: i },
        })
      }
      const gone = await fetch(`${writer.url}/configs/visible-${i}`, { method: 'DELETE' })
      expect(gone.status).toBe(204)
      for (const reader of replicas) expect((await get(reader.url, `visible-${i}`)).status).toBe(404)
    }
  })

  it('when writes go through every replica, then a watcher on each gets all of them in order, also after reconnecting with since', async () => {
    const since = await storeRevision(replicas[0]?.url as string)
    const watchers: SseStream[] = await Promise.all(replicas.map((r) => watch(r.url, `since=${since}`)))
    const acknowledged: number[] = []
    const writeRound = (round: number) =>
      Promise.all(
        replicas.map(async (replica, i) => {
          for (let n = 0; n < 10; n++) {
            const written = await put(replica.url, `watched-${i}-${n % 4}`, { round, n })
            expect(written.status).toBeLessThan(300)
            acknowledged.push(written.revision)
          }
        }),
      )
    try {
      await writeRound(1)
      const firstRound = [...acknowledged].sort((a, b) => a - b)
      for (const watcher of watchers) expect(revisionsOf(await watcher.events(30, 10_000))).toEqual(firstRound)

      // The first replica's watcher goes away; it resumes on another replica from where it was.
      watchers[0]?.close()
      await writeRound(2)
      const resumed = await watch(replicas[1]?.url as string, `since=${firstRound.at(-1)}`)
      watchers[0] = resumed
      const secondRound = [...acknowledged].sort((a, b) => a - b).slice(30)
      for (const watcher of watchers) expect(revisionsOf(await watcher.events(30, 10_000))).toEqual(secondRound)
      // Nothing more than that: no duplicates trail behind, the next event is a later write's.
      const later = await put(replicas[2]?.url as string, 'watched-later', {})
      for (const watcher of watchers) expect(revisionsOf(await watcher.events(1, 10_000))).toEqual([later.revision])
      for (const watcher of watchers) {
        expect(watcher.messages.filter((m) => m.event !== 'message').length).toBeLessThanOrEqual(61)
      }
    } finally {
      for (const watcher of watchers) watcher.close()
    }
  }, 60_000)

  it('when 60 clients read-modify-write one config through all replicas with If-Match, then no update is lost', async () => {
    const created = await put(replicas[0]?.url as string, 'counter', { n: 0 })
    expect(created.status).toBe(201)
    const increments: { n: number; revision: number }[] = []
    let conflicts = 0
    await Promise.all(
      Array.from({ length: 60 }, async (_, client) => {
        const base = replicas[client % 3]?.url as string
        // Back off, exponentially with full jitter, as a polite client does.
        const backOff = (attempt: number) => Bun.sleep(Math.random() * Math.min(5 * 2 ** attempt, 250))
        for (let attempt = 0; ; attempt++) {
          const current = await get(base, 'counter')
          // An overloaded replica answers 503 (a busy machine runs these 60 clients): tried again.
          if (current.status === 503) {
            await backOff(attempt)
            continue
          }
          expect(current.status).toBe(200)
          const n = (current.metadata?.n as number) + 1
          const written = await put(base, 'counter', { n }, { 'if-match': `"${current.revision}"` })
          if (written.status === 200) {
            increments.push({ n, revision: written.revision })
            return
          }
          // A write answered 503 is not stored, so trying it again loses nothing; were it stored,
          // the count below would come out one too high.
          if (written.status !== 503) {
            expect(written.status).toBe(412)
            conflicts++
          }
          await backOff(attempt)
        }
      }),
    )
    expect((await get(replicas[2]?.url as string, 'counter')).metadata).toEqual({ n: 60 })
    increments.sort((a, b) => a.n - b.n)
    expect(increments.map((i) => i.n)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
    // Each increment was written after the one before it: revisions strictly increase with n.
    for (let i = 1; i < increments.length; i++) {
      expect(increments[i]?.revision).toBeGreaterThan(increments[i - 1]?.revision as number)
    }
    expect(conflicts).toBeGreaterThan(0)
  }, 60_000)

  it('when one replica gets SIGTERM under load, then its accepted requests complete, the others keep serving, and a restarted replica rejoins', async () => {
    const victim = replicas[2] as RunningServer
    const survivors = replicas.slice(0, 2)
    const acked = new Map<string, number>()
    const outcomes = new Map<RunningServer, string[]>(replicas.map((r) => [r, []]))
    // As a Kubernetes Service does: route only to replicas whose readiness probe passes.
    const inRotation = new Set(replicas)
    const probing = (async () => {
      while (inRotation.has(victim)) {
        const ready = await fetch(`${victim.url}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        )
        if (!ready) inRotation.delete(victim)
        else await Bun.sleep(25)
      }
    })()
    // The clients go on through the whole shutdown: until the victim has exited and the probe
    // took it out of rotation (whichever comes last: a client may pick it until then).
    let victimExited = false
    const sent = Array.from({ length: 12 }, () => 0)

    const client = async (c: number) => {
      for (let seq = 1; !victimExited || inRotation.has(victim); seq++) {
        const rotation = [...inRotation]
        const replica = rotation[c % rotation.length] as RunningServer
        const key = `load-${c}`
        try {
          const response = await fetch(`${replica.url}/configs/${key}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ metadata: { seq } }),
          })
          await response.arrayBuffer()
          outcomes.get(replica)?.push(String(response.status))
          sent[c] = (sent[c] ?? 0) + 1
          if (response.status < 300) acked.set(key, seq)
        } catch (error) {
          outcomes.get(replica)?.push(`error:${(error as { code?: string }).code ?? error}`)
        }
      }
    }

    const load = Promise.all(Array.from({ length: 12 }, (_, c) => client(c)))
    // Under load: every client (a third of them on the victim) has had a few answers when the
    // signal comes, so requests keep arriving at the victim while it shuts down.
    await waitFor(() => sent.every((n) => n >= 3), PROCESS_WAIT_MS, 'every client to have 3 answers')
    const exitCode = victim.stop('SIGTERM').finally(() => {
      victimExited = true
    })
    await load
    await probing
    expect(await exitCode).toBe(0)

    // The victim served until the probe took it out, and every request it got, it answered.
    const failed = (replica: RunningServer) => outcomes.get(replica)?.filter((o) => !/^2\d\d$/.test(o))
    expect(outcomes.get(victim)?.length).toBeGreaterThan(0)
    expect(failed(victim)).toEqual([])
    for (const survivor of survivors) expect(failed(survivor)).toEqual([])
    expect(victim.lines.some((l) => (l as { step?: string }).step === 'drained')).toBe(true)

    // Every acknowledged write is there, read through a survivor.
    for (const [key, seq] of acked) {
      const stored = await get(survivors[0]?.url as string, key)
      expect(stored.metadata?.seq as number).toBeGreaterThanOrEqual(seq)
    }

    const restarted = await startReplica()
    replicas[2] = restarted
    expect((await get(restarted.url, 'load-0')).metadata).toEqual(
      (await get(survivors[1]?.url as string, 'load-0')).metadata,
    )
    const since = await storeRevision(survivors[0]?.url as string)
    const watcher = await watch(survivors[0]?.url as string, `since=${since}`)
    try {
      const written = await put(restarted.url, 'after-restart', { ok: true })
      expect(written.status).toBe(201)
      expect(await get(survivors[1]?.url as string, 'after-restart')).toMatchObject({
        status: 200,
        revision: written.revision,
      })
      expect(revisionsOf(await watcher.events(1))).toEqual([written.revision])
    } finally {
      watcher.close()
    }
  }, 60_000)
})
