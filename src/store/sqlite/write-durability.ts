/**
 * Whether this SQLite file can make writes durable now. A write whose transaction fails for a
 * cause of the disk (full, failing, read-only) starts an episode; the next commit that succeeds
 * ends it. Each start and end is told once, however many writes fail meanwhile, so that the log
 * names the cause once and readiness can say why the service is not ready.
 */
import { WritesNotDurableError } from '../../configs/durability.ts'
import { durabilityProblem, unavailableOrRethrow } from './sqlite-errors.ts'

/** `problem` undefined: writes are durable again. */
export type DurabilityListener = (problem: string | undefined) => void

export class WriteDurability {
  #problem: string | undefined

  constructor(private readonly listener: DurabilityListener = () => {}) {}

  /** Why writes cannot be made durable now; undefined while they can. */
  get problem(): string | undefined {
    return this.#problem
  }

  /** A write failed with `error`; returns what the writer is refused with. */
  failed(error: unknown): unknown {
    const problem = durabilityProblem(error)
    if (problem === undefined) return unavailableOrRethrow(error)
    if (this.#problem === undefined) {
      this.#problem = problem
      this.listener(problem)
    }
    return new WritesNotDurableError(problem, error)
  }

  /** A transaction committed: whatever the disk did before, writes are durable now. */
  committed(): void {
    if (this.#problem === undefined) return
    this.#problem = undefined
    this.listener(undefined)
  }
}
