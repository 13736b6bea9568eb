/**
 * The rules of reads and rollbacks at a store revision, the same on every backend: a backend
 * reads the facts (the store's newest revision, the config as it is now, its state then) and
 * these decide, as checkPrecondition does for the other writes.
 */
import { checkPrecondition, type Precondition } from './config-store.ts'

/**
 * A read or rollback at a revision the store has not reached: nothing is known of it yet. Read
 * as "the newest entry at or before it", it would answer the current state and a rollback would
 * write that again, so it is refused (400) instead.
 */
export class RevisionNotReachedError extends Error {
  constructor(
    readonly revision: number,
    readonly currentRevision: number,
  ) {
    super(`revision ${revision} is after the current revision ${currentRevision}`)
    this.name = 'RevisionNotReachedError'
  }
}

/** Throws unless the store has reached `revision` (its newest committed one is `currentRevision`). */
export function checkRevisionReached(revision: number, currentRevision: number): void {
  if (revision > currentRevision) throw new RevisionNotReachedError(revision, currentRevision)
}

export interface RollbackFacts {
  dcname: string
  /** The revision to roll back to. */
  revision: number
  /** The store's newest committed revision, read under the write lock before this write. */
  currentRevision: number
  /** The config's revision now; undefined when it does not exist (deleted). */
  configRevision: number | undefined
  precondition: Precondition
}

/**
 * What a backend checks under its write lock before it reads the past state: both may refuse.
 * What the rollback then writes, decideWrite (write-rules.ts) decides from that state.
 */
export function checkRollback(facts: RollbackFacts): void {
  checkRevisionReached(facts.revision, facts.currentRevision)
  checkPrecondition(facts.dcname, facts.configRevision, facts.precondition)
}
