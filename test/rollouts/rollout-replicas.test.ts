/**
 * A rollout on two replicas of one PostgreSQL (one on Bun, one on Deno): the replica started
 * first holds the driver's lease, so it drives; killed with SIGKILL in the middle of the rollout,
 * its session and lock end, and the other replica's driver finishes the rollout from where it
 * was, every config changed exactly once. Bakes are short durations set here; the test waits for
 * conditions, never for time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'

type Json = Record<string, unknown>

describe('a rollout when its driving replica is killed', () => {
  let postgres: SharedPostgres
  let databaseUrl: string
  let first: RunningServer
  let second: RunningServer

  beforeAll(async () => {
    postgres = await sharedPostgres()
    databaseUrl = await postgres.createDatabase('rollout_replicas')
    const env = { SEED: 'false', ROLLOUT_POLL_MS: '50' }
    // The first replica takes the lease on its first tick, before the second one exists.
    first = await startServer({ databaseUrl, env })
    second = await startServer({ runtime: 'deno', databaseUrl, env })
  }, 90_000)

  afterAll(async () => {
    await Promise.all([first, second].map((replica) => replica?.stop('SIGKILL').catch(() => {})))
  })

  const send = async (base: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as Json }
  }

  it('when the driver dies mid-rollout, then the other replica completes it, writing each config once', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `edge-${String(i).padStart(2, '0')}`)
    for (const dcname of names) {
      expect((await send(second.url, 'POST', '/configs', { dcname, metadata: { replicas: 1 } })).status).toBe(201)
    }
    const created = await send(second.url, 'POST', '/rollouts', {
      change: { merge: { replicas: 4 } },
      target: { prefix: 'edge-' },
      waves: [{ percent: 25 }, { percent: 50 }, { percent: 75 }, { percent: 100 }],
      bake: '1s',
    })
    expect(created.status).toBe(201)
    const id = created.body.id as string
    const rollout = async () => (await send(second.url, 'GET', `/rollouts/${id}`)).body
    await waitFor(async () => (await rollout()).status === 'baking', 30_000, 'wave 1 baking')
    // The first replica is the one writing: its audit lines name the rollout.
    const wrote = (replica: RunningServer) =>
      replica.lines.filter(
        (l) => (l as Json).msg === 'audit' && (l as Json).rollout === id && (l as Json).action === 'patch',
      )
    await waitFor(() => wrote(first).length > 0, 30_000, "the first replica's audit lines of the rollout")
    expect(wrote(second)).toEqual([])
    expect((await rollout()).status).not.toBe('completed')
    await first.stop('SIGKILL')
    let last: Json = {}
    await waitFor(
      async () => {
        last = await rollout()
        return last.status === 'completed'
      },
      60_000,
      () => `completion by the other replica (now ${last.status}, wave ${last.wave}: ${last.reason ?? ''})`,
    )
    // The other replica took over: it made the writes the killed one had not.
    await waitFor(() => wrote(second).length > 0, 30_000, "the second replica's audit lines of the rollout")
    for (const dcname of names) {
      const history = (await send(second.url, 'GET', `/configs/${dcname}/history`)).body as unknown as Json[]
      expect(history.map((e) => e.rollout ?? null)).toEqual([id, null])
      expect(history[0]).toMatchObject({ config: { metadata: { replicas: 4 } } })
    }
  }, 120_000)
})
