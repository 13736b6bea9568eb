/**
 * When a store cannot make writes durable (its disk is full, fails reads or writes, or its file
 * became read-only), every write fails until that changes, while reads may still work: the
 * service answers writes 503 and reports not ready, instead of 500s or a silent 503.
 */
import { StoreUnavailableError } from './config-store.ts'

/** A write failed because it could not be made durable. `reason` names the cause, never data. */
export class WritesNotDurableError extends StoreUnavailableError {
  constructor(
    readonly reason: string,
    cause: unknown,
  ) {
    super(cause)
    this.message = `writes cannot be made durable: ${reason}`
    this.name = 'WritesNotDurableError'
  }
}
