/** What the store's operations refuse with, in the domain's words: the HTTP adapter maps each to a status. */

export class NotFoundError extends Error {
  /** `revision`: the config did not exist at that store revision (a rollback's target). */
  constructor(
    readonly dcname: string,
    readonly revision?: number,
  ) {
    super(
      revision === undefined
        ? `config ${JSON.stringify(dcname)} does not exist`
        : `config ${JSON.stringify(dcname)} did not exist at revision ${revision}`,
    )
    this.name = 'NotFoundError'
  }
}

export class ConflictError extends Error {
  constructor(readonly dcname: string) {
    super(`config ${JSON.stringify(dcname)} already exists`)
    this.name = 'ConflictError'
  }
}

export class PreconditionFailedError extends Error {
  constructor(
    readonly dcname: string,
    readonly currentRevision: number | undefined,
  ) {
    super(
      currentRevision === undefined
        ? `config ${JSON.stringify(dcname)} does not exist`
        : `config ${JSON.stringify(dcname)} is at revision ${currentRevision}`,
    )
    this.name = 'PreconditionFailedError'
  }
}

/** `since` is older than the kept history: the client must list again (410 Gone). */
export class HistoryCompactedError extends Error {
  constructor(
    readonly since: number,
    readonly oldestAvailable: number,
  ) {
    super(`revision ${since} is older than the kept history (replay is possible from revision ${oldestAvailable})`)
    this.name = 'HistoryCompactedError'
  }
}

/** `revision` is older than the kept history of this config (410 Gone). */
export class RevisionCompactedError extends Error {
  constructor(
    readonly dcname: string,
    readonly revision: number,
    /** The oldest revision of this config's history still kept. */
    readonly oldestKept: number,
  ) {
    super(
      `revision ${revision} of config ${JSON.stringify(dcname)} is older than its kept history (the oldest kept is ${oldestKept})`,
    )
    this.name = 'RevisionCompactedError'
  }
}

/** The store cannot be reached (database down, connection lost): a 503, not a 500. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the config store is unavailable', { cause })
    this.name = 'StoreUnavailableError'
  }
}
