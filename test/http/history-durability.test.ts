/**
 * History is as durable as the configs: a real server process takes writes from concurrent
 * clients (create, replace, patch, delete), is killed with SIGKILL while they are in flight, and
 * every write it acknowledged must have its history entry (type, revision, request id, state)
 * in the database afterwards.
 */
import { afterEach, expect, it } from 'bun:test'
import type { ChangeType } from '../../src/configs/config-store.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { type RunningServer, startServer } from '../support/server.ts'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop('SIGKILL')
})

interface Acknowledged {
  dcname: string
  type: ChangeType
  requestId: string
  /** From the ETag; a DELETE answers 204 without one. */
  revision?: number
  metadata?: unknown
}

it('when the process is killed with SIGKILL under concurrent writers, then every acknowledged write has its history entry', async () => {
  const server = await startServer({ env: { SEED: 'false' } })
  servers.push(server)
  const acknowledged: Acknowledged[] = []
  let stopped = false
  let sent = 0

  const send = async (dcname: string, type: ChangeType, init: RequestInit, metadata?: unknown) => {
    const requestId = `w-${sent++}`
    const headers = { ...(init.headers as Record<string, string>), 'x-request-id': requestId }
    let reply: Response
    try {
      reply = await fetch(`${server.url}/configs/${dcname}`, { ...init, headers })
    } catch {
      stopped = true // the process is gone: this write was never acknowledged
      return
    }
    if (reply.status >= 300) throw new Error(`${init.method} ${dcname}: ${reply.status} ${await reply.text()}`)
    const revision = /^"(\d+)"$/.exec(reply.headers.get('etag') ?? '')?.[1]
    acknowledged.push({ dcname, type, requestId, revision: revision ? Number(revision) : undefined, metadata })
  }
  const json = (method: string, body: unknown, contentType = 'application/json'): RequestInit => ({
    method,
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  })

  const writer = async (worker: number) => {
    for (let round = 0; !stopped; round++) {
      const dcname = `w${worker}-${round % 3}`
      const created = { worker, round }
      await send(dcname, 'ADDED', json('PUT', { metadata: created }), created)
      if (stopped) return
      await send(dcname, 'MODIFIED', json('PATCH', { metadata: { patched: round } }, 'application/merge-patch+json'), {
        ...created,
        patched: round,
      })
      if (stopped) return
      await send(dcname, 'DELETED', { method: 'DELETE' })
    }
  }
  const writers = Array.from({ length: 8 }, (_, worker) => writer(worker))
  // Kill once a good number of writes were acknowledged, while the writers keep going.
  while (acknowledged.length < 400) await Bun.sleep(10)
  server.process.kill('SIGKILL')
  expect(await server.process.exited).not.toBe(0)
  await Promise.all(writers)

  const path = server.databaseUrl.replace(/^sqlite:/, '')
  const store = new SqliteConfigStore({ path, open: openBunSqlite })
  try {
    const byRequest = new Map<string, { type: ChangeType; revision: number; config: unknown }>()
    for (const dcname of new Set(acknowledged.map((a) => a.dcname))) {
      for (const entry of (await store.history(dcname, { limit: 10_000 })).entries)
        byRequest.set(entry.requestId ?? '', entry)
    }
    for (const write of acknowledged) {
      const entry = byRequest.get(write.requestId)
      expect(entry, `entry of ${write.requestId}`).toBeDefined()
      expect(entry?.type).toBe(write.type)
      if (write.revision !== undefined) expect(entry?.revision).toBe(write.revision)
      if (write.metadata !== undefined)
        expect(entry?.config).toEqual({ dcname: write.dcname, metadata: write.metadata })
    }
    console.log(`${acknowledged.length} acknowledged writes, each with its history entry after kill -9`)
  } finally {
    await store.close()
  }
}, 120_000)
