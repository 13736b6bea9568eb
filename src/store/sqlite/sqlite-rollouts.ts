/**
 * RolloutStore on the SQLite file of the config store, through a connection of its own: its
 * tables are made by the store's migrations (sqlite-migrations.ts), which run first. Rollout
 * saves are few (a step of a wave, not a config write), so they do not join the config writes'
 * group commit; WAL and the busy timeout let the two connections take turns. A save and the
 * event rows of the entries it adds are one IMMEDIATE transaction: SQLite has one writer at a
 * time, so `seq` is given in commit order.
 */
import type { Rollout } from '../../configs/rollouts/rollout-model.ts'
import {
  type RolloutEventPage,
  type RolloutListQuery,
  type RolloutStore,
  RolloutVersionError,
  type StoredRollout,
} from '../../configs/rollouts/rollout-store.ts'
import { HistoryCompactedError } from '../../configs/store-errors.ts'
import {
  ACTIVE,
  numberNewEntries,
  type RolloutEventRow,
  type RolloutRow,
  rolloutEventOf,
  storedRolloutOf,
} from '../rollout-rows.ts'
import type { OpenSqlite, SqliteDatabase } from './sqlite-driver.ts'
import { migrate } from './sqlite-migrations.ts'

export class SqliteRolloutStore implements RolloutStore {
  private readonly db: SqliteDatabase
  private readonly statements

  /** `keptEvents`: the event log keeps the newest this many (ROLLOUT_EVENTS_KEPT). */
  constructor(
    open: OpenSqlite,
    path: string,
    private readonly keptEvents = 10_000,
  ) {
    this.db = open(path)
    this.db.exec('PRAGMA journal_mode = WAL')
    this.db.exec('PRAGMA synchronous = FULL')
    this.db.exec('PRAGMA busy_timeout = 5000')
    // Nothing to do once the config store has migrated the file (it opens first); `:memory:` is a
    // database of its own, which this makes.
    migrate(this.db)
    const marks = ACTIVE.map(() => '?').join(', ')
    this.statements = {
      insert: this.db.prepare('INSERT INTO rollouts (id, status, version, body) VALUES (?, ?, 1, ?)'),
      get: this.db.prepare('SELECT body, version FROM rollouts WHERE id = ?'),
      page: this.db.prepare(
        `SELECT body, version FROM rollouts
         WHERE seq < coalesce((SELECT seq FROM rollouts WHERE id = ?1), 9223372036854775807)
           AND (?2 IS NULL OR status = ?2)
         ORDER BY seq DESC LIMIT ?3`,
      ),
      active: this.db.prepare(`SELECT body, version FROM rollouts WHERE status IN (${marks}) ORDER BY seq`),
      save: this.db.prepare(
        'UPDATE rollouts SET status = ?, version = version + 1, body = ? WHERE id = ? AND version = ?',
      ),
      newest: this.db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM rollout_events'),
      oldest: this.db.prepare('SELECT min(seq) AS seq FROM rollout_events'),
      log: this.db.prepare('INSERT INTO rollout_events (seq, rollout_id, status, wave, entry) VALUES (?, ?, ?, ?, ?)'),
      prune: this.db.prepare('DELETE FROM rollout_events WHERE seq <= ?'),
      after: this.db.prepare(
        'SELECT seq, rollout_id, status, wave, entry FROM rollout_events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      dcnames: this.db.prepare(
        `SELECT (SELECT json_group_array(json_extract(c.value, '$.dcname')) FROM json_each(body, '$.configs') c)
           AS dcnames FROM rollouts WHERE id = ?`,
      ),
    }
  }

  async create(rollout: Rollout): Promise<StoredRollout> {
    return this.logged(rollout, (numbered) => {
      this.statements.insert.run(numbered.id, numbered.status, JSON.stringify(numbered))
      return 1
    })
  }

  async get(id: string): Promise<StoredRollout | undefined> {
    const row = this.statements.get.get(id) as RolloutRow | undefined | null
    return row ? storedRolloutOf(row) : undefined
  }

  async list(query: RolloutListQuery): Promise<{ items: StoredRollout[]; more: boolean }> {
    const rows = this.statements.page.all(
      query.before ?? null,
      query.status ?? null,
      query.limit + 1,
    ) as unknown as RolloutRow[]
    return { items: rows.slice(0, query.limit).map(storedRolloutOf), more: rows.length > query.limit }
  }

  async active(): Promise<StoredRollout[]> {
    return (this.statements.active.all(...ACTIVE) as unknown as RolloutRow[]).map(storedRolloutOf)
  }

  async save(rollout: Rollout, version: number): Promise<StoredRollout> {
    return this.logged(rollout, (numbered) => {
      const { changes } = this.statements.save.run(numbered.status, JSON.stringify(numbered), numbered.id, version)
      if (Number(changes) !== 1) throw new RolloutVersionError(rollout.id, version)
      return version + 1
    })
  }

  async newestEvent(): Promise<number> {
    return Number((this.statements.newest.get() as { seq: number }).seq)
  }

  async eventsAfter(after: number, limit: number): Promise<RolloutEventPage> {
    // One read transaction: the page and the oldest kept event are of the same moment.
    this.db.exec('BEGIN')
    try {
      const oldest = (this.statements.oldest.get() as { seq: number | null }).seq
      if (oldest !== null && after < Number(oldest) - 1) throw new HistoryCompactedError(after, Number(oldest) - 1)
      const rows = this.statements.after.all(after, limit + 1) as unknown as RolloutEventRow[]
      const dcnames = new Map<string, readonly string[]>()
      const events = rows.slice(0, limit).map((row) => {
        let names = dcnames.get(row.rollout_id)
        if (names === undefined) {
          const found = this.statements.dcnames.get(row.rollout_id) as { dcnames: string | null } | undefined | null
          names = JSON.parse(found?.dcnames ?? '[]') as string[]
          dcnames.set(row.rollout_id, names)
        }
        return rolloutEventOf(row, names)
      })
      return { events, more: rows.length > limit }
    } finally {
      this.db.exec('COMMIT')
    }
  }

  /** Writes the rollout (`write`, which returns its new version) and logs its new entries, in one transaction. */
  private logged(rollout: Rollout, write: (numbered: Rollout) => number): StoredRollout {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const newest = Number((this.statements.newest.get() as { seq: number }).seq)
      const { rollout: numbered, rows } = numberNewEntries(rollout, newest)
      const version = write(numbered)
      for (const row of rows) this.statements.log.run(row.seq, row.rollout_id, row.status, row.wave, row.entry)
      const last = rows.at(-1)
      if (last) this.statements.prune.run(Number(last.seq) - this.keptEvents)
      this.db.exec('COMMIT')
      return { rollout: numbered, version }
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
  }

  async close(): Promise<void> {
    this.db.close()
  }
}
