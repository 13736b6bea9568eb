/**
 * Writes of one replica queue here, one at a time: the database runs them one at a time anyway
 * (the counter row in `store_state`), and a crowd of transactions all waiting on that one row
 * lock hands it on more slowly than one per replica does (measured with 16 concurrent writers).
 * The queue wait counts against the statement timeout, so an overloaded replica still answers
 * 503 rather than hanging.
 */
import { StoreUnavailableError } from '../../configs/config-store.ts'

export class WriteQueue {
  /** The end of the queue: the last write queued, settled or not. */
  private tail: Promise<unknown> = Promise.resolve()

  /** `timeoutMs`: a write that waited this long in the queue gives up before it starts (0: never). */
  constructor(private readonly timeoutMs: number) {}

  /** Runs `write` once every write queued before it has settled. */
  run<T>(write: () => Promise<T>): Promise<T> {
    const queued = Date.now()
    const run = this.tail.then(async () => {
      if (this.timeoutMs > 0 && Date.now() - queued > this.timeoutMs) {
        throw new StoreUnavailableError(new Error(`waited over ${this.timeoutMs} ms for earlier writes`))
      }
      return write()
    })
    this.tail = run.catch(() => {})
    return run
  }
}
