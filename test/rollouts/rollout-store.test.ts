/**
 * The RolloutStore contract, run against SQLite and a real PostgreSQL (the run's shared server):
 * versioned saves that refuse a stale version, newest-first pages, the active rollouts; the
 * event log (each new timeline entry numbered in commit order, paged, the newest kept); the
 * rollout id a write carries kept in the config's history and change feed; and on PostgreSQL
 * the driver's lease, held by one handle at a time and handed over when its session ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { type ConfigStore, HistoryCompactedError } from '../../src/configs/config-store.ts'
import { type Rollout, withEvent } from '../../src/configs/rollouts/rollout-model.ts'
import { type RolloutStore, RolloutVersionError } from '../../src/configs/rollouts/rollout-store.ts'
import {
  migrate as migratePostgres,
  MIGRATIONS as PG_MIGRATIONS,
} from '../../src/store/postgres/postgres-migrations.ts'
import { PostgresRolloutLease } from '../../src/store/postgres/postgres-rollout-lease.ts'
import { PostgresRolloutStore } from '../../src/store/postgres/postgres-rollouts.ts'
import { PostgresConfigStore } from '../../src/store/postgres/postgres-store.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { migrate as migrateSqlite, MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.ts'
import { SqliteRolloutStore } from '../../src/store/sqlite/sqlite-rollouts.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { tempDir } from '../support/server.ts'

interface Fixture {
  configs: ConfigStore
  rollouts: RolloutStore
  close(): Promise<void>
}

function rollout(id: string, status: Rollout['status'] = 'pending-approval'): Rollout {
  return {
    id,
    createdBy: { actor: 'alice', role: 'writer' },
    createdAt: 1,
    plan: {
      change: { merge: { a: 1 } },
      target: { prefix: 'dc-' },
      waves: [['dc-1']],
      bakeMs: 1000,
      gates: [],
      approvals: 0,
      onFailure: 'revert',
    },
    status,
    wave: -1,
    approvedBy: [],
    configs: [{ dcname: 'dc-1', wave: 0, state: 'pending' }],
    timeline: [],
  }
}

/** What the fixtures' rollout stores keep of the event log. */
const KEPT = 10

