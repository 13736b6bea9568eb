/**
 * Group commit for the writes of one replica: the writes that queue while a transaction runs
 * (or arrive in the same turn of the event loop) share the next transaction, and so one COMMIT
 * and one fsync, instead of waiting in line for one each. The database runs writes one at a time
 * anyway (the counter row in `store_state`), and one transaction per replica at a time hands that
 * row lock on faster than a crowd of them waiting on it.
 *
 * Each write runs in a savepoint of its own: one that fails (a conflict, a failed precondition,
 * a statement the database refuses) is rolled back to its savepoint and fails alone, and the
 * next write takes the revision it gave back, so revisions stay without gaps. Planned writes
 * queued next to each other (config writes: config-writes.ts) run together instead, in one
 * savepoint and a few statements for all of them; should a statement of theirs fail, that
 * savepoint is undone and they run each in its own, as above, so that the refused one fails
 * alone. Together, 32 writes take about a fifth of the time (bench/README.md). No write is
 * answered before the COMMIT holding it returned; if the transaction itself fails (the
 * connection is lost, COMMIT fails), every write of it fails as unavailable, and none is stored.
 *
 * The transaction runs on a reserved connection with its statements written by hand rather than
 * in the client's `begin`/`savepoint`: those await each BEGIN and SAVEPOINT on its own, and fail
 * the whole transaction on any failed statement. Here BEGIN and SAVEPOINT go out with the write's
 * first statements (one round trip), and a failed statement fails its write only. Once the
 * connection is lost, nothing more is sent on it and it is not handed back: the client (3.4.9)
 * would write to the closed socket from a timer, which throws where nobody can catch it, and a
 * handed-back connection would go to the next query as if it were open.
 */
import { setImmediate } from 'node:timers'
import type { ReservedSql, Sql } from 'postgres'
import { StoreUnavailableError } from '../../configs/config-store.ts'
import { isConnectionLost, isUnavailable, unavailableOrRethrow } from './postgres-errors.ts'

/**
 * Writes per transaction, at most. Each write may be one subtransaction (its savepoint), and
 * PostgreSQL keeps the subtransactions of a session in a cache of 64 (PGPROC_MAX_CACHED_SUBXIDS);
 * past that, every other session's snapshot has to consult pg_subtrans, which slows all readers.
 */
export const MAX_BATCH = 64

/** A write's statements, run in the batch's transaction on `sql`. */
export type WriteWork<T> = (sql: Sql) => Promise<T>

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

/**
 * Runs the plans of writes queued next to each other together, an outcome each (config-writes.ts);
 * throws when a statement failed, and then each runs alone, as its `work`, to find which failed.
 * `late(i)`: the outcome of plan `i` when it waited too long for its turn, asked just before it
 * is decided (the plans before it may have taken long).
 */
export type RunTogether<P, R> = (
  sql: Sql,
  plans: P[],
  late: (i: number) => Outcome<R> | undefined,
) => Promise<Outcome<R>[]>

type QueuedWrite<R, P> = {
  work: WriteWork<R>
  /** Set for a write that may run together with the planned writes next to it. */
  plan?: P
  queuedAt: number
  resolve: (value: R) => void
  reject: (error: unknown) => void
}

export class GroupCommit<R, P = never> {
  private queued: QueuedWrite<R, P>[] = []
  private running = false
  private scheduled = false
  private closed = false

  /**
   * `timeoutMs`: a write that waited this long before its turn gives up without running (0:
   * never), so that an overloaded replica answers 503 rather than hang.
   * `committed`: the results of each transaction once it committed, before any is answered.
   */
  constructor(
    private readonly sql: Sql,
    private readonly timeoutMs: number,
    private readonly committed: (results: R[]) => void,
    private readonly together?: RunTogether<P, R>,
  ) {}

