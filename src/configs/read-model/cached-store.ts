/**
 * A ConfigStore decorator that answers get, list and search from a read model in memory
 * (read-model.ts), fed by the store's change feed after an initial load; writes, history and the
 * feed itself go to the store. As Kubernetes' watch cache with consistent reads (KEP-2340):
 *
 * - `synchronous` (SQLite: one process, which makes every write): the store tells its
 *   subscribers of a write in the commit, before the write is acknowledged, so the model already
 *   holds every acknowledged write and reads answer at once.
 * - `revision` (PostgreSQL: other replicas write too): a read first asks the store for its
 *   current revision, then waits until the model has applied it, then answers from memory. Reads
 *   that arrive while a revision query is out share the next one (not that one: it may have
 *   been sent before their caller's write was acknowledged), and its wait (revision-rounds.ts).
 *   A read that cannot catch up within `waitTimeoutMs` fails with ReadModelBehindError (a 503
 *   to retry), never a stale answer.
 *
 * While the model loads (at start-up, or again after its feed was lost), the store answers reads
 * itself, as it would without a model: readiness does not wait for the load.
 */
import { setImmediate } from 'node:timers'
import {
  type ChangeEvent,
  type ConfigStore,
  type HistoryCompactedError,
  type ListPage,
  type ListQuery,
  type StoredConfig,
  StoreUnavailableError,
} from '../config-store.ts'
import { PORT_MEMBERS, passingOn } from '../pass-on.ts'
import { PageCache } from './page-cache.ts'
import { ReadModel } from './read-model.ts'
import { type RevisionRound, RevisionRounds, TIMED_OUT } from './revision-rounds.ts'

export interface CachedStoreOptions {
  consistency: 'synchronous' | 'revision'
  /** How long a read may wait for the model to catch up (and for the revision query). */
  waitTimeoutMs: number
  /** Each consistent read's wait before answering, in seconds (revision query included). */
  onWait?: (seconds: number) => void
  /** The model is loaded again from the store (its feed lost events); `error` says why. */
  onReload?: (error: Error) => void
  /** How long a failed load waits before it tries again. */
  retryMs?: number
}

/** The read model did not catch up with the store in time: retry shortly (503 with Retry-After). */
export class ReadModelBehindError extends StoreUnavailableError {
  constructor(
    readonly waitedMs: number,
    readonly target: number,
    readonly applied: number,
  ) {
    super(
      new Error(
        `the read model of this replica is at revision ${applied}, not yet at the store's ${target}, after ${waitedMs} ms`,
      ),
    )
    this.name = 'ReadModelBehindError'
    this.message = (this.cause as Error).message
  }
}

const LOAD_PAGE = 500

interface Waiter {
  revision: number
  resolve: () => void
}

/**
 * Writes go to the store untouched (a rollback too: the model learns each from the feed); history
 * and past states are read from the store (the model holds only the present); the feed is the
 * store's own, and so are counting, ping and schemas (every write checks the schemas there, under
 * its lock).
 */
const PASSED_ON = [
  ...PORT_MEMBERS.writer,
  ...PORT_MEMBERS.history,
  ...PORT_MEMBERS.feed,
  'count',
  'ping',
  'backend',
  'schemas',
] as const

export class CachedConfigStore extends passingOn(PASSED_ON) implements ConfigStore {
  /** Undefined while (re)loading; then feed events wait in `buffered`. */
  private model: ReadModel | undefined
  private buffered: ChangeEvent[] = []
  private bufferedProgress = 0
  private waiters: Waiter[] = []
  private unsubscribe: (() => void) | undefined
  private loading: Promise<void> | undefined
  private closed = false
  /** Counts loads: a load that a newer one replaced (the feed was lost meanwhile) installs nothing. */
  private generation = 0
  /** The newest revision the store reported, for the lag gauge. */
  private storeRevision = 0
  private readonly rounds: RevisionRounds<ReadModel | undefined>
  private readonly pages = new PageCache()

  constructor(
    private readonly store: ConfigStore,
    private readonly options: CachedStoreOptions,
  ) {
    super(store)
    this.rounds = new RevisionRounds(
      options.waitTimeoutMs,
      () => store.currentRevision(),
      (target) => this.reached(target),
    )
  }

  /** Loads the model (once); resolves when reads are answered from it. */
  start(): Promise<void> {
    this.loading ??= this.load()
    return this.loading
  }

  /** Revisions the model is behind the newest one the store reported (0 on SQLite). */
  lag(): number {
    return Math.max(0, this.storeRevision - (this.model?.revision ?? 0))
  }

  async get(dcname: string): Promise<StoredConfig | undefined> {
    const model = await this.readable()
    return model === undefined ? this.store.get(dcname) : model.get(dcname)
  }

  async list(query: ListQuery): Promise<ListPage> {
    const model = await this.readable()
    return model === undefined ? this.store.list(query) : this.pages.list(model, query)
  }

  async close(): Promise<void> {
    this.closed = true
    this.unsubscribe?.()
    await this.store.close()
  }

