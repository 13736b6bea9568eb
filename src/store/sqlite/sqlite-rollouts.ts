/**
 * RolloutStore on the SQLite file of the config store, through a connection of its own: its
 * tables are made by the store's migrations (sqlite-migrations.ts), which run first. Rollout
 * saves are few (a step of a wave, not a config write), so they do not join the config writes'
 * group commit; WAL and the busy timeout let the two connections take turns.
 */
import type { Rollout } from '../../configs/rollouts/rollout-model.ts'
import {
  type RolloutListQuery,
  type RolloutStore,
  RolloutVersionError,
  type StoredRollout,
} from '../../configs/rollouts/rollout-store.ts'
import { ACTIVE, type RolloutRow, storedRolloutOf } from '../rollout-rows.ts'
import type { OpenSqlite, SqliteDatabase } from './sqlite-driver.ts'
import { migrate } from './sqlite-migrations.ts'

export class SqliteRolloutStore implements RolloutStore {
  private readonly db: SqliteDatabase
  private readonly statements

  constructor(open: OpenSqlite, path: string) {
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
    }
  }

  async create(rollout: Rollout): Promise<StoredRollout> {
    this.statements.insert.run(rollout.id, rollout.status, JSON.stringify(rollout))
    return { rollout, version: 1 }
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
    const { changes } = this.statements.save.run(rollout.status, JSON.stringify(rollout), rollout.id, version)
    if (Number(changes) !== 1) throw new RolloutVersionError(rollout.id, version)
    return { rollout, version: version + 1 }
  }

  async close(): Promise<void> {
    this.db.close()
  }
}
