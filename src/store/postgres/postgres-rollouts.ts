/**
 * RolloutStore on PostgreSQL, with a client of its own (two connections): its tables are made by
 * the store's migrations (postgres-migrations.ts), which run first. The driver's lease is in
 * postgres-rollout-lease.ts.
 */
import postgres, { type Sql } from 'postgres'
import type { Rollout } from '../../configs/rollouts/rollout-model.ts'
import {
  type RolloutListQuery,
  type RolloutStore,
  RolloutVersionError,
  type StoredRollout,
} from '../../configs/rollouts/rollout-store.ts'
import { ACTIVE, type RolloutRow, storedRolloutOf } from '../rollout-rows.ts'
import { clientOptions, type PostgresStoreOptions } from './postgres-connect.ts'

export class PostgresRolloutStore implements RolloutStore {
  private readonly sql: Sql

  constructor(options: PostgresStoreOptions) {
    this.sql = postgres(options.url, { ...clientOptions(options), max: 2, idle_timeout: 60 })
  }

  async create(rollout: Rollout): Promise<StoredRollout> {
    await this.sql`INSERT INTO rollouts (id, status, version, body)
                   VALUES (${rollout.id}, ${rollout.status}, 1, ${JSON.stringify(rollout)}::text::jsonb)`
    return { rollout, version: 1 }
  }

  async get(id: string): Promise<StoredRollout | undefined> {
    const [row] = await this.sql<RolloutRow[]>`SELECT body::text AS body, version FROM rollouts WHERE id = ${id}`
    return row ? storedRolloutOf(row) : undefined
  }

  async list(query: RolloutListQuery): Promise<{ items: StoredRollout[]; more: boolean }> {
    const before = query.before ?? null
    const status = query.status ?? null
    const rows = await this.sql<RolloutRow[]>`
      SELECT body::text AS body, version FROM rollouts
      WHERE seq < coalesce((SELECT seq FROM rollouts WHERE id = ${before}), 9223372036854775807)
        AND (${status}::text IS NULL OR status = ${status}::text)
      ORDER BY seq DESC LIMIT ${query.limit + 1}`
    return { items: rows.slice(0, query.limit).map(storedRolloutOf), more: rows.length > query.limit }
  }

  async active(): Promise<StoredRollout[]> {
    const rows = await this.sql<RolloutRow[]>`
      SELECT body::text AS body, version FROM rollouts WHERE status IN ${this.sql(ACTIVE)} ORDER BY seq`
    return rows.map(storedRolloutOf)
  }

  async save(rollout: Rollout, version: number): Promise<StoredRollout> {
    const saved = await this.sql`
      UPDATE rollouts SET status = ${rollout.status}, version = version + 1, body = ${JSON.stringify(rollout)}::text::jsonb
      WHERE id = ${rollout.id} AND version = ${version}`
    if (saved.count !== 1) throw new RolloutVersionError(rollout.id, version)
    return { rollout, version: version + 1 }
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 })
  }
}