  /**
   * The model, at once when it is current by construction, else once it caught up; undefined
   * while it is (re)loading: then the store answers reads itself, as it would without a model.
   */
  private readable(): ReadModel | undefined | Promise<ReadModel | undefined> {
    if (this.closed) throw new StoreUnavailableError(new Error('the store is closed'))
    if (this.model === undefined) return undefined
    if (this.options.consistency === 'synchronous') return this.model
    return this.consistent()
  }

  /** The model once it holds every write committed before the call (see the file's comment). */
  private async consistent(): Promise<ReadModel | undefined> {
    const started = performance.now()
    const round = this.rounds.join()
    try {
      const outcome = await round.settled
      return outcome === TIMED_OUT ? await this.rest(round, started) : outcome
    } finally {
      this.options.onWait?.((performance.now() - started) / 1000)
    }
  }

  /** The round's timer ran out for its first read; this one may have joined later and have time left. */
  private async rest(round: RevisionRound<ReadModel | undefined>, started: number): Promise<ReadModel | undefined> {
    const timeoutMs = this.options.waitTimeoutMs
    const left = started + timeoutMs - performance.now()
    const outcome = left > 0 ? await round.within(left) : TIMED_OUT
    if (outcome !== TIMED_OUT) return outcome
    throw new ReadModelBehindError(timeoutMs, round.target, this.model?.revision ?? 0)
  }

  /**
   * What the reads of a round get once the store answered `target`: the model when it is there,
   * at once or once it applied it; undefined while it (re)loads, and the store answers them.
   */
  private reached(target: number): ReadModel | undefined | Promise<ReadModel | undefined> {
    if (target > this.storeRevision) this.storeRevision = target
    const model = this.model
    if (model === undefined || model.revision >= target) return this.modelAt(target)
    return new Promise((resolve) =>
      this.waiters.push({ revision: target, resolve: () => resolve(this.modelAt(target)) }),
    )
  }

  /** A model loaded anew meanwhile (its feed was lost) may start before the target. */
  private modelAt(target: number): ReadModel | undefined {
    const model = this.model
    return model !== undefined && model.revision >= target ? model : undefined
  }

  private received(event: ChangeEvent): void {
    const model = this.model
    if (model === undefined) {
      this.buffered.push(event)
      return
    }
    model.apply(event)
    if (this.waiters.length > 0) this.wakeWaiters(model)
  }

  /** Revisions without an event (schema writes) passed: the model is current up to `revision`. */
  private progressed(revision: number): void {
    const model = this.model
    if (model === undefined) {
      this.bufferedProgress = Math.max(this.bufferedProgress, revision)
      return
    }
    model.advanceTo(revision)
    if (this.waiters.length > 0) this.wakeWaiters(model)
  }

  private wakeWaiters(model: ReadModel): void {
    const waiting = this.waiters
    this.waiters = []
    for (const waiter of waiting) {
      if (waiter.revision <= model.revision) waiter.resolve()
      else this.waiters.push(waiter)
    }
  }

  /**
   * Subscribes first, then lists everything page by page: events that commit meanwhile wait in
   * `buffered` and are applied on top (the model skips what a page already showed). Every key
   * reflects at least the first page's revision, so that is where the model starts.
   */
  private async load(): Promise<void> {
    const generation = ++this.generation
    for (;;) {
      this.model = undefined
      this.buffered = []
      this.bufferedProgress = 0
      this.unsubscribe?.()
      this.unsubscribe = this.store.subscribe(
        (event) => this.received(event),
        (error) => this.lost(error),
        (revision) => this.progressed(revision),
      )
      try {
        let model: ReadModel | undefined
        let after: string | undefined
        for (;;) {
          // Pages of a few thousand, each in a turn of the event loop of its own: requests are
          // served between them (by the store, until the model is loaded), and at start-up the
          // listener opens before the first.
          await new Promise((resolve) => setImmediate(resolve))
          const page = await this.store.list({ filters: [], limit: LOAD_PAGE, after })
          model ??= new ReadModel(page.revision)
          for (const item of page.items) model.load(item)
          after = page.items.at(-1)?.config.dcname
          if (!page.more || after === undefined) break
        }
        if (this.closed || generation !== this.generation) return
        const loaded = model as ReadModel
        for (const event of this.buffered) loaded.apply(event)
        loaded.advanceTo(this.bufferedProgress)
        this.buffered = []
        this.model = loaded
        this.wakeWaiters(loaded)
        return
      } catch (error) {
        if (this.closed || generation !== this.generation) return
        this.options.onReload?.(error instanceof Error ? error : new Error(String(error)))
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000))
      }
    }
  }

  /** The feed cannot deliver without a gap: what the model holds can no longer be trusted. */
  private lost(error: HistoryCompactedError): void {
    if (this.closed) return
    this.options.onReload?.(error)
    this.model = undefined
    this.loading = this.load()
    // Reads waiting for the old model are answered by the store until the new one is loaded.
    for (const waiter of this.waiters.splice(0)) waiter.resolve()
  }
}