  /**
   * Queues `work` for the next transaction; settles once that transaction committed. With a
   * `plan`, the write runs together with the planned writes queued next to it (`together`).
   */
  run<T extends R>(work: WriteWork<T>, plan?: P): Promise<T> {
    // The client would wait for a connection of an ended pool forever.
    if (this.closed) return Promise.reject(new StoreUnavailableError(new Error('the store is closed')))
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ work, plan, queuedAt: Date.now(), resolve: resolve as (value: R) => void, reject })
      if (this.running || this.scheduled) return
      // One turn's wait: requests that arrive together share the first transaction too.
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        void this.drain()
      })
    })
  }

  /** Refuses writes from now on, those still queued included; a running transaction ends as it does. */
  close(): void {
    this.closed = true
    const error = new StoreUnavailableError(new Error('the store is closed'))
    for (const write of this.queued.splice(0)) write.reject(error)
  }

  /** Runs transactions while writes are queued; one at a time. */
  private async drain(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, MAX_BATCH)
        await this.commit(batch)
      }
    } finally {
      this.running = false
    }
  }

  private async commit(batch: QueuedWrite<R, P>[]): Promise<void> {
    let connection: ReservedSql
    try {
      connection = await this.sql.reserve()
    } catch (error) {
      for (const write of batch) write.reject(asUnavailable(error))
      return
    }
    const outcomes: Outcome<R>[] = []
    let lost = false
    try {
      const begun = sent(connection`BEGIN`)
      for (let i = 0; i < batch.length; ) {
        let end = i + 1
        if (this.together) while (batch[i]?.plan !== undefined && batch[end]?.plan !== undefined) end++
        // One write alone costs the same round trips either way, in simpler statements.
        if (end - i === 1) outcomes.push(await this.runOne(connection, batch[i] as QueuedWrite<R, P>))
        else outcomes.push(...(await this.runTogether(connection, batch.slice(i, end))))
        i = end
      }
      await begun
      await connection`COMMIT`
    } catch (error) {
      // The transaction failed as a whole: nothing of it is stored, so none of its writes is.
      lost = isConnectionLost(error)
      if (!lost) await connection`ROLLBACK`.catch(() => {})
      for (const write of batch) write.reject(asUnavailable(error))
      return
    } finally {
      if (!lost) connection.release()
    }
    const results = outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value] : []))
    if (results.length > 0) this.committed(results)
    batch.forEach((write, i) => {
      const outcome = outcomes[i] as Outcome<R>
      if (outcome.ok) write.resolve(outcome.value)
      else write.reject(outcome.error)
    })
  }

  /**
   * Planned writes in one savepoint, together. When a statement fails (the server refused a
   * value of one of them), the savepoint is undone and each runs alone, so that only the one
   * refused fails; when the database is unavailable, all of them fail as such.
   * Throws only when the transaction itself is lost.
   */
  private async runTogether(connection: ReservedSql, writes: QueuedWrite<R, P>[]): Promise<Outcome<R>[]> {
    const outcomes: (Outcome<R> | undefined)[] = writes.map((write) => this.expired(write))
    const live = writes.filter((_, i) => outcomes[i] === undefined)
    if (live.length > 0 && this.together) {
      const savepoint = sent(connection`SAVEPOINT batch`)
      let results: Outcome<R>[]
      try {
        const plans = live.map((write) => write.plan as P)
        results = await this.together(connection, plans, (i) => this.expired(live[i] as QueuedWrite<R, P>))
        await savepoint
      } catch (error) {
        if (isConnectionLost(error)) throw error
        await connection`ROLLBACK TO SAVEPOINT batch`
        if (isUnavailable(error)) return writes.map(() => ({ ok: false, error: asUnavailable(error) }))
        const alone: Outcome<R>[] = []
        for (const write of writes) alone.push(await this.runOne(connection, write))
        return alone
      }
      outcomes.forEach((outcome, i) => {
        if (outcome === undefined) outcomes[i] = results.shift()
      })
    }
    return outcomes as Outcome<R>[]
  }

  /** One write in its savepoint. Throws only when the transaction itself is lost. */
  private async runOne(connection: ReservedSql, write: QueuedWrite<R, P>): Promise<Outcome<R>> {
    const expired = this.expired(write)
    if (expired) return expired
    const savepoint = sent(connection`SAVEPOINT write`)
    try {
      const value = await write.work(connection)
      await savepoint
      return { ok: true, value }
    } catch (error) {
      if (isConnectionLost(error)) throw error
      // Fails, and so fails the batch, should the connection go now.
      await connection`ROLLBACK TO SAVEPOINT write`
      return { ok: false, error: unavailableOrRethrow(error) }
    }
  }

  /** A write that waited too long for its turn fails without running. */
  private expired(write: QueuedWrite<R, P>): Outcome<R> | undefined {
    if (this.timeoutMs <= 0 || Date.now() - write.queuedAt <= this.timeoutMs) return undefined
    const waited = new Error(`waited over ${this.timeoutMs} ms for earlier writes`)
    return { ok: false, error: new StoreUnavailableError(waited) }
  }
}

/**
 * Sends a statement now, ahead of those that follow on the connection, without waiting for its
 * answer; the caller awaits it later (its failure is also seen by the statements after it).
 */
function sent<T extends PromiseLike<unknown> & { execute(): unknown }>(query: T): T {
  query.execute()
  ;(query as unknown as Promise<unknown>).catch(() => {})
  return query
}

function asUnavailable(error: unknown): StoreUnavailableError {
  return error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error)
}
