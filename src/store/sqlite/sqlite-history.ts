/**
 * The history of the SQLite store. It is the `events` table itself: every write appends one row
 * there anyway (its revision is the store revision, and watch replays it), so that row, with
 * when, who and in which request, is the write's history entry, stored in the write's own
 * transaction. A second table would have cost every write a second copy of the body (see
 * bench/README.md for the measurement that decided it).
 *
 * Retention deletes old rows of one config at a time (`drop`) and remembers, per config, the
 * range of revisions it dropped (`history_compaction`), so that a read at a dropped revision
 * answers "compacted" instead of "did not exist". Store-wide, the newest revision ever dropped
 * (`meta.history_dropped_through`) tells watch replay where its history has holes.
 */
import {
  type ChangeType,
  type HistoryPage,
  type HistoryQuery,
  NotFoundError,
  type RetentionPolicy,
  type StoredConfig,
} from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import { writeDetailsOf } from '../change-event.ts'
import { stateAt } from '../history-state.ts'
import type { RetentionTarget } from '../retention.ts'
import type { SqliteDatabase } from './sqlite-driver.ts'

type EntryRow = {
  revision: number
  type: ChangeType
  body: string
  time: number
  actor: string
  request_id: string
  rollback_of: number | null
  rollout: string | null
}
type Compaction = { first_dropped: number; dropped_through: number }
type Excess = { dcname: string; excess: number | null }

export const DROPPED_THROUGH_KEY = 'history_dropped_through'

const DAY_MS = 86_400_000

interface HistoryOptions {
  /** Default: 20 entries per config, 30 days. */
  retention?: RetentionPolicy
  /** WATCH_HISTORY_SIZE: the newest writes of the store that stay, whatever their config and age. */
  historySize: number
  now: () => number
}

/** How retention reaches the store: its read snapshot, its group commit, its revision. */
interface StoreAccess {
  read<T>(work: () => T): T
  write<T>(work: () => T): Promise<T>
  revision(): number
}

export class SqliteHistory {
  private readonly statements: ReturnType<typeof prepare>
  private readonly options: Required<HistoryOptions>
  /** Entries dropped by retention through this handle. */
  dropped = 0

  constructor(db: SqliteDatabase, options: HistoryOptions) {
    this.statements = prepare(db)
    this.options = { ...options, retention: options.retention ?? { keep: 20, days: 30 } }
  }

  /** What the retention schedule runs against this store. */
  retentionTarget(store: StoreAccess): RetentionTarget {
    return {
      prune: (dcnames) => this.prune(dcnames, store),
      overKeep: async () => store.read(() => this.overKeep(this.options.retention.keep)),
    }
  }

  /**
   * Retention of some configs: one read finds those holding more than `keep` entries (one
   * statement for the whole chunk: most have no more, and say so in an index probe each), and
   * only those with something droppable are pruned, in a write that shares the next group
   * commit with the writes queued beside it (no commit of its own). Returns the configs still
   * holding more than `keep` entries.
   */
  private async prune(dcnames: string[], store: StoreAccess): Promise<string[]> {
    const { keep, days } = this.options.retention
    const cutoff = this.options.now() - days * DAY_MS
    const over: string[] = []
    const toDrop: { dcname: string; through: number }[] = []
    store.read(() => {
      // The oldest of the store's newest WATCH_HISTORY_SIZE writes stays, whatever its config.
      const horizon = store.revision() - this.options.historySize
      const rows = this.statements.excessIn.all(keep, JSON.stringify(dcnames)) as Excess[]
      for (const { dcname, excess } of rows) {
        if (excess == null) continue
        over.push(dcname)
        const through = Math.min(Number(excess), horizon)
        if (this.statements.anyDroppable.get(dcname, through, cutoff)) toDrop.push({ dcname, through })
      }
    })
    if (toDrop.length === 0) return over
    const outcomes = await store.write(() =>
      toDrop.map(({ dcname, through }) => ({ dcname, ...this.drop(dcname, through, keep, cutoff) })),
    )
    // Counted once committed: a batch that is run again must not count twice.
    for (const outcome of outcomes) this.dropped += outcome.dropped
    const pruned = new Set(toDrop.map((d) => d.dcname))
    return [...over.filter((dcname) => !pruned.has(dcname)), ...outcomes.filter((o) => o.over).map((o) => o.dcname)]
  }

  page(dcname: string, query: HistoryQuery): HistoryPage {
    const before = query.before ?? Number.MAX_SAFE_INTEGER
    const rows = this.statements.page.all(dcname, before, query.limit + 1) as EntryRow[]
    if (rows.length === 0 && !this.known(dcname)) throw new NotFoundError(dcname)
    return {
      entries: rows.slice(0, query.limit).map((row) => ({
        revision: Number(row.revision),
        type: row.type,
        time: new Date(Number(row.time)).toISOString(),
        actor: row.actor,
        ...writeDetailsOf(row),
        config: JSON.parse(row.body) as Config,
      })),
      more: rows.length > query.limit,
    }
  }

