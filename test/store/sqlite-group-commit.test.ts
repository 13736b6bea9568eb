/**
 * Group commit on the SQLite store: writes issued together share one transaction and one fsync,
 * yet each succeeds or fails on its own, and every acknowledged one survives kill -9.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  type ChangeEvent,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
} from '../../src/configs/config-store.ts'
import type { Config } from '../../src/configs/model.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'
import { startServer, tempDir } from '../support/server.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

/**
 * Commit records in the WAL file: a frame whose header carries the database size after the
 * commit (non-zero) and the salts of the current WAL generation.
 */
function walCommits(dbPath: string): number {
  const path = `${dbPath}-wal`
  if (!existsSync(path)) return 0
  const fd = openSync(path, 'r')
  try {
    const header = Buffer.alloc(32)
    if (readSync(fd, header, 0, 32, 0) < 32) return 0
    const pageSize = header.readUInt32BE(8)
    const salts = header.subarray(16, 24)
    const frame = Buffer.alloc(24)
    let commits = 0
    for (let offset = 32; offset + 24 + pageSize <= statSync(path).size; offset += 24 + pageSize) {
      readSync(fd, frame, 0, 24, offset)
      if (!frame.subarray(8, 16).equals(salts)) break
      if (frame.readUInt32BE(4) !== 0) commits++
    }
    return commits
  } finally {
    closeSync(fd)
  }
}

describe('SQLite group commit', () => {
  let dir: string
  let path: string
  let store: SqliteConfigStore

  beforeEach(() => {
    dir = tempDir('group-commit-')
    path = join(dir, 'configs.db')
    store = new SqliteConfigStore({ path, open: openBunSqlite })
  })
  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('when writes are issued one after another, then each has a commit of its own', async () => {
    await store.create(config('first'), author)
    const before = walCommits(path)
    for (const name of ['a', 'b', 'c']) await store.create(config(name), author)
    expect(walCommits(path) - before).toBe(3)
  })

  it('when writes are issued together, then they share one commit', async () => {
    await store.create(config('first'), author)
    const before = walCommits(path)
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(config(`dc-${i}`), author)))
    expect(walCommits(path) - before).toBe(1)
    expect(await store.count()).toBe(51)
  })

  it('when writes share a commit, then their revisions follow the order of the calls without gaps', async () => {
    const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(config(`dc-${i}`), author)))
    const revisions = stored.map((s) => s.revision)
    expect(revisions).toEqual(revisions.map((_, i) => (revisions[0] as number) + i))
  })

  it('when one write of a batch fails, then it fails alone and the others are stored', async () => {
    const taken = await store.create(config('taken', { v: 1 }), author)
    const guarded = await store.create(config('guarded', { v: 1 }), author)
    const before = walCommits(path)
    const events: ChangeEvent[] = []
    store.subscribe((event) => events.push(event))

    const results = await Promise.allSettled([
      store.create(config('new-1'), author),
      store.create(config('taken', { v: 2 }), author),
      store.replace(config('guarded', { v: 2 }), { ifMatch: guarded.revision + 100 }, author),
      store.update('missing', (current) => current, {}, author),
      store.update(
        'taken',
        () => {
          throw new Error('refused by the change')
        },
        {},
        author,
      ),
      store.create(config('new-2'), author),
    ])

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
    ])
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : undefined))
    expect(reasons[1]).toBeInstanceOf(ConflictError)
    expect(reasons[2]).toBeInstanceOf(PreconditionFailedError)
    expect(reasons[3]).toBeInstanceOf(NotFoundError)
    expect((reasons[4] as Error).message).toBe('refused by the change')
    expect(walCommits(path) - before).toBe(1)
    expect(await store.get('taken')).toEqual(taken)
    expect(await store.get('guarded')).toEqual(guarded)
    const [first, last] = [results[0], results[5]].map((r) => (r?.status === 'fulfilled' ? r.value.revision : 0))
    expect(last).toBe((first as number) + 1)
    expect(events.map((e): unknown[] => [e.type, e.config.dcname, e.revision])).toEqual([
      ['ADDED', 'new-1', first],
      ['ADDED', 'new-2', last],
    ])
  })

  it('when a write of a batch fails half-way, then none of it is stored and the others are', async () => {
    const events: ChangeEvent[] = []
    store.subscribe((event) => events.push(event))
    // The seed's second config breaks a NOT NULL constraint after its first one was written.
    const broken = [config('seeded-1'), { dcname: null } as unknown as Config]
    const [seeded, a, b] = await Promise.allSettled([
      store.seed(broken, author),
      store.create(config('a'), author),
      store.create(config('b'), author),
    ])
    expect(seeded?.status).toBe('rejected')
    expect(await store.get('seeded-1')).toBeUndefined()
    const revisions = [a, b].map((r) => (r?.status === 'fulfilled' ? r.value.revision : 0))
    expect(revisions[1]).toBe((revisions[0] as number) + 1)
    expect(events.map((e) => e.config.dcname)).toEqual(['a', 'b'])
  })

  it('when the store is closed with writes queued, then they are committed first', async () => {
    const pending = store.create(config('queued'), author)
    await store.close()
    expect((await pending).config.dcname).toBe('queued')
    store = new SqliteConfigStore({ path, open: openBunSqlite })
    expect((await store.get('queued'))?.config.dcname).toBe('queued')
  })
})

describe('SQLite group commit under kill -9', () => {
  it('when concurrent writers are cut off by SIGKILL, then every acknowledged write is stored', async () => {
    const server = await startServer({ env: { SEED: 'false' } })
    const acknowledged = new Map<string, string>()
    let stop = false
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const dcname = `w${w}-${i}`
        const reply = await fetch(`${server.url}/configs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dcname, metadata: { w, i } }),
        }).catch(() => undefined)
        if (reply?.status === 201) acknowledged.set(dcname, reply.headers.get('etag') as string)
        else return
      }
    }
    const writers = Array.from({ length: 32 }, (_, w) => writer(w))
    const deadline = Date.now() + 20_000
    while (acknowledged.size < 500 && Date.now() < deadline) await Bun.sleep(5)
    // Killed while the writers are still sending: some writes are in a batch not yet committed.
    server.process.kill('SIGKILL')
    await server.process.exited
    stop = true
    await Promise.all(writers)
    expect(acknowledged.size).toBeGreaterThanOrEqual(500)

    const path = server.databaseUrl.slice('sqlite:'.length)
    const store = new SqliteConfigStore({ path, open: openBunSqlite })
    try {
      for (const [dcname, etag] of acknowledged) {
        const stored = await store.get(dcname)
        expect(stored && `"${stored.revision}"`).toBe(etag)
      }
    } finally {
      await store.close()
      rmSync(join(path, '..'), { recursive: true, force: true })
    }
  }, 60_000)
})