function describeRolloutStoreContract(backend: string, open: () => Promise<Fixture>) {
  describe(`RolloutStore contract: ${backend}`, () => {
    let fixture: Fixture
    beforeAll(async () => {
      fixture = await open()
    }, 60_000)
    afterAll(async () => {
      await fixture?.close()
    })

    it('when a rollout is saved over the version read, then it is stored and its version grows', async () => {
      const { rollouts } = fixture
      const created = await rollouts.create(rollout('ro-save'))
      const saved = await rollouts.save({ ...created.rollout, status: 'applying', wave: 0 }, created.version)
      expect(saved.version).toBe(created.version + 1)
      expect(await rollouts.get('ro-save')).toEqual({
        rollout: { ...created.rollout, status: 'applying', wave: 0 },
        version: saved.version,
      })
    })

    it('when a save names a version that is no longer current, then it fails and the stored rollout is unchanged', async () => {
      const { rollouts } = fixture
      const created = await rollouts.create(rollout('ro-stale'))
      await rollouts.save({ ...created.rollout, status: 'paused' }, created.version)
      await expect(rollouts.save({ ...created.rollout, status: 'aborted' }, created.version)).rejects.toBeInstanceOf(
        RolloutVersionError,
      )
      expect((await rollouts.get('ro-stale'))?.rollout.status).toBe('paused')
    })

    it('when rollouts are listed, then they come newest first, paged and by status, and active ones oldest first', async () => {
      const { rollouts } = fixture
      for (const id of ['ro-l1', 'ro-l2', 'ro-l3'])
        await rollouts.create(rollout(id, id === 'ro-l2' ? 'completed' : 'baking'))
      const first = await rollouts.list({ limit: 2 })
      expect(first.items.map((s) => s.rollout.id)).toEqual(['ro-l3', 'ro-l2'])
      expect(first.more).toBe(true)
      const next = await rollouts.list({ limit: 2, before: 'ro-l2' })
      expect(next.items.map((s) => s.rollout.id)[0]).toBe('ro-l1')
      expect((await rollouts.list({ limit: 10, status: 'completed' })).items.map((s) => s.rollout.id)).toEqual([
        'ro-l2',
      ])
      const active = (await rollouts.active()).map((s) => s.rollout.id)
      expect(active).not.toContain('ro-l2')
      expect(active.indexOf('ro-l1')).toBeLessThan(active.indexOf('ro-l3'))
    })

    it('when saves add timeline entries, then each is numbered once, in order, and logged with the status then', async () => {
      const { rollouts } = fixture
      const from = await rollouts.newestEvent()
      const created = await rollouts.create(withEvent(rollout('ro-log'), { time: 1, event: 'created' }))
      expect(created.rollout.timeline.map((e) => e.seq)).toEqual([from + 1])
      const applying = { ...created.rollout, status: 'applying' as const, wave: 0 }
      const twice = withEvent(withEvent(applying, { time: 2, event: 'wave-started', wave: 0 }), { time: 3, event: 'x' })
      const saved = await rollouts.save(twice, created.version)
      expect(saved.rollout.timeline.map((e) => e.seq)).toEqual([from + 1, from + 2, from + 3])
      expect((await rollouts.get('ro-log'))?.rollout.timeline).toEqual(saved.rollout.timeline)
      // A refused save logs nothing.
      await expect(rollouts.save(withEvent(applying, { time: 4, event: 'lost' }), created.version)).rejects.toThrow()
      expect(await rollouts.newestEvent()).toBe(from + 3)
      const page = await rollouts.eventsAfter(from, 2)
      expect(page.more).toBe(true)
      expect(page.events.map((e) => [e.revision, e.rollout, e.entry.event, e.status, e.wave, e.dcnames])).toEqual([
        [from + 1, 'ro-log', 'created', 'pending-approval', -1, ['dc-1']],
        [from + 2, 'ro-log', 'wave-started', 'applying', 0, ['dc-1']],
      ])
      expect((await rollouts.eventsAfter(from + 2, 2)).events.map((e) => e.entry.event)).toEqual(['x'])
    })

    it('when more events are logged than it keeps, then a read from before the oldest kept is refused', async () => {
      const { rollouts } = fixture
      let stored = await rollouts.create(rollout('ro-many'))
      for (let i = 0; i < KEPT + 2; i++) {
        stored = await rollouts.save(withEvent(stored.rollout, { time: i, event: 'wave-baked' }), stored.version)
      }
      const newest = await rollouts.newestEvent()
      await expect(rollouts.eventsAfter(newest - KEPT - 1, 100)).rejects.toBeInstanceOf(HistoryCompactedError)
      const kept = await rollouts.eventsAfter(newest - KEPT, 100)
      expect(kept.events.map((e) => e.revision)).toEqual(Array.from({ length: KEPT }, (_, i) => newest - KEPT + 1 + i))
    })

    it("when a write carries a rollout id, then the config's history and change feed keep it", async () => {
      const { configs } = fixture
      const created = await configs.create(config('dc-rollout'), { actor: 'alice', requestId: '' })
      const changed = await configs.replace(
        config('dc-rollout', { a: 2 }),
        {},
        { actor: 'alice', requestId: '', rollout: 'ro-x' },
      )
      const { stored } = await configs.rollback(
        'dc-rollout',
        created.revision,
        {},
        { actor: 'alice', requestId: '', rollout: 'ro-x' },
      )
      const { entries } = await configs.history('dc-rollout', { limit: 10 })
      expect(entries.map((e) => [e.revision, e.rollout, e.rollbackOf])).toEqual([
        [stored.revision, 'ro-x', created.revision],
        [changed.stored.revision, 'ro-x', undefined],
        [created.revision, undefined, undefined],
      ])
      const page = await configs.changesAfter({ after: created.revision, limit: 10, bytes: 1_000_000 })
      expect(page.events.map((e) => e.rollout)).toEqual(['ro-x', 'ro-x'])
    })
  })
}

