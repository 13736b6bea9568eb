/**
 * The waits of consistent reads (cached-store.ts, consistency `revision`), grouped in rounds.
 *
 * A round is one revision query and the reads that share it: the reads that arrive in one turn
 * of the event loop, its query sent when that turn ends, never before a read that joins it
 * arrived: an answer to a query sent before a read arrived may miss a write acknowledged to that
 * read's client just before. Requests that arrive together (their sockets read in one turn)
 * thus share a query, and no read waits for a query sent before it arrived to answer first, as it
 * did when one query at a time was out (bench/README.md, "Consistent reads on PostgreSQL").
 *
 * Everything a read waits for is the round's: the query, the wait until the model applied the
 * revision it answered, and one timer, armed for the first read that joined. Most reads thus
 * await one promise and nothing else. When the timer fires first, the reads that joined later
 * still have time left: only they arm timers of their own (`within`), for what is left of theirs.
 */
import { setImmediate } from 'node:timers'

/** What `settled` gives when the round's timer fired before the round finished. */
export const TIMED_OUT = Symbol('timed out')

export class RevisionRound<T> {
  /** The revision the store answered; 0 until it did. */
  target = 0
  /** The round's outcome, or its failure, however long they take. */
  readonly finished: Promise<T>
  /** The first of: the outcome, the failure, or TIMED_OUT when the first read's wait ran out. */
  readonly settled: Promise<T | typeof TIMED_OUT>
  private finish!: (outcome: T | Promise<T>) => void

  constructor(timeoutMs: number) {
    this.finished = new Promise<T>((resolve) => {
      this.finish = resolve
    })
    this.settled = new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
      const timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs)
      this.finished.then(
        (outcome) => {
          clearTimeout(timer)
          resolve(outcome)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  /** For a read still in time after the round's timer fired: the outcome, or TIMED_OUT after `ms`. */
  within(ms: number): Promise<T | typeof TIMED_OUT> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), ms)
    })
    return Promise.race([this.finished, timeout]).finally(() => clearTimeout(timer))
  }

  /** Sends the round's query; `query` answers once it came back, and `finished` follows `outcome`. */
  run(query: Promise<number>, reached: (target: number) => T | Promise<T>): void {
    this.finish(
      query.then((target) => {
        this.target = target
        return reached(target)
      }),
    )
  }
}

/**
 * How many revision queries may be out at once. Each turn of the event loop with reads sends one;
 * when the store is slow to answer (a lock, a stalled network), rounds wait for a query to come
 * back instead, so that queries never pile up behind it, at most this many plus the queued round.
 */
export const MAX_QUERIES_OUT = 4

export class RevisionRounds<T> {
  private out = 0
  /** The round reads arriving now join; sent when this turn of the event loop ends. */
  private queued: RevisionRound<T> | undefined
  /** The queued round's turn ended while MAX_QUERIES_OUT were out: it goes when one answers. */
  private due = false

  /**
   * `query` asks the store for its revision; `reached` waits until the model applied `target`
   * and gives what the round's reads get.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly query: () => Promise<number>,
    private readonly reached: (target: number) => T | Promise<T>,
  ) {}

  /** The round a read arriving now waits for: the one sent when this turn of the event loop ends. */
  join(): RevisionRound<T> {
    if (this.queued) return this.queued
    const round = new RevisionRound<T>(this.timeoutMs)
    this.queued = round
    setImmediate(() => {
      if (this.out < MAX_QUERIES_OUT) this.sendQueued()
      else this.due = true
    })
    return round
  }

  private sendQueued(): void {
    const round = this.queued as RevisionRound<T>
    this.queued = undefined
    this.due = false
    this.out++
    let answered: Promise<number>
    try {
      answered = this.query()
    } catch (error) {
      answered = Promise.reject(error)
    }
    const next = () => {
      this.out--
      if (this.due) this.sendQueued()
    }
    answered.then(next, next)
    round.run(answered, this.reached)
  }
}
