/**
 * RolloutStore on PostgreSQL, with a client of its own (two connections): its tables are made by
 * the store's migrations (postgres-migrations.ts), which run first. The driver's lease is in
 * postgres-rollout-lease.ts.
 *
 * A save and the event rows of the entries it adds are one transaction, which first locks the
 * event log against other writers (readers go on): `seq` is the newest plus one, given and
 * committed in the same order, so a feed reading after the newest it saw never skips an event
 * that commits later with a smaller number (as a plain sequence could).
 */
import postgres, { type Sql, type TransactionSql } from 'postgres'
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
import { clientOptions, type PostgresStoreOptions } from './postgres-connect.ts'

export class PostgresRolloutStore implements RolloutStore {
  private readonly sql: Sql

  /** `keptEvents`: the event log keeps the newest this many (ROLLOUT_EVENTS_KEPT). */
  constructor(
    options: PostgresStoreOptions,
    private readonly keptEvents = 10_000,
  ) {
    this.sql = postgres(options.url, { ...clientOptions(options), max: 2, idle_timeout: 60 })
  }

  async create(rollout: Rollout): Promise<StoredRollout> {
    return this.logged(rollout, async (tx, numbered) => {
      await tx`INSERT INTO rollouts (id, status, version, body)
               VALUES (${numbered.id}, ${numbered.status}, 1, ${JSON.stringify(numbered)}::text::jsonb)`
      return 1
    })
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
    return this.logged(rollout, async (tx, numbered) => {
      const saved = await tx`
        UPDATE rollouts SET status = ${numbered.status}, version = version + 1, body = ${JSON.stringify(numbered)}::text::jsonb
        WHERE id = ${numbered.id} AND version = ${version}`
      if (saved.count !== 1) throw new RolloutVersionError(rollout.id, version)
      return version + 1
    })
  }

  async newestEvent(): Promise<number> {
    const [row] = await this.sql<{ seq: string }[]>`SELECT coalesce(max(seq), 0) AS seq FROM rollout_events`
    return Number(row?.seq ?? 0)
  }

  async eventsAfter(after: number, limit: number): Promise<RolloutEventPage> {
    // One statement, one snapshot: the page and the oldest kept event are of the same moment.
    const rows = await this.sql<(RolloutEventRow & { oldest: string | null; dcnames: string })[]>`
      WITH page AS (
        SELECT seq, rollout_id, status, wave, entry::text AS entry FROM rollout_events
        WHERE seq > ${after} ORDER BY seq LIMIT ${limit + 1}
      )
      SELECT o.oldest, p.seq, p.rollout_id, p.status, p.wave, p.entry,
             (SELECT jsonb_path_query_array(r.body, '$.configs[*].dcname')::text FROM rollouts r
              WHERE r.id = p.rollout_id) AS dcnames
      FROM (SELECT min(seq) AS oldest FROM rollout_events) o LEFT JOIN page p ON true
      ORDER BY p.seq`
    const oldest = rows[0]?.oldest
    if (oldest != null && after < Number(oldest) - 1) throw new HistoryCompactedError(after, Number(oldest) - 1)
    const found = rows.filter((row) => row.seq !== null)
    const dcnames = new Map<string, readonly string[]>()
    const events = found.slice(0, limit).map((row) => {
      let names = dcnames.get(row.rollout_id)
      if (names === undefined) {
        names = JSON.parse(row.dcnames ?? '[]') as string[]
        dcnames.set(row.rollout_id, names)
      }
      return rolloutEventOf(row, names)
    })
    return { events, more: found.length > limit }
  }

  /** Writes the rollout (`write`, which returns its new version) and logs its new entries, in one transaction. */
  private async logged(
    rollout: Rollout,
    write: (tx: TransactionSql, numbered: Rollout) => Promise<number>,
  ): Promise<StoredRollout> {
    return (await this.sql.begin(async (tx) => {
      // Other savers wait here until this one commits; readers of the log do not.
      await tx`LOCK TABLE rollout_events IN SHARE ROW EXCLUSIVE MODE`
      const [newest] = await tx<{ seq: string }[]>`SELECT coalesce(max(seq), 0) AS seq FROM rollout_events`
      const { rollout: numbered, rows } = numberNewEntries(rollout, Number(newest?.seq ?? 0))
      const version = await write(tx, numbered)
      for (const row of rows) {
        await tx`INSERT INTO rollout_events (seq, rollout_id, status, wave, entry)
                 VALUES (${row.seq}, ${row.rollout_id}, ${row.status}, ${row.wave}, ${row.entry}::text::jsonb)`
      }
      const last = rows.at(-1)
      if (last) await tx`DELETE FROM rollout_events WHERE seq <= ${Number(last.seq) - this.keptEvents}`
      return { rollout: numbered, version }
    })) as StoredRollout
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 })
  }
}