describeRolloutStoreContract('SQLite', async () => {
  const dir = tempDir('rollout-store-')
  const path = join(dir, 'configs.db')
  const configs = new SqliteConfigStore({ path, open: openBunSqlite })
  const rollouts = new SqliteRolloutStore(openBunSqlite, path, KEPT)
  return {
    configs,
    rollouts,
    async close() {
      await rollouts.close()
      await configs.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describeRolloutStoreContract('PostgreSQL', async () => {
  const server = await sharedPostgres()
  const url = await server.createDatabase('rollouts')
  const configs = await PostgresConfigStore.open({ url, connectRetries: 0 })
  const rollouts = new PostgresRolloutStore({ url }, KEPT)
  return {
    configs,
    rollouts,
    async close() {
      await rollouts.close()
      await configs.close()
    },
  }
})

describe('the PostgreSQL rollout driver lease', () => {
  let server: SharedPostgres
  let url: string
  beforeAll(async () => {
    server = await sharedPostgres()
    url = await server.createDatabase('rollout_lease')
    await (await PostgresConfigStore.open({ url, connectRetries: 0 })).close()
  }, 60_000)

  it('when two replicas ask for it, then one holds it, and the other takes it once the first one is gone', async () => {
    const a = new PostgresRolloutLease({ url })
    const b = new PostgresRolloutLease({ url })
    try {
      expect(await a.hold()).toBe(true)
      expect(await b.hold()).toBe(false)
      expect(await a.hold()).toBe(true)
      // Its connection ends as a dead replica's does: the session, and the lock with it.
      await a.release()
      expect(await b.hold()).toBe(true)
      expect(await b.hold()).toBe(true)
    } finally {
      await a.release()
      await b.release()
    }
  })
})

/** A rollout saved by a build before the event log: its entries have no seq. */
const OLD = withEvent(withEvent(rollout('ro-old', 'baking'), { time: 1, event: 'created' }), { time: 2, event: 'x' })

/** After the upgrade: the old entries are numbered 0 and never logged; the next save logs only its own. */
async function expectUpgraded(rollouts: RolloutStore) {
  const before = await rollouts.get('ro-old')
  expect(before?.rollout.timeline.map((e) => [e.event, e.seq])).toEqual([
    ['created', 0],
    ['x', 0],
  ])
  const saved = await rollouts.save(withEvent(before?.rollout as Rollout, { time: 3, event: 'wave-baked' }), 1)
  expect(saved.rollout.timeline.map((e) => e.seq)).toEqual([0, 0, 1])
  expect((await rollouts.eventsAfter(0, 10)).events.map((e) => [e.revision, e.entry.event])).toEqual([
    [1, 'wave-baked'],
  ])
}

describe('a rollout store from before the event log', () => {
  it('when a SQLite file is upgraded, then the rollouts saved before keep their entries, numbered 0 and not logged', async () => {
    const dir = tempDir('rollout-upgrade-')
    const path = join(dir, 'configs.db')
    const db = openBunSqlite(path)
    migrateSqlite(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.version < 10),
    )
    db.prepare("INSERT INTO rollouts (id, status, version, body) VALUES ('ro-old', 'baking', 1, ?)").run(
      JSON.stringify(OLD),
    )
    db.close()
    const rollouts = new SqliteRolloutStore(openBunSqlite, path)
    try {
      await expectUpgraded(rollouts)
    } finally {
      await rollouts.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('when a PostgreSQL database is upgraded, then the rollouts saved before keep their entries, numbered 0 and not logged', async () => {
    const url = await (await sharedPostgres()).createDatabase('rollout_upgrade')
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await migratePostgres(
        sql,
        PG_MIGRATIONS.filter((m) => m.version < 8),
      )
      await sql`INSERT INTO rollouts (id, status, version, body) VALUES ('ro-old', 'baking', 1, ${JSON.stringify(OLD)}::text::jsonb)`
      await migratePostgres(sql)
    } finally {
      await sql.end()
    }
    const rollouts = new PostgresRolloutStore({ url })
    try {
      await expectUpgraded(rollouts)
    } finally {
      await rollouts.close()
    }
  })
})
