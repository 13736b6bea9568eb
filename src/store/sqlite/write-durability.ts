/**
 * Whether this SQLite file can make writes durable now. A write whose transaction fails for a
 * cause of the disk (full, failing, read-only) starts an episode; the next transaction that
 * commits with no such failure in it ends it (a small write may still fit where a large one in
 * the same group commit did not: that is no end). Each start and end is told once, however many
 * writes fail meanwhile, so that the log names the cause once and readiness can say why the
 * service is not ready.
 */
import { WritesNotDurableError } from '../../configs/durability.ts'
import { durabilityProblem, unavailableOrRethrow } from './sqlite-errors.ts'

/** `problem` undefined: writes are durable again. */
export type DurabilityListener = (problem: string | undefined) => void

export class WriteDurability {
  #problem: string | undefined
  /** A write of the running transaction failed for a cause of the disk. */
  #failedInTransaction = false

  constructor(private readonly listener: DurabilityListener = () => {}) {}

  /** Why writes cannot be made durable now; undefined while they can. */
  get problem(): string | undefined {
    return this.#problem
  }

  /** A transaction begins. */
  begin(): void {
    this.#failedInTransaction = false
  }

  /** A write failed with `error`; returns what the writer is refused with. */
  failed(error: unknown): unknown {
    const problem = durabilityProblem(error)
    if (problem === undefined) return unavailableOrRethrow(error)
    this.#failedInTransaction = true
    if (this.#problem === undefined) {
      this.#problem = problem
      this.listener(problem)
    }
    return new WritesNotDurableError(problem, error)
  }

  /** A transaction committed: unless one of its writes failed for the disk, writes are durable now. */
  committed(): void {
    if (this.#problem === undefined || this.#failedInTransaction) return
    this.#problem = undefined
    this.listener(undefined)
  }
}