  /** See ConfigStore.getAt. */
  stateAt(dcname: string, revision: number): StoredConfig | undefined {
    const entry = this.statements.latestAt.get(dcname, revision) as Pick<EntryRow, 'revision' | 'type' | 'body'> | null
    const compaction = this.statements.compaction.get(dcname) as Compaction | undefined | null
    const oldest = compaction ? (this.statements.oldestKept.get(dcname) as { revision: number | null } | null) : null
    return stateAt({
      dcname,
      revision,
      entry: entry ? { ...entry, revision: Number(entry.revision) } : undefined,
      dropped: compaction
        ? { first: Number(compaction.first_dropped), through: Number(compaction.dropped_through) }
        : undefined,
      oldestKept: oldest?.revision == null ? undefined : Number(oldest.revision),
    })
  }

  /** The newest revision retention ever dropped, store-wide (0: none). */
  droppedThrough(): number {
    const row = this.statements.getMeta.get(DROPPED_THROUGH_KEY) as { value: string } | undefined | null
    return row ? Number(row.value) : 0
  }

  count(): number {
    return Number((this.statements.count.get() as { n: number }).n)
  }

  private overKeep(keep: number): string[] {
    return (this.statements.overKeep.all(keep) as { dcname: string }[]).map((row) => row.dcname)
  }

  /**
   * Inside a write transaction: drops the entries of `dcname` up to `through` written at or
   * before `cutoff`; returns how many went and whether it still holds more than `keep`.
   */
  private drop(dcname: string, through: number, keep: number, cutoff: number): { dropped: number; over: boolean } {
    const gone = this.statements.drop.all(dcname, through, cutoff) as { revision: number }[]
    if (gone.length > 0) {
      let first = Number.POSITIVE_INFINITY
      let last = 0
      for (const row of gone) {
        first = Math.min(first, Number(row.revision))
        last = Math.max(last, Number(row.revision))
      }
      this.statements.recordCompaction.run(dcname, first, last)
      if (last > this.droppedThrough()) this.statements.setMeta.run(DROPPED_THROUGH_KEY, String(last))
    }
    return { dropped: gone.length, over: this.statements.excessOf.get(dcname, keep) != null }
  }

  private known(dcname: string): boolean {
    return Boolean(this.statements.anyEntry.get(dcname) ?? this.statements.compaction.get(dcname))
  }
}

function prepare(db: SqliteDatabase) {
  return {
    page: db.prepare(
      `SELECT revision, type, body, time, actor, request_id, rollback_of, rollout FROM events
       WHERE dcname = ? AND revision < ? ORDER BY revision DESC LIMIT ?`,
    ),
    latestAt: db.prepare(
      'SELECT revision, type, body FROM events WHERE dcname = ? AND revision <= ? ORDER BY revision DESC LIMIT 1',
    ),
    oldestKept: db.prepare('SELECT min(revision) AS revision FROM events WHERE dcname = ?'),
    anyEntry: db.prepare('SELECT 1 AS found FROM events WHERE dcname = ? LIMIT 1'),
    compaction: db.prepare('SELECT first_dropped, dropped_through FROM history_compaction WHERE dcname = ?'),
    recordCompaction: db.prepare(
      `INSERT INTO history_compaction (dcname, first_dropped, dropped_through) VALUES (?, ?, ?)
       ON CONFLICT (dcname) DO UPDATE SET
         first_dropped = min(first_dropped, excluded.first_dropped),
         dropped_through = max(dropped_through, excluded.dropped_through)`,
    ),
    count: db.prepare('SELECT count(*) AS n FROM events'),
    overKeep: db.prepare('SELECT dcname FROM events GROUP BY dcname HAVING count(*) > ?'),
    /** The newest entry beyond the newest `keep` (OFFSET keep): absent when there are no more than `keep`. */
    excessOf: db.prepare('SELECT revision FROM events WHERE dcname = ? ORDER BY revision DESC LIMIT 1 OFFSET ?'),
    /** The same for a JSON array of names. */
    excessIn: db.prepare(
      `SELECT j.value AS dcname,
         (SELECT revision FROM events WHERE dcname = j.value ORDER BY revision DESC LIMIT 1 OFFSET ?) AS excess
       FROM json_each(?) j`,
    ),
    // Asks the config's oldest entry only (one index probe): entries are written in revision
    // order with the time of their write, so when the oldest is too young to drop, so are the
    // rest. Scanning for any old one read a write-hot config's whole history on every pass.
    // Should the clock step back, a later entry dropped late is the worst that can happen.
    anyDroppable: db.prepare(
      `SELECT 1 AS found FROM (SELECT time FROM events WHERE dcname = ? AND revision <= ? ORDER BY revision LIMIT 1)
       WHERE time <= ?`,
    ),
    drop: db.prepare('DELETE FROM events WHERE dcname = ? AND revision <= ? AND time <= ? RETURNING revision'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
  }
}
