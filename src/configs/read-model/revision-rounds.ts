/**
 * The waits of consistent reads (cached-store.ts, consistency `revision`), grouped in rounds.
 *
 * A round is one revision query and the reads that share it: a round takes reads until its
 * query is sent, never after, as an answer to a query sent before a read arrived may miss a
 * write acknowledged to that read's client just before. At most one query is out: a read that
 * arrives meanwhile joins the queued round, which is sent when that query answers.
 *
 * Everything a read waits for is the round's: the query, the wait until the model applied the
 * revision it answered, and one timer, armed for the first read that joined. Most reads thus
 * await one promise and nothing else. When the timer fires first, the reads that joined later
 * still have time left: only they arm timers of their own (`within`), for what is left of theirs.
 */

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

export class RevisionRounds<T> {
  private out: RevisionRound<T> | undefined
  private queued: RevisionRound<T> | undefined

  /**
   * `query` asks the store for its revision; `reached` waits until the model applied `target`
   * and gives what the round's reads get.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly query: () => Promise<number>,
    private readonly reached: (target: number) => T | Promise<T>,
  ) {}

  /** The round a read arriving now waits for: the queued one, else a new one (sent at once if none is out). */
  join(): RevisionRound<T> {
    if (this.queued) return this.queued
    const round = new RevisionRound<T>(this.timeoutMs)
    if (this.out) this.queued = round
    else this.send(round)
    return round
  }

  private send(round: RevisionRound<T>): void {
    this.out = round
    let answered: Promise<number>
    try {
      answered = this.query()
    } catch (error) {
      answered = Promise.reject(error)
    }
    const next = () => {
      if (this.out === round) this.out = undefined
      const queued = this.queued
      this.queued = undefined
      if (queued) this.send(queued)
    }
    answered.then(next, next)
    round.run(answered, this.reached)
  }
}
